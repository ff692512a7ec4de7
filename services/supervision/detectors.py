"""Streaming AML typology detectors over the supervisory flow graph.

Each detector consumes postings in feed order, joins legs into flows (`flows.FlowAssembler`),
and keeps only sliding windows of the *past*: nothing it decides at business time t depends on a
posting later than t. Every alert carries a score in [0, 1], the wallets it is about (`subjects`,
the primary subject first) and the evidence subgraph as the transfer ids of its edges.

Typologies (thresholds in `DetectorPolicy`):

- structuring    payments just under a tier per-payment cap or a reporting threshold, repeated
                 by one payer, or converging on one payee from several payers.
- fan_in         many distinct payers into one wallet, most of them conduits (they pass on what
                 they just received) - the mule-collection pattern, not a landlord's rent day.
- fan_out        one wallet pays many, and most receivers move the money on within hours - the
                 mule-distribution pattern, not payroll.
- cycle          value that leaves a wallet and comes back through >= 3 hops, crossing a border,
                 each hop carrying roughly the previous hop's value (round-tripping).
- pass_through   a wallet receives third-party money and sends ~all of it on, to one or a few
                 payees, within minutes.
- scatter_gather one source -> several intermediaries -> one collector.
- velocity       a burst of outgoing payments far above the wallet's own earlier peak, repeated
                 to few payees (a drain), not one payment each to many (a payroll batch).
- watch_list     a flow touching a listed party, or a wallet passing on money it got from one.
- voucher_misuse a merchant paying voucher holders back (most of) what they redeemed with it:
                 programmable money cashed out.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from services.supervision.flows import THIRD_PARTY_KINDS, Flow, FlowContext
from services.supervision.policy import DetectorPolicy
from services.supervision.postings import CHAIN_PREFIX, STABLECOIN_RAIL, Posting

__all__ = [
    "DETECTORS",
    "TYPOLOGIES",
    "Alert",
    "DetectorPolicy",
    "DetectorSuite",
    "bench_detectors",
]


@dataclass(frozen=True, slots=True)
class Alert:
    """A detector's finding: the evidence subgraph is `evidence` (transfer ids of its edges)."""

    alert_id: str
    typology: str
    score: float  # 0..1
    subjects: list[str]  # pseudonymous wallet ids, primary subject first
    evidence: list[str]  # transfer ids
    raised_at: float  # business time the detector raised it
    rail: str


def _end_party(wallet_tier: int, jurisdiction: str) -> bool:
    """A wallet (tier 1..4) or a chain address, as opposed to an institutional account."""
    return wallet_tier > 0 or jurisdiction.startswith(CHAIN_PREFIX)


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else min(x, 1.0)


def _tids(flows: Iterable[Flow]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for f in flows:
        for t in f.transfer_ids:
            if t not in seen:
                seen.add(t)
                out.append(t)
    return out


class Detector:
    """Base: cooldown bookkeeping and the standalone `observe(posting)` entry point.

    Constructed with a shared `FlowContext` (as `DetectorSuite` does) it is fed flows through
    `on_flow`; constructed alone it owns its context and `observe` does the assembly itself."""

    typology: ClassVar[str] = ""
    # Flow kinds this detector looks at (None: every kind); lets the suite skip the call.
    kinds: ClassVar[frozenset[str] | None] = None

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        self.policy = policy or DetectorPolicy()
        self._owns_context = context is None
        self.context = context if context is not None else FlowContext(self.policy)
        self._last_alert_at: dict[str, float] = {}
        self._ids = itertools.count(1)

    def observe(self, p: Posting) -> list[Alert]:
        """Feed one posting (time order); return alerts raised at its business time."""
        if not self._owns_context:
            raise RuntimeError("this detector shares a FlowContext: feed the DetectorSuite")
        alerts: list[Alert] = []
        for f in self.context.ingest(p):
            alerts.extend(self.on_flow(f))
        return alerts

    def flush(self) -> list[Alert]:
        """End of stream: release payments still being assembled."""
        alerts: list[Alert] = []
        for f in self.context.flush():
            alerts.extend(self.on_flow(f))
        return alerts

    def on_flow(self, f: Flow) -> list[Alert]:
        raise NotImplementedError

    def _cooling(self, subject: str) -> bool:
        last = self._last_alert_at.get(subject)
        return last is not None and self.context.now - last < self.policy.alert_cooldown_s

    def _alert(
        self, subjects: list[str], evidence: list[str], score: float, rail: str
    ) -> list[Alert]:
        now = self.context.now
        self._last_alert_at[subjects[0]] = now
        alert_id = f"{self.typology}-{next(self._ids):06d}"
        return [
            Alert(alert_id, self.typology, round(_clip(score), 4), subjects, evidence, now, rail)
        ]


# --------------------------------------------------------------------------------------------
class StructuringDetector(Detector):
    """Near-threshold payments: repeated by one payer, or converging on one payee.

    A payment is "near" a threshold T when T * (1 - band) <= amount < T, for T among the
    currency's reporting thresholds and the payer tier's per-payment cap. Purchases at registered
    merchants are not counted: the merchant sets that price, not the payer."""

    typology = "structuring"
    PAYER_KINDS = frozenset({"p2p", "pvp", "chain", "redeem", "onramp", "offramp"})
    kinds = PAYER_KINDS

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._bands: dict[tuple[str, int], tuple[tuple[int, int], ...]] = {}
        self._payer: dict[str, deque[Flow]] = {}
        self._collector: dict[str, deque[Flow]] = {}

    def _near(self, f: Flow) -> bool:
        key = (f.currency, f.src_tier)
        bands = self._bands.get(key)
        if bands is None:
            band = self.policy.structuring_band
            bands = tuple(
                (int(t * (1.0 - band)), t)
                for t in self.policy.near_thresholds_minor(f.currency, f.src_tier)
            )
            self._bands[key] = bands
        amount = f.amount_minor
        for low, high in bands:
            if low <= amount < high:
                return True
        return False

    def on_flow(self, f: Flow) -> list[Alert]:
        if f.kind not in self.PAYER_KINDS or not self._near(f):
            return []
        p = self.policy
        since = f.at - p.structuring_window_s
        alerts: list[Alert] = []
        services = p.known_services
        if _end_party(f.src_tier, f.src_jurisdiction) and f.src not in services:
            q = self._payer.setdefault(f.src, deque())
            q.append(f)
            while q[0].at < since:
                q.popleft()
            if len(q) >= p.structuring_payer_min_count and not self._cooling(f.src):
                receivers = list(dict.fromkeys(x.dst for x in q))
                score = 0.5 + 0.1 * (len(q) - p.structuring_payer_min_count + 1)
                alerts += self._alert([f.src, *receivers], _tids(q), score, f.rail)
        if (
            f.kind in THIRD_PARTY_KINDS
            and _end_party(f.dst_tier, f.dst_jurisdiction)
            and f.dst not in services
            and f.dst not in self.context.merchants
        ):
            q = self._collector.setdefault(f.dst, deque())
            q.append(f)
            while q[0].at < since:
                q.popleft()
            if len(q) >= p.structuring_collector_min_count and not self._cooling(f.dst):
                payers = list(dict.fromkeys(x.src for x in q))
                if len(payers) >= p.structuring_collector_min_senders:
                    score = 0.5 + 0.05 * (len(q) - p.structuring_collector_min_count + 1)
                    score += 0.05 * len(payers)
                    alerts += self._alert([f.dst, *payers], _tids(q), score, f.rail)
        return alerts


# --------------------------------------------------------------------------------------------
class _Fan:
    """A sliding window of one wallet's edges to/from distinct counterparties."""

    __slots__ = ("degree", "edges", "marked", "marked_in_window", "value")

    def __init__(self) -> None:
        self.edges: deque[tuple[Flow, str, bool]] = deque()  # (flow, counterparty, flag)
        self.degree: dict[str, int] = {}
        self.value = 0.0
        self.marked: dict[str, int] = {}  # counterparty -> flagged edges in window
        # |marked ∩ degree|, kept as edges come and go (a busy wallet is judged in O(1)).
        self.marked_in_window = 0

    def add(self, f: Flow, other: str, flag: bool) -> None:
        self.edges.append((f, other, flag))
        degree, marked = self.degree, self.marked
        if other in degree:
            degree[other] += 1
        else:
            degree[other] = 1
            if other in marked:  # a mark from before the counterparty left the window
                self.marked_in_window += 1
        self.value += f.value_cny
        if flag:
            m = marked.get(other, 0)
            if not m:
                self.marked_in_window += 1
            marked[other] = m + 1

    def mark(self, other: str) -> None:
        """Mark a counterparty that is in the window (its count is not tracked)."""
        if other not in self.marked:
            self.marked_in_window += 1
        self.marked[other] = 1

    def prune(self, since: float) -> None:
        edges = self.edges
        while edges and edges[0][0].at < since:
            f, other, flag = edges.popleft()
            self.value -= f.value_cny
            n = self.degree[other] - 1
            if n:
                self.degree[other] = n
            else:
                del self.degree[other]
                if other in self.marked:
                    self.marked_in_window -= 1
            if flag:
                m = self.marked[other] - 1
                if m:
                    self.marked[other] = m
                else:
                    del self.marked[other]
                    if other in self.degree:
                        self.marked_in_window -= 1


class FanInDetector(Detector):
    """Many distinct payers into one wallet within `fan_window_s`, most of them conduits.

    A payer is a conduit when its outflows over the activity horizon are 70%..125% of the
    third-party money it received over the same horizon: it passes on what it was just sent
    (a money mule). A tenant paying rent from a salary is not; neither is a wallet topped up from
    its owner's own bank account (loads are not third-party inflows)."""

    typology = "fan_in"
    kinds = THIRD_PARTY_KINDS

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._fans: dict[str, _Fan] = {}

    def _is_conduit(self, wallet: str) -> bool:
        act = self.context.wallets.get(wallet)
        if act is None or act.inflow_value <= 0.0:
            return False
        ratio = act.outflow_value / act.inflow_value
        return self.policy.conduit_ratio_low <= ratio <= self.policy.conduit_ratio_high

    def on_flow(self, f: Flow) -> list[Alert]:
        if f.kind not in THIRD_PARTY_KINDS:
            return []
        dst = f.dst
        p = self.policy
        if (
            not _end_party(f.dst_tier, f.dst_jurisdiction)
            or dst in p.known_services
            or dst in self.context.merchants
        ):
            return []
        fan = self._fans.get(dst)
        if fan is None:
            fan = self._fans[dst] = _Fan()
        fan.prune(f.at - p.fan_window_s)
        fan.add(f, f.src, self._is_conduit(f.src))
        degree = len(fan.degree)
        if degree < p.fan_in_min_senders or fan.value < p.fan_in_min_value_cny:
            return []
        conduit_share = len(fan.marked) / degree
        if conduit_share < p.fan_in_min_conduit_share or self._cooling(dst):
            return []
        score = 0.4 + 0.3 * conduit_share + 0.3 * _clip(degree / (2 * p.fan_in_min_senders))
        payers = list(fan.degree)
        return self._alert([dst, *payers], _tids(e[0] for e in fan.edges), score, f.rail)


class _Receipt:
    __slots__ = ("at", "done", "onward", "onward_flows", "source", "value")

    def __init__(self, source: str, at: float, value: float) -> None:
        self.source = source
        self.at = at
        self.value = value
        self.onward = 0.0
        self.onward_flows: list[Flow] = []
        self.done = False


class FanOutDetector(Detector):
    """One wallet pays many distinct receivers within `fan_window_s`, and at least half of them
    move >= 70% of it onward (any outflow: transfer, cash-out, purchase) within `onward_window_s`.
    Payroll fans out too, but employees do not empty their salary within hours."""

    typology = "fan_out"

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._fans: dict[str, _Fan] = {}
        self._receipts: dict[str, deque[_Receipt]] = {}
        self._onward_evidence: dict[str, list[Flow]] = {}

    def on_flow(self, f: Flow) -> list[Alert]:
        alerts: list[Alert] = []
        p = self.policy
        receipts = self._receipts.get(f.src)
        if receipts:
            since = f.at - p.onward_window_s
            while receipts and receipts[0].at < since:
                receipts.popleft()
            for r in receipts:
                if r.done:
                    continue
                r.onward += f.value_cny
                r.onward_flows.append(f)
                if r.onward >= p.onward_ratio * r.value:
                    r.done = True
                    fan = self._fans.get(r.source)
                    if fan is not None and f.src in fan.degree:
                        fan.mark(f.src)
                        self._onward_evidence.setdefault(r.source, []).extend(r.onward_flows)
                        alerts += self._check(r.source, fan, f.rail)
            if not receipts:
                del self._receipts[f.src]
        if (
            f.kind in THIRD_PARTY_KINDS
            and _end_party(f.src_tier, f.src_jurisdiction)
            and f.src not in p.known_services
        ):
            fan = self._fans.get(f.src)
            if fan is None:
                fan = self._fans[f.src] = _Fan()
            fan.prune(f.at - p.fan_window_s)
            fan.add(f, f.dst, False)
            self._receipts.setdefault(f.dst, deque()).append(_Receipt(f.src, f.at, f.value_cny))
            alerts += self._check(f.src, fan, f.rail)
        return alerts

    def _check(self, source: str, fan: _Fan, rail: str) -> list[Alert]:
        p = self.policy
        degree = len(fan.degree)
        if degree < p.fan_out_min_receivers or fan.value < p.fan_out_min_value_cny:
            return []
        onward = fan.marked_in_window
        share = onward / degree
        if share < p.fan_out_min_onward_share or self._cooling(source):
            return []
        evidence = _tids(e[0] for e in fan.edges) + _tids(self._onward_evidence.pop(source, []))
        score = 0.4 + 0.3 * share + 0.3 * _clip(degree / (2 * p.fan_out_min_receivers))
        return self._alert([source, *fan.degree], evidence, score, rail)


# --------------------------------------------------------------------------------------------
class CycleDetector(Detector):
    """Round-tripping: when a flow x -> u arrives, look for an earlier time-respecting path
    u -> ... -> x (so the money came back to u) of >= `cycle_min_length` hops in total, each hop
    carrying 70%..105% of the previous one, the whole loop inside `cycle_window_s`, touching
    >= `cycle_min_jurisdictions` jurisdictions. Bounded depth-first search with an edge budget."""

    typology = "cycle"
    KINDS = frozenset({"p2p", "pvp", "chain", "onramp", "offramp"})
    kinds = KINDS

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._out: dict[str, deque[Flow]] = {}

    def on_flow(self, f: Flow) -> list[Alert]:
        p = self.policy
        if f.kind not in self.KINDS or f.value_cny < p.cycle_min_value_cny or f.src == f.dst:
            return []
        alerts: list[Alert] = []
        if f.dst not in p.known_services and not self._cooling(f.dst):
            path = self._search(f)
            if path is not None:
                loop = [*path, f]
                nodes = list(dict.fromkeys([f.dst, *(e.dst for e in path)]))
                retained = f.value_cny / path[0].value_cny
                score = 0.5 + 0.3 * _clip(retained) + 0.05 * (len(loop) - p.cycle_min_length)
                alerts += self._alert(nodes, _tids(loop), score, f.rail)
        q = self._out.get(f.src)
        if q is None:
            q = self._out[f.src] = deque()
        q.append(f)
        since = f.at - p.cycle_window_s
        while q[0].at < since:
            q.popleft()
        return alerts

    def _search(self, closing: Flow) -> list[Flow] | None:
        p = self.policy
        start, target = closing.dst, closing.src
        since = closing.at - p.cycle_window_s
        lo, hi = p.cycle_hop_ratio_low, p.cycle_hop_ratio_high
        max_edges = p.cycle_max_length - 1  # path edges, the closing flow is the last hop
        budget = p.cycle_search_budget
        services = p.known_services
        out = self._out
        path: list[Flow] = []
        on_path = {start}
        # Explicit stack of iterators: (edges of node, index into them).
        first = out.get(start)
        if not first:
            return None
        stack: list[tuple[deque[Flow], int]] = [(first, 0)]
        while stack:
            edges, i = stack[-1]
            if i >= len(edges) or budget <= 0:
                stack.pop()
                if path:
                    on_path.discard(path.pop().dst)
                if budget <= 0:
                    return None
                continue
            stack[-1] = (edges, i + 1)
            e = edges[i]
            budget -= 1
            t_min = path[-1].at if path else since
            if e.at < t_min or e.at > closing.at or e.dst in on_path or e.dst in services:
                continue
            if path:
                ratio = e.value_cny / path[-1].value_cny
                if ratio < lo or ratio > hi:
                    continue
            if e.dst == target:
                if len(path) + 2 >= p.cycle_min_length and self._closes([*path, e], closing):
                    return [*path, e]
                continue
            if len(path) + 1 >= max_edges:
                continue
            nxt = out.get(e.dst)
            if nxt:
                path.append(e)
                on_path.add(e.dst)
                stack.append((nxt, 0))
        return None

    def _closes(self, path: list[Flow], closing: Flow) -> bool:
        p = self.policy
        ratio = closing.value_cny / path[-1].value_cny
        if ratio < p.cycle_hop_ratio_low or ratio > p.cycle_hop_ratio_high:
            return False
        if closing.value_cny < p.cycle_hop_ratio_low * path[0].value_cny:
            return False
        places = {closing.src_jurisdiction, closing.dst_jurisdiction}
        for e in path:
            places.add(e.src_jurisdiction)
            places.add(e.dst_jurisdiction)
        on_chain = closing.rail == STABLECOIN_RAIL and all(e.rail == STABLECOIN_RAIL for e in path)
        need = p.cycle_min_jurisdictions_chain if on_chain else p.cycle_min_jurisdictions
        return len(places) >= need


# --------------------------------------------------------------------------------------------
class PassThroughDetector(Detector):
    """A wallet that receives third-party money and sends 95%..101% of it on, to at most
    `pass_through_max_payees` payees, within `pass_through_window_s`. Moving between two
    attributed services (exchange to exchange through one's own address) is not counted."""

    typology = "pass_through"

    def on_flow(self, f: Flow) -> list[Alert]:
        act = self.context.wallets.get(f.src)
        if act is None or not act.inflows:
            return []
        p = self.policy
        if f.src in p.known_services or not _end_party(f.src_tier, f.src_jurisdiction):
            return []
        since = f.at - p.pass_through_window_s
        if act.inflows[-1].at < since:
            return []
        ins: list[Flow] = []
        in_value = 0.0
        for e in reversed(act.inflows):
            if e.at < since:
                break
            ins.append(e)
            in_value += e.value_cny
        if in_value < p.pass_through_min_value_cny:
            return []
        first_in = ins[-1].at
        outs: list[Flow] = []
        out_value = 0.0
        for e in reversed(act.outflows):
            if e.at < first_in:
                break
            outs.append(e)
            out_value += e.value_cny
        ratio = out_value / in_value
        if ratio < p.pass_through_ratio_low or ratio > p.pass_through_ratio_high:
            return []
        if len({e.dst for e in outs}) > p.pass_through_max_payees:
            return []
        services = p.known_services
        if all(e.src in services for e in ins) and all(e.dst in services for e in outs):
            return []
        if self._cooling(f.src):
            return []
        minutes = (f.at - first_in) / 60.0
        score = 0.6 + 0.2 * _clip(1.0 - abs(1.0 - ratio) * 10) + 0.2 * _clip(1.0 - minutes / 30)
        subjects = list(dict.fromkeys([f.src, *(e.src for e in ins), *(e.dst for e in outs)]))
        return self._alert(subjects, _tids(reversed(ins)) + _tids(reversed(outs)), score, f.rail)


# --------------------------------------------------------------------------------------------
class ScatterGatherDetector(Detector):
    """Source S pays intermediaries m1..mk, each forwards 50%..110% of it to one collector C
    (C != S) within `scatter_window_s`; alert when k >= `scatter_min_intermediaries`."""

    typology = "scatter_gather"
    kinds = THIRD_PARTY_KINDS

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._pairs: dict[tuple[str, str], dict[str, tuple[float, Flow, Flow]]] = {}
        self._sweep_at = float("-inf")

    def on_flow(self, f: Flow) -> list[Alert]:
        p = self.policy
        if f.kind not in THIRD_PARTY_KINDS or f.value_cny < p.scatter_min_value_cny:
            return []
        collector, middle = f.dst, f.src
        if (
            not _end_party(f.dst_tier, f.dst_jurisdiction)
            or collector in p.known_services
            or collector in self.context.merchants
        ):
            return []
        act = self.context.wallets.get(middle)
        if act is None or not act.inflows:
            return []
        since = f.at - p.scatter_window_s
        lo, hi = p.scatter_forward_ratio_low, p.scatter_forward_ratio_high
        alerts: list[Alert] = []
        for e in act.inflows:
            source = e.src
            if e.at < since or source == collector or source in p.known_services:
                continue
            ratio = f.value_cny / e.value_cny
            if ratio < lo or ratio > hi:
                continue
            key = (source, collector)
            group = self._pairs.get(key)
            if group is None:
                group = self._pairs[key] = {}
            group[middle] = (f.at, e, f)
            if len(group) >= p.scatter_min_intermediaries:
                for m in [m for m, (at, _, _) in group.items() if at < since]:
                    del group[m]
                if len(group) >= p.scatter_min_intermediaries and not self._cooling(collector):
                    legs = [leg for (_, a, b) in group.values() for leg in (a, b)]
                    score = 0.5 + 0.5 * _clip(len(group) / (3 * p.scatter_min_intermediaries))
                    alerts += self._alert([collector, source, *group], _tids(legs), score, f.rail)
        if f.at - self._sweep_at > p.scatter_window_s:
            self._sweep(since)
            self._sweep_at = f.at
        return alerts

    def _sweep(self, since: float) -> None:
        for key in [k for k, g in self._pairs.items() if max(v[0] for v in g.values()) < since]:
            del self._pairs[key]


# --------------------------------------------------------------------------------------------
class _Burst:
    __slots__ = ("history", "payees", "prior_peak", "window")

    def __init__(self) -> None:
        self.window: deque[Flow] = deque()
        self.payees: dict[str, int] = {}  # payee -> payments in the window
        self.history: deque[tuple[float, int]] = deque()  # (at, window count then)
        self.prior_peak = 0


class VelocityDetector(Detector):
    """Outgoing payments in the last `velocity_window_s` reach `velocity_min_count` and
    `velocity_peak_factor` times the wallet's own busiest earlier window (windows that ended
    before this one began), so a business that pays a batch every day is judged by its batches."""

    typology = "velocity"

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._bursts: dict[str, _Burst] = {}

    def on_flow(self, f: Flow) -> list[Alert]:
        p = self.policy
        if not _end_party(f.src_tier, f.src_jurisdiction) or f.src in p.known_services:
            return []
        b = self._bursts.get(f.src)
        if b is None:
            b = self._bursts[f.src] = _Burst()
        since = f.at - p.velocity_window_s
        window, payees = b.window, b.payees
        window.append(f)
        payees[f.dst] = payees.get(f.dst, 0) + 1
        while window[0].at < since:
            gone = window.popleft().dst
            n = payees[gone] - 1
            if n:
                payees[gone] = n
            else:
                del payees[gone]
        history = b.history
        while history and history[0][0] <= since:
            b.prior_peak = max(b.prior_peak, history.popleft()[1])
        count = len(window)
        if count * p.velocity_peak_factor > p.velocity_min_count:
            # Only peaks this high can ever raise the bar above velocity_min_count.
            history.append((f.at, count))
        if count < p.velocity_min_count or count < p.velocity_peak_factor * b.prior_peak:
            return []
        if count < p.velocity_min_repeat * len(payees) or self._cooling(f.src):
            return []
        receivers = list(dict.fromkeys(e.dst for e in window))
        score = 0.5 + 0.5 * _clip((count - p.velocity_min_count) / (2 * p.velocity_min_count))
        return self._alert([f.src, *receivers], _tids(window), score, f.rail)


# --------------------------------------------------------------------------------------------
class WatchListDetector(Detector):
    """Direct: any flow to or from a listed party (score 1). One hop: a wallet that received
    third-party money from a listed party and passes 50%..110% of it on (score 0.7)."""

    typology = "watch_list"

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        self._exposed: dict[str, deque[Flow]] = {}

    def on_flow(self, f: Flow) -> list[Alert]:
        listed = self.policy.watch_list
        if not listed:
            return []
        if f.src in listed or f.dst in listed:
            party = f.src if f.src in listed else f.dst
            if f.src in listed and f.kind in THIRD_PARTY_KINDS and f.dst not in listed:
                self._exposed.setdefault(f.dst, deque()).append(f)
            if self._cooling(party):
                return []
            other = f.dst if party == f.src else f.src
            return self._alert([party, other], list(f.transfer_ids), 1.0, f.rail)
        exposed = self._exposed.get(f.src)
        if not exposed:
            return []
        p = self.policy
        since = f.at - p.watch_exposure_window_s
        while exposed and exposed[0].at < since:
            exposed.popleft()
        if not exposed:
            del self._exposed[f.src]
            return []
        received = sum(e.value_cny for e in exposed)
        ratio = f.value_cny / received
        if ratio < p.watch_exposure_ratio_low or ratio > p.watch_exposure_ratio_high:
            return []
        if self._cooling(f.src):
            return []
        parties = list(dict.fromkeys(e.src for e in exposed))
        evidence = _tids([*exposed, f])
        return self._alert([f.src, *parties, f.dst], evidence, 0.7, f.rail)


# --------------------------------------------------------------------------------------------
class VoucherMisuseDetector(Detector):
    """Voucher cash-out: a merchant that received a voucher redemption from a holder pays that
    holder back 70%..100% of it within `voucher_window_s`, for >= `voucher_min_cashbacks`
    distinct holders. A salary paid to an employee who shopped there is far larger than the
    voucher; a single refund is not a pattern."""

    typology = "voucher_misuse"
    PAYBACK_KINDS = frozenset({"p2p", "merchant", "pvp"})
    kinds = PAYBACK_KINDS | {"voucher"}

    def __init__(self, policy: DetectorPolicy | None = None, context: FlowContext | None = None):
        super().__init__(policy, context)
        # merchant -> holder -> redemptions in window
        self._redeemed: dict[str, dict[str, list[Flow]]] = {}
        # merchant -> holder -> (redemptions, payback)
        self._paid_back: dict[str, dict[str, tuple[list[Flow], Flow]]] = {}

    def on_flow(self, f: Flow) -> list[Alert]:
        p = self.policy
        if f.kind == "voucher":
            if f.merchant_category and f.src_tier > 0 and f.dst in self.context.merchants:
                self._redeemed.setdefault(f.dst, {}).setdefault(f.src, []).append(f)
            return []
        if f.kind not in self.PAYBACK_KINDS:
            return []
        holders = self._redeemed.get(f.src)
        if not holders:
            return []
        redemptions = holders.get(f.dst)
        if not redemptions:
            return []
        since = f.at - p.voucher_window_s
        redemptions[:] = [r for r in redemptions if r.at >= since]
        if not redemptions:
            del holders[f.dst]
            return []
        ratio = f.value_cny / sum(r.value_cny for r in redemptions)
        if ratio < p.voucher_cashback_ratio_low or ratio > p.voucher_cashback_ratio_high:
            return []
        merchant = f.src
        paid = self._paid_back.setdefault(merchant, {})
        paid[f.dst] = (list(redemptions), f)
        for h in [h for h, (_, back) in paid.items() if back.at < since]:
            del paid[h]
        if len(paid) < p.voucher_min_cashbacks or self._cooling(merchant):
            return []
        legs = [x for rs, back in paid.values() for x in (*rs, back)]
        score = 0.6 + 0.4 * _clip(len(paid) / (4 * p.voucher_min_cashbacks))
        return self._alert([merchant, *paid], _tids(legs), score, f.rail)


# --------------------------------------------------------------------------------------------
DETECTORS: tuple[type[Detector], ...] = (
    StructuringDetector,
    FanInDetector,
    FanOutDetector,
    CycleDetector,
    PassThroughDetector,
    ScatterGatherDetector,
    VelocityDetector,
    WatchListDetector,
    VoucherMisuseDetector,
)
TYPOLOGIES: tuple[str, ...] = tuple(d.typology for d in DETECTORS)


class DetectorSuite:
    """All detectors over one shared flow context: each posting is assembled once."""

    def __init__(
        self, policy: DetectorPolicy | None = None, typologies: Iterable[str] | None = None
    ) -> None:
        self.policy = policy or DetectorPolicy()
        wanted = set(TYPOLOGIES if typologies is None else typologies)
        unknown = wanted - set(TYPOLOGIES)
        if unknown:
            raise ValueError(f"typologies: unknown {sorted(unknown)}; known {list(TYPOLOGIES)}")
        self.context = FlowContext(self.policy)
        self.detectors = [
            cls(self.policy, self.context) for cls in DETECTORS if cls.typology in wanted
        ]
        self.postings_seen = 0
        # kind -> the on_flow methods of the detectors that look at that kind
        self._dispatch: dict[str, list[Callable[[Flow], list[Alert]]]] = {}

    def observe(self, p: Posting) -> list[Alert]:
        """Feed one posting (feeds merged in business-time order); return new alerts."""
        self.postings_seen += 1
        flows = self.context.ingest(p)
        if not flows:
            return []
        return self._run(flows)

    def observe_all(self, postings: Iterable[Posting]) -> list[Alert]:
        alerts: list[Alert] = []
        for p in postings:
            alerts.extend(self.observe(p))
        return alerts

    def advance(self, now: float) -> list[Alert]:
        """Business time reached `now` with no new posting (a live feed gone quiet): judge the
        payments whose assembly window has closed. Never moves time backwards."""
        flows = self.context.advance(now)
        return self._run(flows) if flows else []

    def flush(self) -> list[Alert]:
        """End of stream: assemble and judge the payments still open."""
        return self._run(self.context.flush())

    def _run(self, flows: list[Flow]) -> list[Alert]:
        alerts: list[Alert] = []
        dispatch = self._dispatch
        for f in flows:
            handlers = dispatch.get(f.kind)
            if handlers is None:
                handlers = dispatch[f.kind] = [
                    d.on_flow for d in self.detectors if d.kinds is None or f.kind in d.kinds
                ]
            for on_flow in handlers:
                found = on_flow(f)
                if found:
                    alerts.extend(found)
        return alerts


def bench_detectors(n: int = 100_000, seed: int = 1) -> float:
    """Postings per second the full suite sustains in this process on `n` postings of
    corridor traffic (both rails, planted cases included). Only the detection loop is timed."""
    from services.supervision.typologies import build_scenario

    scale = max(0.03, 1.2 * n / 150_000)  # scale 1.0 writes ~150k postings
    scenario = build_scenario(seed=seed, scale=scale)
    while len(scenario.postings) < n:
        scale *= 1.5 * n / max(1, len(scenario.postings))
        scenario = build_scenario(seed=seed, scale=scale)
    postings = scenario.postings[:n]
    suite = DetectorSuite(scenario.policy())
    started = time.perf_counter()
    for p in postings:
        suite.observe(p)
    suite.flush()
    elapsed = time.perf_counter() - started
    return n / elapsed if elapsed > 0 else float("inf")
