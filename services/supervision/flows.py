"""From postings to flows: the payer -> payee edges of the supervisory flow graph.

A ledger feed shows *legs*. A domestic payment is one posting; a cross-border payment is a
payer -> operator leg on the source ledger, bank -> liquidity-provider -> bank legs on the BRIDGE
and an operator -> payee leg on the destination ledger, all sharing a `payment_id`; a KYC'd ramp
joins a fiat leg and a chain leg the same way. `FlowAssembler` groups legs by `payment_id` and
emits one `Flow` (originator -> beneficiary) per payment. `FlowContext` keeps the short per-wallet
history (recent third-party inflows and all outflows) that several detectors share.

End parties: a leg's account is an end party when it is a wallet (tier 1..4) or a chain address;
tier-0 accounts on central-bank ledgers and the bridge are institutions the money passes through.
The originator is the first end party debited, the beneficiary the last end party credited. If the
feed carries no tiers the first leg's debit and the last leg's credit are used.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

from services.supervision.policy import DetectorPolicy
from services.supervision.postings import CBDC_RAIL, CHAIN_PREFIX, STABLECOIN_RAIL, Posting

# Value moved between two different parties; 'issue'/'load'/'onramp' convert the holder's own
# bank money and 'merchant' is a purchase priced by the merchant, so they are not third-party.
THIRD_PARTY_KINDS: frozenset[str] = frozenset({"p2p", "pvp", "chain"})
_RAMP_KINDS = frozenset({"onramp", "offramp"})


@dataclass(slots=True)
class Flow:
    """One payment as a directed edge of the flow graph (legs already joined)."""

    flow_id: str  # the payment_id, or the transfer_id of a single-leg payment
    src: str
    dst: str
    amount_minor: int  # as debited from the originator
    currency: str
    value_cny: float  # CNY-equivalent major units, for comparing across currencies
    kind: str
    at: float  # business time the beneficiary was credited (the last leg)
    rail: str
    src_jurisdiction: str
    dst_jurisdiction: str
    src_tier: int
    dst_tier: int
    merchant_category: str
    transfer_ids: tuple[str, ...]
    first_at: float  # business time of the first leg


def _jurisdiction(ledger: str, declared: str) -> str:
    if declared:
        return declared
    return ledger  # a chain (CHAIN:tron) or the bridge stands in for an unknown jurisdiction


def _is_end_party(ledger: str, tier: int) -> bool:
    return tier > 0 or ledger.startswith(CHAIN_PREFIX)


class _Group:
    __slots__ = ("deadline", "legs")

    def __init__(self) -> None:
        self.legs: list[Posting] = []
        self.deadline = 0.0


class FlowAssembler:
    """Join the legs of each payment and release flows in business-time order.

    Every flow (single-leg ones too) is released `leg_assembly_s` after its last leg, so the
    detectors see flows ordered by `Flow.at` and never a payment whose legs are still arriving."""

    def __init__(self, policy: DetectorPolicy) -> None:
        self.policy = policy
        self._delay = policy.leg_assembly_s
        self._open: dict[str, _Group] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._n = 0
        self._unit_value: dict[str, float] = {}

    def push(self, p: Posting) -> list[Flow]:
        """Accept one posting; return the flows whose assembly window has closed by its time."""
        ready = self.release(p.business_at)
        key = p.payment_id or "\x00" + p.transfer_id
        group = self._open.get(key)
        if group is None:
            group = self._open[key] = _Group()
        group.legs.append(p)
        group.deadline = p.business_at + self._delay
        self._n += 1
        heapq.heappush(self._heap, (group.deadline, self._n, key))
        return ready

    def release(self, now: float) -> list[Flow]:
        """Flows whose last leg is at least `leg_assembly_s` older than `now`."""
        heap = self._heap
        out: list[Flow] = []
        while heap and heap[0][0] <= now:
            deadline, _, key = heapq.heappop(heap)
            group = self._open.get(key)
            if group is None or group.deadline != deadline:
                continue  # superseded by a later leg of the same payment
            del self._open[key]
            out.append(self._to_flow(key, group.legs))
        return out

    def flush(self) -> list[Flow]:
        """End of stream: release everything still open."""
        return self.release(float("inf"))

    def pending(self) -> int:
        return len(self._open)

    def unit_value(self, currency: str) -> float:
        v = self._unit_value.get(currency)
        if v is None:
            v = self._unit_value[currency] = self.policy.unit_value_cny(currency)
        return v

    def _to_flow(self, key: str, legs: list[Posting]) -> Flow:
        if len(legs) == 1:
            p = legs[0]
            unit = self._unit_value.get(p.currency)
            if unit is None:
                unit = self.unit_value(p.currency)
            ledger = p.ledger
            on_chain = ledger.startswith(CHAIN_PREFIX)
            return Flow(
                p.payment_id or p.transfer_id,
                p.debit_account,
                p.credit_account,
                p.amount_minor,
                p.currency,
                p.amount_minor * unit,
                p.kind,
                p.business_at,
                STABLECOIN_RAIL if on_chain or p.kind in _RAMP_KINDS else CBDC_RAIL,
                p.debit_jurisdiction or ledger,
                p.credit_jurisdiction or ledger,
                p.debit_tier,
                p.credit_tier,
                p.merchant_category,
                (p.transfer_id,),
                p.business_at,
            )
        return self._join(key, legs)

    def _join(self, key: str, legs: list[Posting]) -> Flow:
        legs = sorted(legs, key=lambda leg: leg.business_at)  # stable: feed order breaks ties
        origin_leg = next(
            (leg for leg in legs if _is_end_party(leg.ledger, leg.debit_tier)), legs[0]
        )
        dest_leg = next(
            (
                leg
                for leg in reversed(legs)
                if _is_end_party(leg.ledger, leg.credit_tier)
                and leg.credit_account != origin_leg.debit_account
            ),
            legs[-1],
        )
        kinds = {leg.kind for leg in legs}
        if "onramp" in kinds:
            kind = "onramp"
        elif "offramp" in kinds:
            kind = "offramp"
        elif "pvp" in kinds:
            kind = "pvp"
        else:
            kind = origin_leg.kind
        chain = any(leg.ledger.startswith(CHAIN_PREFIX) for leg in legs)
        return Flow(
            legs[0].payment_id,
            origin_leg.debit_account,
            dest_leg.credit_account,
            origin_leg.amount_minor,
            origin_leg.currency,
            origin_leg.amount_minor * self.unit_value(origin_leg.currency),
            kind,
            legs[-1].business_at,
            STABLECOIN_RAIL if chain or kind in ("onramp", "offramp") else CBDC_RAIL,
            _jurisdiction(origin_leg.ledger, origin_leg.debit_jurisdiction),
            _jurisdiction(dest_leg.ledger, dest_leg.credit_jurisdiction),
            origin_leg.debit_tier,
            dest_leg.credit_tier,
            dest_leg.merchant_category or origin_leg.merchant_category,
            tuple(leg.transfer_id for leg in legs),
            legs[0].business_at,
        )


class WalletActivity:
    """A wallet's recent history within the horizon: all outflows, and third-party inflows (value
    from another party: not a load from its own bank account, not a withdrawal from an attributed
    exchange)."""

    __slots__ = ("first_seen_at", "inflow_value", "inflows", "outflow_value", "outflows")

    def __init__(self, at: float) -> None:
        self.inflows: deque[Flow] = deque()
        self.inflow_value = 0.0
        self.outflows: deque[Flow] = deque()
        self.outflow_value = 0.0
        self.first_seen_at = at

    def prune(self, since: float) -> None:
        inflows = self.inflows
        while inflows and inflows[0].at < since:
            self.inflow_value -= inflows.popleft().value_cny
        outflows = self.outflows
        while outflows and outflows[0].at < since:
            self.outflow_value -= outflows.popleft().value_cny


class FlowContext:
    """Shared state of a detector suite: the assembler, the current business time, per-wallet
    activity, and what the feed itself reveals about accounts (which ones are merchants)."""

    def __init__(self, policy: DetectorPolicy) -> None:
        self.policy = policy
        self.assembler = FlowAssembler(policy)
        self.now = float("-inf")
        self.wallets: dict[str, WalletActivity] = {}
        self.merchants: set[str] = set()
        self.services = policy.known_services
        self.horizon_s = max(
            policy.activity_horizon_s,
            policy.pass_through_window_s,
            policy.scatter_window_s,
            policy.watch_exposure_window_s,
        )

    def ingest(self, p: Posting) -> list[Flow]:
        """Advance business time to `p` and return the flows released (already recorded)."""
        self.now = max(self.now, p.business_at)
        # A purchase (or voucher redemption) credits the merchant; a refund debits a merchant
        # we already know, so its payee is not mistaken for one.
        if (
            p.kind in ("merchant", "voucher")
            and p.merchant_category
            and p.debit_account not in self.merchants
        ):
            self.merchants.add(p.credit_account)
        flows = self.assembler.push(p)
        for f in flows:
            self.record(f)
        return flows

    def advance(self, now: float) -> list[Flow]:
        """Advance business time without a posting (every feed is quiet) and return the flows
        whose assembly window has closed by then (already recorded)."""
        if now <= self.now:
            return []
        self.now = now
        flows = self.assembler.release(now)
        for f in flows:
            self.record(f)
        return flows

    def flush(self) -> list[Flow]:
        flows = self.assembler.flush()
        for f in flows:
            self.record(f)
        return flows

    def activity(self, wallet: str) -> WalletActivity | None:
        return self.wallets.get(wallet)

    def record(self, f: Flow) -> None:
        since = f.at - self.horizon_s
        wallets = self.wallets
        src = wallets.get(f.src)
        if src is None:
            src = wallets[f.src] = WalletActivity(f.at)
        src.prune(since)
        src.outflows.append(f)
        src.outflow_value += f.value_cny
        dst = wallets.get(f.dst)
        if dst is None:
            dst = wallets[f.dst] = WalletActivity(f.at)
        if f.kind in THIRD_PARTY_KINDS and f.src not in self.services:
            # A withdrawal from an attributed exchange is the holder's own money, like a load.
            dst.prune(since)
            dst.inflows.append(f)
            dst.inflow_value += f.value_cny

    def recent_inflow_value(self, wallet: str, since: float, before: float) -> float:
        """Third-party value received by `wallet` in [since, before)."""
        act = self.wallets.get(wallet)
        if act is None:
            return 0.0
        total = 0.0
        for f in reversed(act.inflows):
            if f.at < since:
                break
            if f.at < before:
                total += f.value_cny
        return total
