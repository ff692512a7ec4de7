"""Planted laundering settled as real payments through this run's nodes and bridge.

The supervision team's `TypologyInjector` draws CBDC-rail cases (structuring rings, mule fan-ins,
round-trips through shells...) into a recording world: instead of writing synthetic postings, each
of its payments, loads, cash-outs and voucher movements becomes an event. `PlantedLaundering` then
1. opens a REAL wallet on the jurisdiction's node for every planted wallet, with the planted tier
   (merchants as merchant wallets with their category), in bulk;
2. starts the supervision service (its own process, own database) following every ledger's feed
   from where the set-up ends (set-up postings carry the wall clock as business time; the run's
   payments carry virtual business time);
3. replays the events in business-time order alongside the payment loop, paced by the loop's
   business clock (one lane per case, concurrently; the loop waits for each hour's planted
   events before its next step, so planted payments are not stamped hours behind the ledgers'
   clock), and starts the service with `max_lateness_s` = the loop's span of concurrently
   settling payments, so its merge judges postings in business-time order: domestic payments through Wallets.Pay, cross-border ones through
   Bridge.CrossBorderPay, placements through Wallets.LoadWallet, cash-outs and voucher legs as
   operator ledger transfers;
4. afterwards waits until every feed is caught up and detected, lists the alerts as each
   jurisdiction's supervisor, and keeps the ground truth in real ids for scoring.

Amounts follow the planted shapes; where the bridge's FX and fee leave a wallet a little short of
what the shape says it forwards, the payment is clipped to what the wallet holds. A population
wallet (a scam victim, a shopper) or a launderer's cover shopping is topped up from the holder's
own bank account when short (a `load`: own money, not third-party value to the detectors).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc

from corridor.scenario.schema import Scenario

MIN_CASES_PER_TYPOLOGY = 3
MIN_DAYS = 4  # the injector needs a warm-up day and 2.5 days for a case to play out
PACE_POLL_S = 0.02
SETTLE_LANES = 16  # planted cases settling at once within one window of the loop
STEP_S = 3600.0  # the engine's step: a step's payments are on their way once it is recorded
CATCH_UP_TIMEOUT_S = 90.0
TICK_AFTER_S = 300.0  # a last posting this long after everything closes every open flow
WORLD_SEED_SALT = 0x5A17


def max_lateness_s() -> float:
    """How far behind the newest posting a posting of this run may reach a feed: the loop keeps
    CBDC_STEPS_IN_FLIGHT steps settling at once, and the planted events of a step settle before
    the next one starts (one more step)."""
    from corridor.scenario.engine import CBDC_STEPS_IN_FLIGHT

    return (CBDC_STEPS_IN_FLIGHT + 1) * STEP_S


@dataclass(frozen=True, slots=True)
class PlantedEvent:
    """One movement of the planted traffic, in the world's business time."""

    at: float
    order: int
    action: str  # pay | load | redeem | grant
    payer: Any  # services.supervision.world.Wallet (None for load/grant)
    payee: Any
    amount_minor: int
    kind: str  # p2p | merchant | voucher | load | redeem
    mcc: str
    case_id: str  # "" for population traffic (a shopper at the colluding merchant)


def _recording_world(seed: int, days: int) -> Any:
    from bridge.fx import mid_rate
    from services.supervision.world import CorridorWorld

    class RecordingWorld(CorridorWorld):
        """The injector's world, recording each movement instead of writing postings; FX at
        the bridge's own mid rate so planted onward amounts match what payees receive."""

        events: list[PlantedEvent]

        def _rec(self, action: str, a: Any, b: Any, amount: int, at: float, kind: str,
                 mcc: str, tag: str) -> None:  # fmt: skip
            if amount > 0:
                self.events.append(PlantedEvent(at, len(self.events), action, a, b, int(amount),
                                                kind, mcc, tag))  # fmt: skip

        def pay(self, a: Any, b: Any, amount_minor: int, at: float, kind: str = "p2p",
                mcc: str = "", tag: str = "") -> None:  # fmt: skip
            self._rec("pay", a, b, amount_minor, at, kind, mcc, tag)

        def load(self, w: Any, amount_minor: int, at: float, tag: str = "") -> None:
            self._rec("load", None, w, amount_minor, at, "load", "", tag)

        def redeem(self, w: Any, amount_minor: int, at: float, tag: str = "") -> None:
            self._rec("redeem", w, None, amount_minor, at, "redeem", "", tag)

        def grant_voucher(self, w: Any, amount_minor: int, at: float, tag: str = "") -> None:
            self._rec("grant", None, w, amount_minor, at, "voucher", "", tag)

        def convert(self, amount_minor: int, src: str, dst: str) -> int:
            return int(mid_rate(src, dst).convert(amount_minor)[0])

    w = RecordingWorld(seed, days)
    w.events = []
    return w


@dataclass
class PlantPlan:
    """The drawn cases (world ids, world times) and their events."""

    cases: list[Any]  # services.supervision.typologies.PlantedCase (world ids)
    events: list[PlantedEvent]
    merchants: dict[str, str]  # world wallet id -> merchant category
    t0: float  # world business time that maps to the scenario's start
    requested: list[str]
    unsupported: dict[str, str]
    watch_list: frozenset[str] = frozenset()  # world ids of listed parties (watch_list cases)


def plan_cases(s: Scenario, total_payments: int) -> PlantPlan:
    """Draw CBDC-rail cases of the scenario's typologies until planted payments reach
    `injection_rate` x payments (at least MIN_CASES_PER_TYPOLOGY cases each)."""
    from services.supervision.typologies import (
        CBDC_TYPOLOGIES,
        NormalTraffic,
        TypologyInjector,
    )
    from services.supervision.world import T0

    sup = s.supervision
    assert sup is not None
    requested = [t.name for t in sup.typologies]
    unsupported = {t: "not a typology of the supervision service" for t in requested
                   if t not in CBDC_TYPOLOGIES}  # fmt: skip
    weights = [(t.name, t.weight) for t in sup.typologies if t.name not in unsupported]
    world = _recording_world(s.seed ^ WORLD_SEED_SALT, max(MIN_DAYS, math.ceil(s.days)))
    population = NormalTraffic(world, 0.02).build_population()
    injector = TypologyInjector(world, population)
    if weights and s.days >= MIN_DAYS:
        rng = random.Random(s.seed ^ WORLD_SEED_SALT)
        target = sup.injection_rate * total_payments
        for name, _ in weights:
            for _ in range(MIN_CASES_PER_TYPOLOGY):
                injector.plant(name, "cbdc")
        names, ws = zip(*weights, strict=True)
        while sum(1 for e in world.events if e.action == "pay") < target:
            injector.plant(rng.choices(names, ws)[0], "cbdc")
    elif weights:
        unsupported.update({n: f"run shorter than {MIN_DAYS} days" for n, _ in weights})
    events = sorted(world.events, key=lambda e: (e.at, e.order))
    merchants = {m.id: mcc for ms in population.merchants.values() for m, mcc in ms}
    for e in events:
        if e.kind in ("merchant", "voucher") and e.action == "pay" and e.mcc:
            merchants.setdefault(e.payee.id, e.mcc)
    return PlantPlan(injector.cases({}), events, merchants, T0, requested, unsupported,
                     frozenset(injector.watch_list))  # fmt: skip


@dataclass
class EventOutcome:
    ok: bool
    reason: str = ""
    transfer_ids: list[str] = field(default_factory=list)
    payment_id: str = ""


@dataclass
class LiveResult:
    """What the injection settled and what the supervision service said about it."""

    plan: PlantPlan
    real: dict[str, str]  # world wallet id -> real wallet id
    case_transfers: dict[str, set[str]]
    case_payments: dict[str, set[str]]  # case id -> bridge/ledger payment ids
    outcomes: list[tuple[PlantedEvent, EventOutcome, float]]  # (event, outcome, real time)
    alerts: list[Any]  # services.supervision.detectors.Alert (merged across supervisors)
    feeds: dict[str, Any]
    topups: int = 0
    clipped: int = 0
    caught_up: bool = False
    alerts_truncated: bool = False
    business_clock: dict[str, float] = field(default_factory=dict)


class PlantedLaundering:
    """Runs beside the payment loop (see the module docstring)."""

    def __init__(self, sim: Any, client: Any) -> None:
        self.sim = sim
        self.client = client
        self.s: Scenario = sim.s
        self.start = self.s.start_epoch_s
        self.bal: dict[str, int] = defaultdict(int)
        self.outcomes: list[tuple[PlantedEvent, EventOutcome, float]] = []
        self.topups = 0
        self.clipped = 0
        self._seq = 0
        self.fleet: Any = None
        self.loop_done = False
        self.settled_before = 0.0  # every event before this (s after start) has settled

    # ------------------------------------------------------------------ set-up
    async def open(self) -> None:
        self.plan = plan_cases(self.s, self.sim.demand.total_payments)
        self.case_wallets = {c.case_id: c.wallets for c in self.plan.cases}
        self.real = await self._open_wallets()
        await self._start_supervision()

    def real_at(self, world_at: float) -> float:
        return self.start + (world_at - self.plan.t0)

    async def _open_wallets(self) -> dict[str, str]:
        from corridor.scenario.services import OPERATOR, operator
        from corridor.v1 import node_pb2, node_pb2_grpc

        wallets: dict[str, Any] = {}
        for e in self.plan.events:
            for w in (e.payer, e.payee):
                if w is not None and w.tier > 0:
                    wallets.setdefault(w.id, w)
        by_j: dict[str, list[Any]] = defaultdict(list)
        for w in wallets.values():
            by_j[w.jurisdiction].append(w)
        real: dict[str, str] = {}
        tag = self.sim.tag
        for j, ws in sorted(by_j.items()):
            if j.lower() not in self.client.channels:
                raise RuntimeError(f"planted wallets in {j}, which this run does not start")
            stub = node_pb2_grpc.WalletsStub(self.client.channels[j.lower()])
            reqs = []
            for w in ws:
                mcc = self.plan.merchants.get(w.id, "")
                kind = 3 if mcc else (2 if w.tier == 1 else 1)
                reqs.append(node_pb2.OpenWalletRequest(
                    idempotency_key=f"{tag}-aml-{w.id}", operator_id=OPERATOR, kind=kind,
                    tier=w.tier, holder_name=f"synthetic holder {w.id}", merchant_category=mcc))  # fmt: skip
            for k in range(0, len(reqs), 10_000):
                resp = await stub.OpenWallets(
                    node_pb2.OpenWalletsRequest(wallets=reqs[k : k + 10_000]), metadata=operator(j)
                )
                for w, rid in zip(ws[k : k + 10_000], resp.wallet_ids, strict=True):
                    real[w.id] = rid
        return real

    async def _start_supervision(self) -> None:
        """The supervision service in its own process, reading every feed after the set-up."""
        from corridor import pg
        from corridor.bench import free_port
        from corridor.fleet import Fleet
        from services.supervision.server import MAX_LATENESS_ENV

        ledgers = {k.removeprefix("CORRIDOR_DATABASE_URL_"): v
                   for k, v in self.sim.database_env().items()}  # fmt: skip
        server = pg.server_url(self.sim.o.state)
        self.db_url = pg.with_database(server, f"corridor_{self.sim.tag}_supervision")
        await pg.drop_database(self.db_url)
        await pg.ensure_database(self.db_url)
        await _seed_cursors(self.db_url, ledgers)
        fleet = Fleet.plan(self.sim.o.state, server, ["supervision"], {"supervision": free_port()})
        nodes = ",".join(f"{c}={self.client.endpoints[c.lower()]}" for c in self.sim.codes)
        fleet.extra_env = {
            "CORRIDOR_NODES": nodes,
            "CORRIDOR_BRIDGE_TARGET": self.client.endpoints["bridge"],
            "CORRIDOR_DATABASE_URL_SUPERVISION": self.db_url,
            MAX_LATENESS_ENV: str(max_lateness_s()),
            **self._watch_list_env(),
        }
        self.fleet = fleet
        await asyncio.to_thread(fleet.start)
        from corridor.server import channel
        from corridor.v1 import supervision_pb2_grpc

        self.sup_channel = channel(fleet.get("supervision").target)
        self.sup = supervision_pb2_grpc.SupervisionStub(self.sup_channel)

    def _watch_list_env(self) -> dict[str, str]:
        """The listed parties of the planted watch_list cases, as the supervisor's file of real
        (pseudonymous) wallet ids, read by the service at start."""
        from services.supervision.server import WATCH_LIST_ENV

        listed = sorted(self.real[w] for w in self.plan.watch_list if w in self.real)
        if not listed:
            return {}
        path = self.sim.o.state / f"watch-list-{self.sim.tag}.txt"
        path.write_text(
            "# planted by corridor simulate (aml typologies)\n" + "\n".join(listed) + "\n"
        )
        return {WATCH_LIST_ENV: str(path)}

    async def close(self) -> None:
        if self.fleet is not None:
            await self.sup_channel.close()
            await asyncio.to_thread(self.fleet.stop)
            self.fleet = None
            if not self.sim.o.keep_databases:
                from corridor import pg

                await pg.drop_database(self.db_url)

    # ------------------------------------------------------------------ replay
    async def follow(self) -> None:
        """Settle each event once the loop's business clock has passed it.

        The events of one window settle concurrently, one lane per case (a case's own order is
        kept: a mule forwards only after it was paid), so the planted traffic keeps pace with
        the loop; `settled_before` tells the loop how far it got (see `wait_settled`)."""
        i, events = 0, self.plan.events
        while i < len(events):
            ts = self.sim.timeseries
            clock = math.inf if self.loop_done else (ts[-1]["t_s"] + STEP_S) if ts else 0.0
            j = i
            while j < len(events) and self.real_at(events[j].at) - self.start < clock:
                j += 1
            if j > i:
                await self._settle_window(events[i:j])
                i = j
            self.settled_before = clock
            if i < len(events):
                await asyncio.sleep(PACE_POLL_S)
        self.settled_before = math.inf

    async def _settle_window(self, window: list[PlantedEvent]) -> None:
        lanes: dict[str, list[PlantedEvent]] = defaultdict(list)
        for e in window:
            party = e.payer if e.payer is not None else e.payee
            lanes[e.case_id or f"population:{party.id}"].append(e)
        gate = asyncio.Semaphore(SETTLE_LANES)

        async def lane(evs: list[PlantedEvent]) -> None:
            async with gate:
                for e in evs:
                    await self.settle(e)

        await asyncio.gather(*(lane(evs) for evs in lanes.values()))

    async def wait_settled(self, before_s: float, follower: asyncio.Task[None]) -> None:
        """Hold the payment loop until every planted event before `before_s` (seconds after the
        start) has settled: otherwise the loop races days ahead and the planted payments reach
        the ledgers stamped far behind everyone else's business time (measured: a median of
        29 h, up to 81 h behind on CN's feed), which no streaming detector can judge in time."""
        while self.settled_before < before_s and not follower.done():
            await asyncio.sleep(PACE_POLL_S)

    def _key(self) -> str:
        self._seq += 1
        return f"{self.sim.tag}-aml-{self._seq}"

    async def settle(self, e: PlantedEvent) -> None:
        at_us = int(self.real_at(e.at) * 1e6)
        try:
            out = await self._settle(e, at_us)
        except grpc.aio.AioRpcError as exc:
            from corridor.errors import error_details

            out = EventOutcome(False, error_details(exc).reason or exc.code().name)
        self.outcomes.append((e, out, at_us / 1e6))

    async def _settle(self, e: PlantedEvent, at_us: int) -> EventOutcome:
        if e.action == "load":
            return await self._load(e.payee, e.amount_minor, at_us)
        if e.action == "grant":
            return await self._raw(
                e.payee.jurisdiction, None, e.payee, e.amount_minor, "voucher", at_us
            )
        amount = e.amount_minor
        have = self.bal[e.payer.id]
        if have < amount:
            cover = e.kind == "merchant" or e.payer.id not in self.case_wallets.get(e.case_id, ())
            if cover:  # the holder loads the shortfall from its own bank account first
                top = await self._load(e.payer, amount - have, at_us - 60_000_000)
                self.topups += 1
                if not top.ok:
                    return top
            elif have > 0:
                amount, self.clipped = have, self.clipped + 1
            else:
                return EventOutcome(False, "NOTHING_TO_FORWARD")
        if e.action == "redeem":
            return await self._raw(e.payer.jurisdiction, e.payer, None, amount, "redeem", at_us)
        if e.kind == "voucher":
            return await self._raw(e.payer.jurisdiction, e.payer, e.payee, amount, "voucher", at_us)
        if e.payer.jurisdiction == e.payee.jurisdiction:
            return await self._pay(e, amount, at_us)
        return await self._cross_border(e, amount, at_us)

    async def _load(self, w: Any, amount: int, at_us: int) -> EventOutcome:
        from corridor.scenario.services import operator
        from corridor.v1 import node_pb2, node_pb2_grpc

        stub = node_pb2_grpc.WalletsStub(self.client.channels[w.jurisdiction.lower()])
        r = await stub.LoadWallet(node_pb2.LoadWalletRequest(
            idempotency_key=self._key(), wallet_id=self.real[w.id], amount_minor=amount,
            currency=w.currency, business_at_us=at_us), metadata=operator(w.jurisdiction))  # fmt: skip
        self.bal[w.id] += amount
        return EventOutcome(True, transfer_ids=[r.transfer_id])

    async def _raw(self, j: str, debit: Any, credit: Any, amount: int, kind: str, at_us: int) -> EventOutcome:  # fmt: skip
        from corridor.scenario.services import OPERATOR, operator
        from corridor.v1 import ledger_pb2, ledger_pb2_grpc

        reserve = f"{j.lower()}.op.{OPERATOR}"
        tid = self._key()
        t = ledger_pb2.Transfer(
            id=tid, debit_account_id=self.real[debit.id] if debit else reserve,
            credit_account_id=self.real[credit.id] if credit else reserve, amount_minor=amount,
            currency=(debit or credit).currency, kind=kind, business_at_us=at_us,
        )  # fmt: skip
        stub = ledger_pb2_grpc.LedgerStub(self.client.channels[j.lower()])
        resp = await stub.CreateTransfers(
            ledger_pb2.CreateTransfersRequest(transfers=[t]), metadata=operator(j)
        )
        code = resp.results[0].code
        if code not in (ledger_pb2.OK, ledger_pb2.EXISTS):
            return EventOutcome(False, ledger_pb2.TransferCode.Name(code))
        if debit:
            self.bal[debit.id] -= amount
        if credit:
            self.bal[credit.id] += amount
        return EventOutcome(True, transfer_ids=[tid])

    async def _pay(self, e: PlantedEvent, amount: int, at_us: int) -> EventOutcome:
        from corridor.scenario.services import operator
        from corridor.v1 import node_pb2, node_pb2_grpc

        j = e.payer.jurisdiction
        stub = node_pb2_grpc.WalletsStub(self.client.channels[j.lower()])
        r = await stub.Pay(node_pb2.PayRequest(
            idempotency_key=self._key(), from_wallet_id=self.real[e.payer.id],
            to_wallet_id=self.real[e.payee.id], amount_minor=amount, currency=e.payer.currency,
            kind=e.kind if e.kind in ("p2p", "merchant") else "p2p", business_at_us=at_us),
            metadata=operator(j))  # fmt: skip
        self.bal[e.payer.id] -= amount
        self.bal[e.payee.id] += amount
        return EventOutcome(True, transfer_ids=[r.transfer_id])

    async def _cross_border(self, e: PlantedEvent, amount: int, at_us: int) -> EventOutcome:
        from corridor.scenario.services import operator
        from corridor.v1 import bridge_pb2

        a, b = e.payer, e.payee
        r = await self.client.bridge.CrossBorderPay(bridge_pb2.CrossBorderPayRequest(
            idempotency_key=self._key(), payer_jurisdiction=a.jurisdiction,
            payer_wallet_id=self.real[a.id], payee_jurisdiction=b.jurisdiction,
            payee_wallet_id=self.real[b.id], amount_minor=amount, currency=a.currency,
            purpose="retail", business_at_us=at_us), metadata=operator(",".join(self.sim.codes)))  # fmt: skip
        if r.status != 4:
            return EventOutcome(False, r.reason or "NOT_SETTLED", payment_id=r.payment_id)
        self.bal[a.id] -= amount
        self.bal[b.id] += r.payee_amount_minor
        return EventOutcome(True, transfer_ids=[leg.transfer_id for leg in r.legs],
                            payment_id=r.payment_id)  # fmt: skip

    # ------------------------------------------------------------------ detection
    async def detect(self) -> LiveResult:
        """Close every open flow, wait for the feeds, and collect the alerts."""
        last = max([t for _, _, t in self.outcomes] + [self.start + self.s.horizon_s])
        tick_at = int((last + TICK_AFTER_S) * 1e6)
        heads = await self._ticks(tick_at)
        caught, feeds = await self._caught_up(heads)
        alerts, truncated = await self._alerts()
        case_transfers: dict[str, set[str]] = defaultdict(set)
        case_payments: dict[str, set[str]] = defaultdict(set)
        for e, out, _ in self.outcomes:
            if e.case_id and out.ok:
                case_transfers[e.case_id].update(out.transfer_ids)
                if out.payment_id:
                    case_payments[e.case_id].add(out.payment_id)
        return LiveResult(self.plan, self.real, case_transfers, case_payments, self.outcomes,
                          alerts, feeds, self.topups, self.clipped, caught, truncated)  # fmt: skip

    async def _ticks(self, at_us: int) -> dict[str, int]:
        """One tiny load per node, after everything: every feed's business time passes the last
        planted leg, so the assembler releases every flow (no wall-clock wait)."""
        from corridor.scenario.services import OPERATOR, operator
        from corridor.v1 import node_pb2, node_pb2_grpc

        heads: dict[str, int] = {}
        for j, cur in zip(self.sim.codes, self.sim.currencies, strict=True):
            stub = node_pb2_grpc.WalletsStub(self.client.channels[j.lower()])
            w = await stub.OpenWallets(node_pb2.OpenWalletsRequest(wallets=[node_pb2.OpenWalletRequest(
                idempotency_key=f"{self.sim.tag}-aml-clock", operator_id=OPERATOR, kind=2, tier=1,
                holder_name="corridor clock")]), metadata=operator(j))  # fmt: skip
            r = await stub.LoadWallet(node_pb2.LoadWalletRequest(
                idempotency_key=f"{self.sim.tag}-aml-tick", wallet_id=w.wallet_ids[0], amount_minor=1,
                currency=cur, business_at_us=at_us), metadata=operator(j))  # fmt: skip
            heads[j] = r.seq
        return heads

    async def _caught_up(self, heads: dict[str, int]) -> tuple[bool, dict[str, Any]]:
        from corridor.security.credentials import metadata_for
        from corridor.v1 import supervision_pb2

        md = metadata_for("supervisor", self.sim.codes[0], self.sim.codes[0])
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        stable = 0
        last: tuple[int, ...] = ()
        st: Any = None
        while time.monotonic() < deadline:
            st = await self.sup.GetFeedStatus(supervision_pb2.GetFeedStatusRequest(), metadata=md)
            seqs = {f.ledger: f for f in st.feeds}
            done = (
                all(f.connected and f.caught_up and f.lag_s == 0 and f.detected_seq == f.stored_seq
                    for f in st.feeds)
                and st.buffered == 0
                and all(j in seqs and seqs[j].stored_seq >= s for j, s in heads.items())
            )  # fmt: skip
            now = tuple(f.stored_seq for f in st.feeds) + (st.postings_detected,)
            stable = stable + 1 if done and now == last else 0
            last = now
            if stable >= 3:
                break
            await asyncio.sleep(0.3)
        feeds = {}
        if st is not None:
            feeds = {f.ledger: {"stored_seq": f.stored_seq, "detected_seq": f.detected_seq,
                                "caught_up": f.caught_up, "lag_s": f.lag_s} for f in st.feeds}  # fmt: skip
        return stable >= 3, feeds

    async def _alerts(self) -> tuple[list[Any], bool]:
        """Every alert, as the union of what each jurisdiction's supervisor sees."""
        from corridor.security.credentials import metadata_for
        from corridor.v1 import supervision_pb2
        from services.supervision.detectors import Alert
        from services.supervision.typologies import CBDC_TYPOLOGIES

        merged: dict[str, Alert] = {}
        truncated = False
        for j in self.sim.codes:
            md = metadata_for("supervisor", j, j)
            for typ in CBDC_TYPOLOGIES:
                r = await self.sup.ListAlerts(
                    supervision_pb2.ListAlertsRequest(typology=typ, limit=1000), metadata=md
                )
                truncated |= len(r.alerts) >= 1000
                for a in r.alerts:
                    m = merged.get(a.alert_id)
                    if m is None:
                        merged[a.alert_id] = Alert(a.alert_id, a.typology, a.score, list(a.subjects),
                                                   list(a.evidence), a.raised_at_us / 1e6, a.rail)  # fmt: skip
                    else:
                        m.subjects.extend(x for x in a.subjects if x not in m.subjects)
                        m.evidence.extend(x for x in a.evidence if x not in m.evidence)
        return sorted(merged.values(), key=lambda a: (a.raised_at, a.alert_id)), truncated


async def _seed_cursors(url: str, ledgers: dict[str, str]) -> None:
    """Start every feed after the set-up: its postings carry the wall clock as business time,
    which would put the detectors' clock past the whole simulated week."""
    import asyncpg

    from services.supervision.graph import SupervisionStore

    store = await SupervisionStore.open(url)
    await store.close()
    conn = await asyncpg.connect(url)
    try:
        for ledger, lurl in ledgers.items():
            lc = await asyncpg.connect(lurl)
            try:
                head = await lc.fetchval("SELECT coalesce(max(seq), 0) FROM transfers")
            finally:
                await lc.close()
            await conn.execute(
                "INSERT INTO feed_cursors (ledger, last_seq) VALUES ($1, $2) "
                "ON CONFLICT (ledger) DO UPDATE SET last_seq = EXCLUDED.last_seq",
                ledger, int(head),
            )  # fmt: skip
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def planted_laundering(sim: Any, client: Any) -> AsyncIterator[None]:
    """Around the payment loop: plant, settle alongside, detect after. Stores the result on
    `sim.aml_result` (None when the scenario plants nothing)."""
    sim.aml_result = None
    sup = sim.s.supervision
    if sup is None or not sup.typologies:
        yield
        return
    live = PlantedLaundering(sim, client)
    try:
        with sim.console.status(
            "planting laundering cases: opening their wallets, starting supervision..."
        ):
            await live.open()
        follower = asyncio.create_task(live.follow())

        async def settled_before(start: float) -> None:
            # The loop does not start a step before the planted events before it have settled.
            await live.wait_settled(start, follower)

        sim.before_step.append(settled_before)
        try:
            yield
        except BaseException:
            follower.cancel()
            raise
        finally:
            sim.before_step.remove(settled_before)
        live.loop_done = True
        await follower
        with sim.console.status(
            "supervision: waiting for every feed to catch up, listing alerts..."
        ):
            sim.aml_result = await live.detect()
    finally:
        await live.close()
