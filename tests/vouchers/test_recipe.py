"""docs/recipes/voucher-escrow.md, run: the ledger must hold exactly the recipe's transfer table."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from services.vouchers.conditions import Merchant, Party
from services.vouchers.invariants import check_voucher_invariants
from services.vouchers.service import Redemption, VoucherService, at_us
from services.vouchers.templates import consumption_voucher
from tests.vouchers.helpers import facts

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "voucher-escrow.md"
START = dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC)
END_OF_MONTH = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def recipe_rows() -> list[tuple[str, str, str, int, str]]:
    text = RECIPE.read_text()
    block = text.split("<!-- recipe-transfers:begin -->")[1].split("<!-- recipe-transfers:end -->")[
        0
    ]
    rows = []
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        _, tid, debit, credit, amount, kind = cells
        rows.append((tid, debit, credit, int(amount), kind))
    return rows


async def test_the_recipe_story_produces_the_recipe_table(vouchers: VoucherService) -> None:
    await vouchers.deposit("gov-sz", "CNY", 20_000, "budget")
    program = consumption_voucher(
        program_id="sz-spring",
        funder_id="gov-sz",
        amount_minor=20_000,
        merchant_categories=["5411"],
        regions=["4403"],
        expires_at=END_OF_MONTH,
    )
    await vouchers.issue(program, "sz-spring", at_us(START))
    grocery, lottery = (
        Merchant("m-grocery", "5411", "440303"),
        Merchant("m-lottery", "7995", "440303"),
    )

    def pay(key: str, merchant: Merchant, amount: int) -> Redemption:
        payee = Party(merchant.id, 2)
        return Redemption(
            "sz-spring",
            key,
            facts(amount_minor=amount, merchant=merchant, payee=payee, business_at=START),
        )

    assert (await vouchers.redeem(pay("pos-1", grocery, 8_000))).settled
    refused = await vouchers.redeem(pay("pos-2", lottery, 1_000))
    assert refused.failed_clause == "merchant_category"
    assert (await vouchers.redeem(pay("pos-3", grocery, 5_000))).settled
    await vouchers.expire_due(at_us(END_OF_MONTH))

    rows = await vouchers.engine.postings(0, 100)
    ledger = [
        (r["id"], r["debit_account_id"], r["credit_account_id"], r["amount"], r["kind"])
        for r in rows
    ]
    assert ledger == recipe_rows()
    assert await check_voucher_invariants(vouchers.engine.dsn) == []
    condition = {name: cel for name, cel, _ in (await vouchers.get_program("sz-spring")).clauses}
    documented = re.findall(r"\| `(\w+)`\s+\| `(.+?)`\s+\|", RECIPE.read_text())
    assert {name: cel for name, cel in documented if name in condition} == condition
