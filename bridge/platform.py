"""The bridge platform: where a cross-border payment is settled.

A payment from a CN wallet (e-CNY) to an HK wallet (e-HKD) becomes five legs on three ledgers —
no transfer ever crosses currencies; FX is linked transfers through a liquidity provider:

  ledger  debit                     credit                      amount
  CN      payer wallet              cn.bridge (CNY on platform)  amount          pending
  BRIDGE  bridge.CNY.issuance       bridge.CNY.lp.<LP>           amount - fee    pending, linked
  BRIDGE  bridge.CNY.issuance       bridge.CNY.fees              fee             pending, linked
  BRIDGE  bridge.HKD.lp.<LP>        bridge.HKD.issuance          payout          pending
  HK      hk.bridge                 payee wallet                 payout          pending

then all posted or all voided by the PvPCoordinator. Cross-ledger invariant per currency X:
node X's `x.bridge` balance = the bridge's outstanding X (`bridge.X.issuance` debit balance).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bridge.fx import AmmPool, FxDesk, FxQuote, LiquidityProvider, mid_rate, spread_cost_minor
from bridge.pvp import Intent, Leg, PvPCoordinator
from corridor import telemetry
from corridor.config import JURISDICTIONS
from corridor.errors import CorridorError, exhausted, invalid, precondition
from corridor.money import MINOR_UNITS
from corridor.server import channel
from corridor.v1 import bridge_pb2, ledger_pb2, ledger_pb2_grpc
from services.ledger.engine import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountSpec,
    C,
    LedgerEngine,
    TransferSpec,
)
from services.ledger.servicer import reasons_with_fields

POLICY_FILE = Path(__file__).with_name("policy.yaml")

# Why a leg was refused, in words a payer understands: (reason, field).
LEG_REASONS = reasons_with_fields("payer_wallet_id", "payee_wallet_id")


@dataclass
class OperatingRules:
    """Operating rules as policy data (bridge/policy.yaml)."""

    fee_bps: int
    pending_timeout_s: int
    quote_ttl_s: float
    max_per_payment_minor: dict[str, int]
    eod_sweep_foreign: dict[str, bool]
    amm_pairs: set[str]
    providers: list[dict[str, Any]] = field(default_factory=list)
    operating_hours: str = "24/7"

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> OperatingRules:
        doc = yaml.safe_load(path.read_text())
        js = doc["jurisdictions"]
        return cls(
            fee_bps=int(doc["fee_bps"]),
            # CORRIDOR_PVP_TIMEOUT_S: tests shorten how long a node holds a PvP leg.
            pending_timeout_s=int(
                os.environ.get("CORRIDOR_PVP_TIMEOUT_S") or doc["pending_timeout_s"]
            ),
            quote_ttl_s=float(doc["quote_ttl_s"]),
            max_per_payment_minor={
                j: int(
                    Decimal(str(v["max_per_payment"]))
                    * 10 ** MINOR_UNITS[JURISDICTIONS[j].currency]
                )
                for j, v in js.items()
            },
            eod_sweep_foreign={j: bool(v.get("eod_sweep_foreign", False)) for j, v in js.items()},
            amm_pairs=set(doc.get("amm_pairs", [])),
            providers=list(doc.get("liquidity_providers", [])),
            operating_hours=str(doc.get("operating_hours", "24/7")),
        )


class LocalLedger:
    """The bridge's own ledger as a PvP participant (no network hop)."""

    def __init__(self, engine: LedgerEngine) -> None:
        self.name = "BRIDGE"
        self.engine = engine

    async def submit(self, specs):  # type: ignore[no-untyped-def]
        return [r.code for r in await self.engine.submit(specs)]


class RemoteLedger:
    """A central-bank node's Ledger service as a PvP participant."""

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self.target = target
        self._channel = channel(target)
        self.stub = ledger_pb2_grpc.LedgerStub(self._channel)

    async def submit(self, specs):  # type: ignore[no-untyped-def]
        codes: list[int] = []
        for start in range(0, len(specs), 8000):
            chunk = specs[start : start + 8000]
            req = ledger_pb2.CreateTransfersRequest(transfers=[_spec_pb(s) for s in chunk])
            md = telemetry.outgoing_metadata((("x-corridor-caller", "bridge:pvp"),))
            resp = await self.stub.CreateTransfers(req, timeout=30, metadata=md)
            codes.extend(r.code for r in resp.results)
        return codes

    async def close(self) -> None:
        await self._channel.close()


def _spec_pb(s: TransferSpec) -> ledger_pb2.Transfer:
    return ledger_pb2.Transfer(
        id=s.id, debit_account_id=s.debit_account_id, credit_account_id=s.credit_account_id,
        amount_minor=s.amount_minor, currency=s.currency, linked=s.linked, pending=s.pending,
        timeout_s=s.timeout_s, post_pending_id=s.post_pending_id, void_pending_id=s.void_pending_id,
        kind=s.kind, payment_id=s.payment_id, business_at_us=s.business_at_us,
    )  # fmt: skip


def _receipt_from_row(r: Any) -> bridge_pb2.PaymentReceipt:
    """A payment's receipt as the decision log has it now (status from the log's state)."""
    rec = bridge_pb2.PaymentReceipt()
    if r["receipt"]:
        rec.ParseFromString(r["receipt"])
    rec.payment_id = r["payment_id"]
    rec.status = r["state"]
    rec.reason = r["reason"]
    rec.created_at_us = rec.created_at_us or r["created_at_us"]
    rec.decided_at_us = r["decided_at_us"]
    rec.settled_at_us = r["settled_at_us"]
    return rec


def node_targets() -> dict[str, str]:
    """CORRIDOR_NODES="CN=127.0.0.1:50051,HK=..." (defaults to the standard local ports)."""
    raw = os.environ.get("CORRIDOR_NODES", "")
    out = {code: f"127.0.0.1:{j.default_port}" for code, j in JURISDICTIONS.items()}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        k, _, v = part.partition("=")
        out[k.strip().upper()] = v.strip()
    return out


def payment_id_for(key: str, prefix: str = "xb") -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class BridgePlatform:
    def __init__(
        self, engine: LedgerEngine, rules: OperatingRules, participants: dict[str, Any]
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.participants = participants
        self.desk = FxDesk([], [], rules.amm_pairs, rules.fee_bps, rules.quote_ttl_s)
        self.coordinator = PvPCoordinator(engine.pool, participants, self._reason_of)
        self._pending: dict[str, Any] = {}

    # ---------------------------------------------------------------- set-up
    async def open_accounts(self) -> None:
        specs = []
        for j in JURISDICTIONS.values():
            cur = j.currency
            specs.append(
                AccountSpec(
                    f"bridge.{cur}.issuance", cur, "issuance", CREDITS_MUST_NOT_EXCEED_DEBITS
                )
            )
            specs.append(
                AccountSpec(f"bridge.{cur}.fees", cur, "fee", DEBITS_MUST_NOT_EXCEED_CREDITS)
            )
            for p in self.rules.providers:
                specs.append(
                    AccountSpec(
                        self.lp_account(p["name"], cur), cur, "lp", DEBITS_MUST_NOT_EXCEED_CREDITS
                    )
                )
        for pair in self.rules.amm_pairs:
            base, quote = pair.split("/")
            for cur in (base, quote):
                specs.append(
                    AccountSpec(
                        self.pool_account(pair, cur), cur, "amm", DEBITS_MUST_NOT_EXCEED_CREDITS
                    )
                )
        await self.engine.create_accounts(specs)
        await self.refresh_liquidity()

    async def refresh_liquidity(self) -> None:
        """Load LP inventory and pool reserves from the bridge ledger (the truth)."""
        rows = await self.engine.lookup_accounts(
            [
                self.lp_account(p["name"], j.currency)
                for p in self.rules.providers
                for j in JURISDICTIONS.values()
            ]
            + [self.pool_account(pair, c) for pair in self.rules.amm_pairs for c in pair.split("/")]
        )
        bal = {r["id"]: r["available"] for r in rows}
        providers = []
        for p in self.rules.providers:
            inv = {
                j.currency: bal.get(self.lp_account(p["name"], j.currency), 0)
                for j in JURISDICTIONS.values()
            }
            providers.append(
                LiquidityProvider(
                    p["name"], int(p["spread_bps"]), int(p["skew_bps"]), inv, dict(inv)
                )
            )
        pools = []
        for pair in self.rules.amm_pairs:
            base, quote = pair.split("/")
            pools.append(AmmPool(base, quote, bal.get(self.pool_account(pair, base), 0),
                                 bal.get(self.pool_account(pair, quote), 0), int(self.rules.fee_bps)))  # fmt: skip
        old = self.desk
        self.desk = FxDesk(
            providers, pools, self.rules.amm_pairs, self.rules.fee_bps, self.rules.quote_ttl_s
        )
        self.desk._quotes = old._quotes

    @staticmethod
    def lp_account(name: str, currency: str) -> str:
        return f"bridge.{currency}.lp.{name}"

    @staticmethod
    def pool_account(pair: str, currency: str) -> str:
        return f"bridge.{currency}.amm.{pair.replace('/', '')}"

    def _reason_of(self, it: Intent, k: int, code: int) -> tuple[str, str]:
        leg = it.legs[k]
        if leg.ledger == "BRIDGE" and code in (C.EXCEEDS_CREDITS,):
            return "LP_LIQUIDITY_INSUFFICIENT", "amount_minor"
        if it.kind != "xborder" and code == C.EXCEEDS_CREDITS:
            return "OPERATOR_RESERVE_INSUFFICIENT", "amount_minor"
        if code in LEG_REASONS:
            return LEG_REASONS[code]
        return C(code).name, ""

    # ---------------------------------------------------------------- quotes
    def quote(self, from_cur: str, to_cur: str, amount: int) -> FxQuote:
        if from_cur not in MINOR_UNITS or from_cur == "USD":
            raise invalid("from_currency", f"unsupported currency {from_cur!r}", "UNSUPPORTED_PAIR")
        if to_cur not in MINOR_UNITS or to_cur == "USD":
            raise invalid("to_currency", f"unsupported currency {to_cur!r}", "UNSUPPORTED_PAIR")
        if from_cur == to_cur:
            raise invalid("to_currency", "a cross-currency pair is needed", "UNSUPPORTED_PAIR")
        if amount <= 0:
            raise invalid("amount_minor", f"must be > 0 (got {amount})")
        q = self.desk.price(from_cur, to_cur, amount)
        if q is None:
            raise precondition(
                "LP_LIQUIDITY_INSUFFICIENT",
                f"no liquidity to buy {to_cur} for this amount",
                "amount_minor",
            )
        return self.desk.remember(q)

    # ---------------------------------------------------------------- payments
    def build_payment(
        self, r: bridge_pb2.CrossBorderPayRequest, prefix: str = ""
    ) -> tuple[Intent, FxQuote]:
        """Validate a request and turn it into an Intent (raises CorridorError naming the field)."""
        if not r.idempotency_key:
            raise invalid(f"{prefix}idempotency_key", "must not be empty")
        pj, qj = r.payer_jurisdiction.upper(), r.payee_jurisdiction.upper()
        if pj not in JURISDICTIONS:
            raise invalid(
                f"{prefix}payer_jurisdiction", f"unknown jurisdiction {r.payer_jurisdiction!r}"
            )
        if qj not in JURISDICTIONS:
            raise invalid(
                f"{prefix}payee_jurisdiction", f"unknown jurisdiction {r.payee_jurisdiction!r}"
            )
        if pj == qj:
            raise invalid(
                f"{prefix}payee_jurisdiction",
                "same jurisdiction: use Wallets.Pay",
                "UNSUPPORTED_PAIR",
            )
        x, y = JURISDICTIONS[pj].currency, JURISDICTIONS[qj].currency
        if r.currency != x:
            raise invalid(f"{prefix}currency", f"a payer on {pj} pays in {x}, not {r.currency!r}")
        if r.amount_minor <= 0:
            raise invalid(f"{prefix}amount_minor", f"must be > 0 (got {r.amount_minor})")
        for fname, j in (("payer_wallet_id", pj), ("payee_wallet_id", qj)):
            w = getattr(r, fname)
            if not w.startswith(f"{j.lower()}.w."):
                raise invalid(f"{prefix}{fname}", f"{w!r} is not a wallet of {j}")
        cap = self.rules.max_per_payment_minor.get(pj, 0)
        if cap and r.amount_minor > cap:
            raise precondition(
                "CROSS_BORDER_LIMIT",
                f"{pj} caps a cross-border payment at {cap} minor units",
                f"{prefix}amount_minor",
            )
        if r.max_slippage_bps < 0:
            raise invalid(f"{prefix}max_slippage_bps", "must not be negative")
        if r.quote_id:
            q = self.desk.recall(r.quote_id)
            if q is None:
                raise precondition(
                    "QUOTE_UNKNOWN",
                    "no such quote (quotes live seconds; request a new one)",
                    f"{prefix}quote_id",
                )
            if q.expires_at_us < time.time_ns() // 1000:
                raise precondition(
                    "QUOTE_EXPIRED", "the quote has expired; request a new one", f"{prefix}quote_id"
                )
            if (q.base, q.quote, q.amount_minor) != (x, y, r.amount_minor):
                raise invalid(f"{prefix}quote_id", "the quote is for another pair or amount")
        else:
            q = self.desk.price(x, y, r.amount_minor)
            if q is None:
                raise precondition(
                    "LP_LIQUIDITY_INSUFFICIENT",
                    f"no liquidity provider can deliver {y} for this amount",
                    f"{prefix}amount_minor",
                )
            if r.max_slippage_bps and q.slippage_bps > r.max_slippage_bps:
                raise precondition(
                    "SLIPPAGE_EXCEEDED",
                    f"price impact {q.slippage_bps:.1f} bps > {r.max_slippage_bps}",
                    f"{prefix}max_slippage_bps",
                )
        pid = payment_id_for(r.idempotency_key)
        t = self.rules.pending_timeout_s
        at = r.business_at_us
        net = r.amount_minor - q.fee_minor
        x_acc = (
            self.pool_account(q.provider[4:], x) if q.mode == 2 else self.lp_account(q.provider, x)
        )
        y_acc = (
            self.pool_account(q.provider[4:], y) if q.mode == 2 else self.lp_account(q.provider, y)
        )
        legs = [
            Leg(pj, TransferSpec(f"{pid}:0", r.payer_wallet_id, f"{pj.lower()}.bridge", r.amount_minor, x,
                                 timeout_s=t, kind="pvp", payment_id=pid, business_at_us=at)),
            Leg("BRIDGE", TransferSpec(f"{pid}:1", f"bridge.{x}.issuance", x_acc, net, x, kind="pvp",
                                       payment_id=pid, business_at_us=at)),
        ]  # fmt: skip
        if q.fee_minor:
            legs.append(Leg("BRIDGE", TransferSpec(f"{pid}:2", f"bridge.{x}.issuance", f"bridge.{x}.fees",
                                                   q.fee_minor, x, kind="pvp", payment_id=pid, business_at_us=at)))  # fmt: skip
        legs += [
            Leg("BRIDGE", TransferSpec(f"{pid}:3", y_acc, f"bridge.{y}.issuance", q.payee_amount_minor, y,
                                       kind="pvp", payment_id=pid, business_at_us=at)),
            Leg(qj, TransferSpec(f"{pid}:4", f"{qj.lower()}.bridge", r.payee_wallet_id, q.payee_amount_minor, y,
                                 timeout_s=t, kind="pvp", payment_id=pid, business_at_us=at)),
        ]  # fmt: skip
        cost = q.fee_minor + spread_cost_minor(q)
        receipt = bridge_pb2.PaymentReceipt(
            payment_id=pid, status=1, payer_jurisdiction=pj, payee_jurisdiction=qj,
            amount_minor=r.amount_minor, currency=x, payee_amount_minor=q.payee_amount_minor,
            payee_currency=y, rate=str(q.rate.decimal(8)), mid_rate=str(q.mid.decimal(8)),
            fee_minor=q.fee_minor, total_cost_minor=cost, total_cost_bps=cost * 10_000 / r.amount_minor,
            created_at_us=time.time_ns() // 1000, liquidity_provider=q.provider, fx_mode=q.mode,
        )  # fmt: skip
        intent = Intent(
            pid, "xborder", legs, receipt, trace_ctx=telemetry.current_context_if_sampled()
        )
        telemetry.set_attributes(payment_id=pid, corridor=f"{pj}-{qj}", rail="cbdc", amount_minor=r.amount_minor,
                                 currency=x, payee_amount_minor=q.payee_amount_minor, payee_currency=y)  # fmt: skip
        return intent, q

    async def pay(
        self, requests: list[bridge_pb2.CrossBorderPayRequest], raise_single: bool
    ) -> list[bridge_pb2.PaymentReceipt]:
        """Settle payments atomically; refusals before the ledgers become REJECTED receipts
        (or, for a single call, the gRPC error)."""
        self._admit(len(requests))
        out: list[bridge_pb2.PaymentReceipt | None] = [None] * len(requests)
        intents: list[tuple[int, Intent, FxQuote]] = []
        seen: dict[str, int] = {}
        for i, r in enumerate(requests):
            try:
                it, q = self.build_payment(r, "" if raise_single else f"payments[{i}].")
            except CorridorError as e:
                if raise_single:
                    raise
                out[i] = bridge_pb2.PaymentReceipt(
                    payment_id=payment_id_for(r.idempotency_key) if r.idempotency_key else "",
                    status=5,
                    reason=e.reason,
                    field=e.field,
                )
                continue
            if it.payment_id in seen:  # the same key twice in one batch: one payment
                out[i] = None
                intents.append((i, it, q))
                continue
            seen[it.payment_id] = i
            intents.append((i, it, q))
        existing = await self._existing_receipts([it.payment_id for _, it, _ in intents])
        fresh: dict[str, tuple[Intent, FxQuote]] = {}
        waiting: dict[str, asyncio.Future[Any]] = {}
        for i, it, q in intents:
            pid = it.payment_id
            if pid in self._pending and pid not in fresh:
                # The same payment is being settled by another call right now: never run it twice.
                waiting[pid] = self._pending[pid]
                seen[pid] = -1
            elif pid in existing:
                # Already in the decision log (settled, rejected, or still being resolved after a
                # fault): report what the log says; never prepare it again.
                rec = existing[pid]
                rec.replayed = True
                out[i] = rec
            elif pid not in fresh:
                self.desk.reserve(q)
                it.on_decided = self._on_decided(q)
                fresh[pid] = (it, q)
                self._pending[pid] = asyncio.get_running_loop().create_future()
        try:
            settled = (
                await self.coordinator.settle([it for it, _ in fresh.values()]) if fresh else []
            )
        except BaseException as exc:
            shed = isinstance(exc, CorridorError) and exc.reason == "PVP_QUEUE_FULL"
            for pid, (_, q) in fresh.items():
                if shed:  # refused before anything was logged: give the liquidity back
                    self.desk.release(q)
                fut = self._pending.pop(pid)
                if not fut.done():
                    fut.set_exception(exc)
                fut.exception() if fut.done() and not fut.cancelled() else None
            raise
        by_id = {it.payment_id: it.receipt for it in settled}
        for pid in fresh:
            self._pending.pop(pid).set_result(by_id[pid])
        for pid, fut in waiting.items():
            by_id[pid] = await fut
        for i, it, _ in intents:
            if out[i] is None:
                rec = bridge_pb2.PaymentReceipt()
                rec.CopyFrom(by_id[it.payment_id])
                rec.replayed = seen.get(it.payment_id) != i
                out[i] = rec
        if raise_single and out[0] is not None and out[0].status == 5 and not out[0].replayed:
            raise self._rejection_error(out[0])
        if raise_single and out[0] is not None and out[0].status == 5 and out[0].replayed:
            raise self._rejection_error(out[0])
        return [o for o in out if o is not None]

    def _admit(self, n: int) -> None:
        """Backpressure at the door, before any pricing, reservation or database work: beyond
        `max_queued` unanswered payments a call gets RESOURCE_EXHAUSTED with a retry hint of about
        one settlement round. An idle platform admits any batch, so none is refused forever."""
        waiting = len(self._pending)
        limit = self.coordinator.max_queued
        if waiting and waiting + n > limit:
            raise exhausted(
                "PVP_QUEUE_FULL",
                f"{waiting} payments are being settled (limit {limit}); retry shortly",
                retry_after_s=max(0.05, self.coordinator.round_s),
            )

    def _on_decided(self, q: FxQuote):  # type: ignore[no-untyped-def]
        def cb(it: Intent, committed: bool, reason: str) -> None:
            if not committed:
                self.desk.release(q)

        return cb

    @staticmethod
    def _rejection_error(rec: bridge_pb2.PaymentReceipt) -> CorridorError:
        e = precondition(
            rec.reason or "REJECTED", f"payment {rec.payment_id} rejected: {rec.reason}", rec.field
        )
        e.metadata = {"payment_id": rec.payment_id}
        return e

    async def _existing_receipts(self, ids: list[str]) -> dict[str, bridge_pb2.PaymentReceipt]:
        if not ids:
            return {}
        async with self.engine.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payment_id, receipt, state, reason, created_at_us, decided_at_us, settled_at_us"
                " FROM pvp_payments WHERE payment_id = ANY($1::text[])",
                ids,
            )
        return {r["payment_id"]: _receipt_from_row(r) for r in rows}

    async def get_payment(self, payment_id: str) -> bridge_pb2.PaymentReceipt | None:
        async with self.engine.pool.acquire() as conn:
            r = await conn.fetchrow("SELECT * FROM pvp_payments WHERE payment_id = $1", payment_id)
        return None if r is None else _receipt_from_row(r)

    # ---------------------------------------------------------------- liquidity on/off the platform
    async def move_liquidity(
        self, r: bridge_pb2.FundLiquidityRequest, onto: bool
    ) -> bridge_pb2.PaymentReceipt:
        if not r.idempotency_key:
            raise invalid("idempotency_key", "must not be empty")
        j = r.jurisdiction.upper()
        if j not in JURISDICTIONS:
            raise invalid("jurisdiction", f"unknown jurisdiction {r.jurisdiction!r}")
        cur = JURISDICTIONS[j].currency
        if r.currency != cur:
            raise invalid("currency", f"{j} CBDC is {cur}")
        if r.amount_minor <= 0:
            raise invalid("amount_minor", f"must be > 0 (got {r.amount_minor})")
        lp = r.liquidity_provider
        if lp.startswith("amm:"):
            pair, _, operator = lp[4:].rpartition(":")
            if pair not in self.rules.amm_pairs or cur not in pair.split("/"):
                raise invalid("liquidity_provider", f"no AMM pool {pair!r} holding {cur}")
            platform_acc = self.pool_account(pair, cur)
        else:
            operator = lp
            if lp not in {p["name"] for p in self.rules.providers}:
                raise invalid(
                    "liquidity_provider",
                    f"{lp!r} is not a liquidity provider in bridge/policy.yaml",
                )
            platform_acc = self.lp_account(lp, cur)
        pid = payment_id_for(r.idempotency_key, "fund" if onto else "defund")
        reserve = f"{j.lower()}.op.{operator}"
        t = self.rules.pending_timeout_s
        if onto:
            legs = [Leg(j, TransferSpec(f"{pid}:0", reserve, f"{j.lower()}.bridge", r.amount_minor, cur,
                                        timeout_s=t, kind="pvp", payment_id=pid)),
                    Leg("BRIDGE", TransferSpec(f"{pid}:1", f"bridge.{cur}.issuance", platform_acc, r.amount_minor,
                                               cur, kind="pvp", payment_id=pid))]  # fmt: skip
        else:
            legs = [Leg("BRIDGE", TransferSpec(f"{pid}:0", platform_acc, f"bridge.{cur}.issuance", r.amount_minor,
                                               cur, kind="pvp", payment_id=pid)),
                    Leg(j, TransferSpec(f"{pid}:1", f"{j.lower()}.bridge", reserve, r.amount_minor, cur,
                                        timeout_s=t, kind="pvp", payment_id=pid))]  # fmt: skip
        existing = await self._existing_receipts([pid])
        if pid in existing:
            rec = existing[pid]
            rec.replayed = True
            return rec
        receipt = bridge_pb2.PaymentReceipt(payment_id=pid, amount_minor=r.amount_minor, currency=cur,
                                            payer_jurisdiction=j, created_at_us=time.time_ns() // 1000,
                                            liquidity_provider=lp)  # fmt: skip
        (it,) = await self.coordinator.settle(
            [Intent(pid, "fund" if onto else "defund", legs, receipt)]
        )
        await self.refresh_liquidity()
        if it.state != 4:
            raise self._rejection_error(it.receipt)
        return it.receipt

    async def end_of_day_sweep(self, key: str, j: str) -> list[bridge_pb2.PaymentReceipt]:
        """Clear foreign holders' balances of j's CBDC off the platform (if j's rules say so)."""
        j = j.upper()
        if j not in JURISDICTIONS:
            raise invalid("jurisdiction", f"unknown jurisdiction {j!r}")
        if not self.rules.eod_sweep_foreign.get(j):
            return []
        cur = JURISDICTIONS[j].currency
        out = []
        for p in self.rules.providers:
            if p.get("home", "").upper() == j:
                continue
            (row,) = await self.engine.lookup_accounts([self.lp_account(p["name"], cur)])
            if row["available"] > 0:
                req = bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"eod:{key}:{j}:{p['name']}", liquidity_provider=p["name"],
                    jurisdiction=j, amount_minor=row["available"], currency=cur,
                )  # fmt: skip
                out.append(await self.move_liquidity(req, onto=False))
        return out

    def market(self) -> bridge_pb2.FxMarket:
        from bridge.fx import REFERENCE_USD_RATES

        m = bridge_pb2.FxMarket(reference_usd_rates=REFERENCE_USD_RATES)
        for lp in self.desk.providers.values():
            for cur, amt in lp.inventory_minor.items():
                m.positions.append(
                    bridge_pb2.LiquidityPosition(
                        liquidity_provider=lp.name, currency=cur, available_minor=amt
                    )
                )
        for pool in self.desk.pools.values():
            m.pools.append(bridge_pb2.PoolView(pair=pool.pair, reserve_base_minor=pool.reserve_base,
                                               reserve_quote_minor=pool.reserve_quote, fee_bps=pool.fee_bps))  # fmt: skip
        return m


_ = mid_rate
