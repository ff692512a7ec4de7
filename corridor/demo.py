"""`make demo`: the main job end to end on the embedded default.

When the scenario engine is present this runs `corridor simulate --scenario dollar-contagion`
and prints where the results and briefing are. The node walk-through below (issuance, wallets,
payments, a final balance table) runs first, so a newcomer sees the parts move.
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from corridor import pg
from corridor.config import JURISDICTIONS
from corridor.fleet import Fleet
from corridor.money import format_minor
from corridor.scenario.services import central_bank, operator
from corridor.server import channel
from corridor.v1 import node_pb2, node_pb2_grpc


async def walk_through(endpoints: dict[str, str], out: Console) -> list[tuple[str, str, int]]:
    """Issue to an operator on every node, open wallets, pay; returns (node, wallet, balance) rows.
    Each step is done by the actor allowed to do it: the central bank registers its operator and
    issues; operator bank-a opens wallets and pays for its holders (signed credentials)."""
    rows: list[tuple[str, str, int]] = []
    for code, j in JURISDICTIONS.items():
        cb_md, op_md = central_bank(code), operator(code)
        async with channel(endpoints[code.lower()]) as ch:
            cb = node_pb2_grpc.CentralBankStub(ch)
            wl = node_pb2_grpc.WalletsStub(ch)
            await cb.RegisterOperator(
                node_pb2.RegisterOperatorRequest(operator_id="bank-a", name="Operator A"),
                metadata=cb_md,
            )
            await cb.Issue(node_pb2.IssueRequest(idempotency_key="demo-issue", operator_id="bank-a",
                                                 amount_minor=100_000_000, currency=j.currency),
                           metadata=cb_md)  # fmt: skip
            wallets = []
            for who, tier in (("alice", 2), ("bob", 3), ("shop", 1)):
                w = await wl.OpenWallet(node_pb2.OpenWalletRequest(
                    idempotency_key=f"demo-{who}", operator_id="bank-a", kind=3 if who == "shop" else 1,
                    tier=tier, holder_name=f"{who} ({code})"), metadata=op_md)  # fmt: skip
                wallets.append(w.wallet_id)
            await wl.LoadWallet(node_pb2.LoadWalletRequest(idempotency_key="demo-load", wallet_id=wallets[0],
                                                           amount_minor=1_000_000, currency=j.currency),
                                metadata=op_md)  # fmt: skip
            await wl.PayBatch(node_pb2.PayBatchRequest(payments=[
                node_pb2.PayRequest(idempotency_key="demo-p1", from_wallet_id=wallets[0], to_wallet_id=wallets[1],
                                    amount_minor=250_000, currency=j.currency),
                node_pb2.PayRequest(idempotency_key="demo-p2", from_wallet_id=wallets[1], to_wallet_id=wallets[2],
                                    amount_minor=120_000, currency=j.currency, kind="merchant"),
            ]), metadata=op_md)  # fmt: skip
            for w in wallets:
                view = await wl.GetWallet(node_pb2.GetWalletRequest(wallet_id=w), metadata=op_md)
                rows.append((code, w, view.balance.posted_minor))
    return rows


def run_demo(state: Path, console: Console, out: Console) -> int:
    from corridor.cli import available_services

    url = pg.server_url(state)
    names = [
        n for n in available_services() if n in {j.lower() for j in JURISDICTIONS} or n == "bridge"
    ]
    # The walk-through gets its own databases so re-running the demo starts clean.
    fleet = Fleet.plan(state, url, names)
    with console.status("starting the central-bank nodes as local processes..."):
        fleet.start()
    console.print(
        f"security: {fleet.security.mode} (mTLS + signed credentials unless `corridor --insecure`)"
    )
    try:
        rows = asyncio.run(walk_through(fleet.endpoints(), out))
    finally:
        fleet.stop()
    t = Table(title="Node walk-through: issuance -> operator -> wallets -> payments")
    for col in ("node", "wallet (pseudonymous)", "balance"):
        t.add_column(col)
    for code, w, bal in rows:
        t.add_row(code, w, format_minor(bal, JURISDICTIONS[code].currency))
    out.print(t)
    try:
        scenario_cli = importlib.import_module("corridor.scenario.cli")
    except ImportError:
        out.print("[yellow]scenario engine not present in this checkout; walk-through only[/]")
        return 0
    return int(scenario_cli.run_simulate_for_demo(state, console, out))
