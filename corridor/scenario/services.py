"""The scenario engine's view of the running corridor: set-up and batched payments over gRPC.

The simulator is a client like any other: it obtains a credential for each actor it plays
(corridor.security.credentials) — the central bank of each jurisdiction registers operators and
issues, operator `bank-a` opens and funds wallets and sends each step's CBDC payments for its
holders as CrossBorderPayBatch calls (several in flight at once), each liquidity provider funds
its own inventory on the bridge. With security off the same calls carry only the legacy
`x-corridor-caller` header.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import numpy as np

from corridor import telemetry
from corridor.errors import error_details
from corridor.scenario.demand import PaymentBatch
from corridor.scenario.schema import KIND_NAMES, Scenario
from corridor.security.credentials import metadata_for
from corridor.server import channel
from corridor.v1 import (
    bridge_pb2,
    bridge_pb2_grpc,
    ledger_pb2,
    ledger_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
)


def simulator() -> tuple[tuple[str, str], ...]:
    """The simulator's own credential (set-up reads; never moves money)."""
    return metadata_for("simulator", "engine")


def central_bank(code: str) -> tuple[tuple[str, str], ...]:
    return metadata_for("central_bank", f"cb-{code.lower()}", code)


def operator(codes: str) -> tuple[tuple[str, str], ...]:
    """Operator bank-a, authorised in each of `codes` ("CN" or "CN,HK,TH")."""
    return metadata_for("operator", OPERATOR, codes)


def liquidity_provider(name: str) -> tuple[tuple[str, str], ...]:
    return metadata_for("liquidity_provider", name)


LP_NAMES = ("lp-hk-1", "lp-cn-1", "lp-ae-1")
OPERATOR = "bank-a"
CORPORATE_FUNDING_MAJOR = 100_000_000  # each corporate (tier 1) wallet starts with 100m units
PERSONAL_FUNDING_SHARE = 0.4  # personal (tier 2) wallets start at 40% of their balance cap
LP_FUNDING_USD = 2_000_000_000  # each LP brings US$2bn of each CBDC onto the platform


class CorridorClient:
    def __init__(
        self, endpoints: dict[str, str], codes: list[str], currencies: list[str], tag: str
    ) -> None:
        self.endpoints = endpoints
        self.codes = codes
        self.currencies = currencies
        self.tag = tag
        self.channels = {name: channel(target) for name, target in endpoints.items()}
        self.bridge = bridge_pb2_grpc.BridgeStub(self.channels["bridge"])
        self.liquidity_locked_usd_minor = 0

    async def close(self) -> None:
        for ch in self.channels.values():
            await ch.close()

    # ------------------------------------------------------------------ set-up
    async def setup(self, s: Scenario, cap: int) -> dict[str, tuple[list[str], list[str]]]:
        from bridge.fx import mid_rate

        wallets: dict[str, tuple[list[str], list[str]]] = {}
        for j in s.jurisdictions:
            code = j.code
            ch = self.channels[code.lower()]
            cb = node_pb2_grpc.CentralBankStub(ch)
            wl = node_pb2_grpc.WalletsStub(ch)
            ledger = ledger_pb2_grpc.LedgerStub(ch)
            policy = await cb.GetPolicy(node_pb2.GetPolicyRequest(), metadata=simulator())
            tier2 = next(t for t in policy.tiers if t.tier == 2)
            n_corp = max(1, min(j.corporate_wallets, cap // 10))
            n_pers = max(1, min(j.wallets - j.corporate_wallets, cap - n_corp))
            unit = 100  # minor units per major unit for every currency here (MINOR_UNITS = 2)
            corp_fund = CORPORATE_FUNDING_MAJOR * unit
            pers_fund = int(tier2.balance_max_minor * PERSONAL_FUNDING_SHARE)
            lp_fund, _ = mid_rate("USD", j.currency).convert(LP_FUNDING_USD * 100)
            for op in (OPERATOR, *LP_NAMES):
                await cb.RegisterOperator(
                    node_pb2.RegisterOperatorRequest(operator_id=op), metadata=central_bank(code)
                )
            need = n_corp * corp_fund + n_pers * pers_fund
            await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"{self.tag}-issue", operator_id=OPERATOR,
                                                 amount_minor=need + 2 * lp_fund, currency=j.currency), metadata=central_bank(code))  # fmt: skip
            for lp in LP_NAMES:
                await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"{self.tag}-issue-{lp}", operator_id=lp,
                                                     amount_minor=lp_fund, currency=j.currency), metadata=central_bank(code))  # fmt: skip
            corp = await self._open(wl, code, "c", n_corp, kind=2, tier=1)
            pers = await self._open(wl, code, "p", n_pers, kind=1, tier=2)
            await self._fund(ledger, code, j.currency, corp, corp_fund)
            await self._fund(ledger, code, j.currency, pers, pers_fund)
            wallets[code] = (corp, pers)
            for lp in LP_NAMES:
                await self.bridge.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"{self.tag}-fund-{lp}-{code}", liquidity_provider=lp, jurisdiction=code,
                    amount_minor=lp_fund, currency=j.currency), metadata=liquidity_provider(lp))  # fmt: skip
                self.liquidity_locked_usd_minor += LP_FUNDING_USD * 100
        await self._fund_pools(s)
        return wallets

    async def _fund_pools(self, s: Scenario) -> None:
        from bridge.fx import mid_rate

        market = await self.bridge.GetFxMarket(
            bridge_pb2.GetFxMarketRequest(), metadata=simulator()
        )
        cur_to_code = {j.currency: j.code for j in s.jurisdictions}
        for pool in market.pools:
            for cur in pool.pair.split("/"):
                code = cur_to_code.get(cur)
                if code is None:
                    continue
                amount, _ = mid_rate("USD", cur).convert(LP_FUNDING_USD * 100 // 2)
                await self.bridge.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"{self.tag}-pool-{pool.pair}-{cur}", liquidity_provider=f"amm:{pool.pair}:{OPERATOR}",
                    jurisdiction=code, amount_minor=amount, currency=cur), metadata=operator(code))  # fmt: skip
                self.liquidity_locked_usd_minor += LP_FUNDING_USD * 100 // 2

    async def _open(
        self, wl: Any, code: str, prefix: str, n: int, kind: int, tier: int
    ) -> list[str]:
        ids: list[str] = []
        for start in range(0, n, 10_000):
            reqs = [
                node_pb2.OpenWalletRequest(idempotency_key=f"{self.tag}-{prefix}{i}", operator_id=OPERATOR,
                                           kind=kind, tier=tier, holder_name=f"synthetic holder {code}-{prefix}{i}")
                for i in range(start, min(n, start + 10_000))
            ]  # fmt: skip
            resp = await wl.OpenWallets(
                node_pb2.OpenWalletsRequest(wallets=reqs), metadata=operator(code)
            )
            ids.extend(resp.wallet_ids)
        return ids

    async def _fund(
        self, ledger: Any, code: str, currency: str, wallets: list[str], amount: int
    ) -> None:
        src = f"{code.lower()}.op.{OPERATOR}"
        for start in range(0, len(wallets), 8000):
            chunk = wallets[start : start + 8000]
            req = ledger_pb2.CreateTransfersRequest(transfers=[
                ledger_pb2.Transfer(id=f"fund-{w}", debit_account_id=src, credit_account_id=w, amount_minor=amount,
                                    currency=currency, kind="load") for w in chunk])  # fmt: skip
            resp = await ledger.CreateTransfers(req, metadata=operator(code))
            bad = [r for r in resp.results if r.code not in (ledger_pb2.OK, ledger_pb2.EXISTS)]
            if bad:
                raise RuntimeError(
                    f"funding wallets on {code} failed: {ledger_pb2.TransferCode.Name(bad[0].code)}"
                )

    # ------------------------------------------------------------------ payments
    def requests(
        self, b: PaymentBatch, wallets: dict[str, tuple[list[str], list[str]]], s: Scenario
    ) -> list[Any]:
        start_us = s.start_at_us
        at_us = b.created_at_us(start_us)
        reqs = []
        corp_counts = [j.corporate_wallets for j in s.jurisdictions]
        for i in range(len(b)):
            fj, tj = int(b.from_j[i]), int(b.to_j[i])
            payer = _wallet(wallets[self.codes[fj]], int(b.payer[i]), corp_counts[fj])
            payee = _wallet(wallets[self.codes[tj]], int(b.payee[i]), corp_counts[tj])
            reqs.append(bridge_pb2.CrossBorderPayRequest(
                idempotency_key=f"{self.tag}-{int(b.payment_id[i])}", payer_jurisdiction=self.codes[fj],
                payer_wallet_id=payer, payee_jurisdiction=self.codes[tj], payee_wallet_id=payee,
                amount_minor=int(b.amount_minor[i]), currency=self.currencies[fj],
                purpose=KIND_NAMES[int(b.kind[i])], business_at_us=int(at_us[i])))  # fmt: skip
        return reqs

    async def pay_all(
        self, reqs: list[Any], traced: list[int], batch: int, in_flight: int
    ) -> tuple[list[Any], np.ndarray]:
        """Settle every request; returns receipts in order and each payment's latency (s)."""
        receipts: list[Any] = [None] * len(reqs)
        latency = np.zeros(len(reqs))
        payer = operator(",".join(self.codes))  # bank-a pays for its holders
        sem = asyncio.Semaphore(in_flight)
        traced_set = set(traced)

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            tracer = telemetry.tracer("corridor.simulate")
            with tracer.start_as_current_span("cross-border payment") as span:
                r = reqs[i]
                span.set_attribute(
                    "corridor.corridor", f"{r.payer_jurisdiction}-{r.payee_jurisdiction}"
                )
                span.set_attribute("corridor.rail", "cbdc")
                span.set_attribute("corridor.amount_minor", r.amount_minor)
                span.set_attribute("corridor.currency", r.currency)
                try:
                    rec = await with_backoff(
                        lambda: self.bridge.CrossBorderPay(
                            r, metadata=telemetry.outgoing_metadata(payer)
                        )
                    )
                except grpc.aio.AioRpcError as e:
                    d = error_details(e)
                    rec = bridge_pb2.PaymentReceipt(payment_id=d.metadata.get("payment_id", ""), status=5,
                                                    reason=d.reason or e.code().name, currency=r.currency)  # fmt: skip
                span.set_attribute("corridor.payment_id", rec.payment_id)
            receipts[i] = rec
            latency[i] = time.perf_counter() - t0

        async def chunk(idx: list[int]) -> None:
            async with sem:
                t0 = time.perf_counter()
                batch_req = bridge_pb2.CrossBorderPayBatchRequest(payments=[reqs[i] for i in idx])
                resp = await with_backoff(
                    lambda: self.bridge.CrossBorderPayBatch(batch_req, metadata=payer)
                )
                dt = time.perf_counter() - t0
                for i, rec in zip(idx, resp.receipts, strict=True):
                    receipts[i] = rec
                    latency[i] = dt

        rest = [i for i in range(len(reqs)) if i not in traced_set]
        await asyncio.gather(*(one(i) for i in traced),
                             *(chunk(rest[k : k + batch]) for k in range(0, len(rest), batch)))  # fmt: skip
        return receipts, latency


async def with_backoff(call: Any, attempts: int = 200) -> Any:
    """Call; on RESOURCE_EXHAUSTED wait the server's RetryInfo delay and call again with the same
    request (same idempotency keys: a retry can never pay twice). Shedding is the service's
    backpressure, not a failure of the payments."""
    for _ in range(attempts - 1):
        try:
            return await call()
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            await asyncio.sleep(max(0.02, min(2.0, error_details(e).retry_after_s or 0.1)))
    return await call()


def _wallet(pools: tuple[list[str], list[str]], index: int, corporate: int) -> str:
    """Map the demand model's wallet index onto the opened population (corporate first)."""
    corp, pers = pools
    if index < corporate:
        return corp[index % len(corp)]
    return pers[(index - corporate) % len(pers)]
