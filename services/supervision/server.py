"""The supervision service: live feeds -> store -> detectors, and the supervisors' API.

`create_server(settings, nodes, bridge_target)` opens the supervision database
(`pg.ledger_url("supervision")` unless `settings.database_url`), rebuilds the detectors' sliding
windows from recent stored postings, starts one `FeedConsumer` per ledger (each node, and the
bridge's own Ledger service) and the detection loop, and serves `corridor.v1.Supervision`.
`main()` adds signal handling only.

Every RPC starts with `supervisor_of(caller)` (access.py); every refusal of a supervisor (or of
someone who is not one) is written to the hash-chained audit log before PERMISSION_DENIED goes
back, and so is every reveal and every freeze order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from corridor import pg, telemetry
from corridor.config import JURISDICTIONS, SERVICE_PORTS, ServiceSettings
from corridor.errors import CorridorError, invalid, not_found, permission_denied
from corridor.server import RunningServer, current_caller, serve_until_signalled, start_server
from corridor.v1 import (
    kyc_pb2,
    kyc_pb2_grpc,
    ledger_pb2,
    node_pb2,
    node_pb2_grpc,
    supervision_pb2_grpc,
)
from corridor.v1 import (
    supervision_pb2 as pb,
)
from services.supervision.access import (
    RevealPolicy,
    Supervisor,
    caller_name,
    supervisor_of,
    visible_legs,
)
from services.supervision.detectors import Alert, DetectorPolicy, DetectorSuite
from services.supervision.graph import (
    AuditChainBroken,
    RevealRecord,
    SupervisionStore,
)
from services.supervision.livefeed import (
    FeedConsumer,
    FeedState,
    PostingMerge,
    feed_channel,
)
from services.supervision.postings import (
    BRIDGE,
    Posting,
    account_jurisdiction,
    is_wallet_account,
)

log = logging.getLogger("corridor.supervision")

MAX_ALERTS = 1_000


def _us(t: float) -> int:
    return round(t * 1e6)


def _since(us: int) -> float:
    return us / 1e6 if us else float("-inf")


def _until(us: int) -> float:
    return us / 1e6 if us else float("inf")


@dataclass
class SupervisionSettings:
    """What the supervision service reads at start (beyond bind and database)."""

    detectors: DetectorPolicy = field(default_factory=DetectorPolicy)
    reveal: RevealPolicy = field(default_factory=RevealPolicy)
    feed_batch_size: int = 2_000  # postings per StreamPostings message
    detect_chunk: int = 5_000  # postings judged between two yields of the event loop
    startup_grace_s: float = 2.0  # a feed not yet connected holds the merge back this long
    quiet_s: float = 0.5  # a delivering feed silent this long stops holding the merge back
    # Business seconds a posting may arrive behind the newest one seen (PostingMerge): 0 trusts
    # the feeds' order; a simulator settling hours of payments concurrently sets its span.
    max_lateness_s: float = 0.0
    tick_s: float = 0.2  # how often a quiet service advances business time
    replay_limit: int = 200_000  # postings replayed into the detectors at start
    node_timeout_s: float = 5.0  # freeze orders and reveals forwarded to a node

    @property
    def replay_window_s(self) -> float:
        """Rebuild every detector window: the longest one decides."""
        p = self.detectors
        return max(p.cycle_window_s, p.activity_horizon_s, p.scatter_window_s, p.fan_window_s,
                   p.structuring_window_s, p.voucher_window_s, p.alert_cooldown_s)  # fmt: skip


def node_targets_from_env() -> dict[str, str]:
    """CORRIDOR_NODES="CN=host:port,HK=..." (what `corridor up` sets): exactly those nodes; unset,
    every jurisdiction at its default local port."""
    raw = os.environ.get("CORRIDOR_NODES", "")
    pairs = [p.strip() for p in raw.split(",") if p.strip()]
    if not pairs:
        return {code: f"127.0.0.1:{j.default_port}" for code, j in JURISDICTIONS.items()}
    out = {}
    for part in pairs:
        code, _, target = part.partition("=")
        code = code.strip().upper()
        if code not in JURISDICTIONS or not target.strip():
            raise ValueError(f"CORRIDOR_NODES: bad entry {part!r} (expected CODE=host:port)")
        out[code] = target.strip()
    return out


def bridge_target_from_env() -> str:
    return os.environ.get("CORRIDOR_BRIDGE_TARGET", f"127.0.0.1:{SERVICE_PORTS['bridge']}")


MAX_LATENESS_ENV = "CORRIDOR_SUPERVISION_MAX_LATENESS_S"
WATCH_LIST_ENV = "CORRIDOR_SUPERVISION_WATCH_LIST"
KNOWN_SERVICES_ENV = "CORRIDOR_SUPERVISION_KNOWN_SERVICES"
MAX_LISTED = 1_000_000


def settings_from_env() -> SupervisionSettings:
    """SupervisionSettings with what a launcher may set in the environment:

    CORRIDOR_SUPERVISION_MAX_LATENESS_S   business seconds, >= 0 (see PostingMerge)
    CORRIDOR_SUPERVISION_WATCH_LIST       a file of watch-listed (sanctioned, designated) wallet
                                          or address ids, one per line, `#` comments
    CORRIDOR_SUPERVISION_KNOWN_SERVICES   a file of attributed service accounts (exchanges, ramps,
                                          processors) whose fan-in/fan-out is their business
    A bad value is a ValueError naming the variable (and the file's line)."""
    lateness = _lateness_from_env()
    detectors = dataclasses.replace(
        DetectorPolicy(),
        watch_list=_ids_from_file(WATCH_LIST_ENV),
        known_services=_ids_from_file(KNOWN_SERVICES_ENV),
    )
    return SupervisionSettings(detectors=detectors, max_lateness_s=lateness)


def _lateness_from_env() -> float:
    raw = os.environ.get(MAX_LATENESS_ENV, "").strip()
    if not raw:
        return 0.0
    try:
        lateness = float(raw)
    except ValueError:
        raise ValueError(f"{MAX_LATENESS_ENV}: not a number of seconds ({raw!r})") from None
    if not lateness >= 0 or lateness == float("inf"):
        raise ValueError(f"{MAX_LATENESS_ENV}: must be a finite number >= 0 (got {raw!r})")
    return lateness


def _ids_from_file(variable: str) -> frozenset[str]:
    """Pseudonymous ids, one per line; blank lines and `# ...` comments ignored."""
    path = os.environ.get(variable, "").strip()
    if not path:
        return frozenset()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{variable}: cannot read {path}: {exc}") from None
    ids: set[str] = set()
    for n, line in enumerate(lines, 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if any(c.isspace() for c in entry) or len(entry) > 128:
            raise ValueError(
                f"{variable}: {path}:{n}: {entry[:40]!r} is not one id (no spaces, <= 128 chars)"
            )
        ids.add(entry)
    if len(ids) > MAX_LISTED:
        raise ValueError(f"{variable}: {path}: more than {MAX_LISTED:,} ids")
    return frozenset(ids)


class SupervisionService:
    """The running service: store, feeds, merge, detectors and counters."""

    def __init__(
        self,
        store: SupervisionStore,
        nodes: dict[str, str],
        bridge_target: str,
        settings: SupervisionSettings | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or SupervisionSettings()
        self.nodes = {code.upper(): target for code, target in nodes.items()}
        targets = {**self.nodes, **({BRIDGE: bridge_target} if bridge_target else {})}
        self.feeds = {ledger: FeedState(ledger, target) for ledger, target in targets.items()}
        self.merge = PostingMerge(
            self.feeds,
            startup_grace_s=self.settings.startup_grace_s,
            quiet_s=self.settings.quiet_s,
            max_lateness_s=self.settings.max_lateness_s,
        )
        self.suite = DetectorSuite(self.settings.detectors)
        self.consumers: list[FeedConsumer] = []
        self.postings_detected = 0
        self.alerts_raised = 0
        self.replayed = 0
        self.detect_s = 0.0  # time inside the detectors (CPU-bound)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._channels: dict[str, grpc.aio.Channel] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Replay recent postings into the detectors, then follow every feed."""
        await self._replay()
        cursors = await self.store.cursors()
        for ledger, state in self.feeds.items():
            state.stored_seq = state.detected_seq = cursors.get(ledger, 0)
            consumer = FeedConsumer(
                state, self.store, self.merge, self._wake.set,
                batch_size=self.settings.feed_batch_size,
            )  # fmt: skip
            self.consumers.append(consumer)
            self._tasks.append(asyncio.create_task(consumer.run(), name=f"feed-{ledger}"))
        self._tasks.append(asyncio.create_task(self._detect_forever(), name="detect"))

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        for ch in self._channels.values():
            await ch.close()
        self._channels.clear()
        await self.store.close()

    async def _replay(self) -> None:
        """Rebuild the detectors' sliding windows from stored postings (a restart keeps its
        memory); alerts raised again are dropped by the store's cooldown check."""
        latest = await self.store.latest_business_at()
        if latest is None:
            return
        postings = await self.store.replay_postings(
            latest - self.settings.replay_window_s, self.settings.replay_limit
        )
        chunk = self.settings.detect_chunk
        for start in range(0, len(postings), chunk):
            await self._judge(postings[start : start + chunk])
        self.replayed = len(postings)
        self.postings_detected, self.detect_s = 0, 0.0

    # --- detection ---------------------------------------------------------------------------
    async def _detect_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.tick_s)
            self._wake.clear()
            try:
                while batch := self.merge.pop_ready(self.settings.detect_chunk):
                    await self._judge(batch)
                    for p in batch:
                        feed = self.feeds.get(p.ledger)
                        if feed is not None and p.seq > feed.detected_seq:
                            feed.detected_seq = p.seq
                    await asyncio.sleep(0)
                if self.merge.idle() and self.merge.max_business_at > float("-inf"):
                    # Every feed is quiet: business time still passes (at the wall clock's
                    # pace since the last posting), so payments finish assembling.
                    quiet_for = self.merge.clock() - self.merge.last_push_at
                    await self._save(self.suite.advance(self.merge.max_business_at + quiet_for))
            except Exception:  # keep judging; a restart replays what was missed
                log.exception("detection step failed")

    async def _judge(self, postings: list[Posting]) -> None:
        observe = self.suite.observe
        alerts: list[Alert] = []
        started = time.perf_counter()
        for p in postings:
            if p.phase == "posted":
                found = observe(p)
                if found:
                    alerts.extend(found)
        self.detect_s += time.perf_counter() - started
        self.postings_detected += len(postings)
        await self._save(alerts)

    async def _save(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        keyed = [dataclasses.replace(a, alert_id=_alert_id(a)) for a in alerts]
        self.alerts_raised += await self.store.save_new_alerts(
            keyed, self.settings.detectors.alert_cooldown_s
        )

    # --- state for tests and GetFeedStatus ---------------------------------------------------
    @property
    def postings_ingested(self) -> int:
        return sum(c.ingested for c in self.consumers)

    def caught_up(self) -> bool:
        """Every feed connected and drained, and everything received judged."""
        now, quiet_s = self.merge.clock(), self.settings.quiet_s
        return (
            all(f.caught_up(now, quiet_s) for f in self.feeds.values())
            and len(self.merge) == 0
            and self.postings_detected >= self.postings_ingested
        )

    async def wait_caught_up(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.caught_up():
            if time.monotonic() > deadline:
                raise TimeoutError(f"supervision feeds not caught up: {self.feeds}")
            await asyncio.sleep(0.02)

    def channel(self, target: str) -> grpc.aio.Channel:
        ch = self._channels.get(target)
        if ch is None:
            ch = self._channels[target] = feed_channel(target)
        return ch


def _alert_id(a: Alert) -> str:
    """Stable across restarts: the same finding replayed gets the same id."""
    key = f"{a.typology}|{a.subjects[0] if a.subjects else ''}|{a.raised_at!r}"
    return f"{a.typology}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _posting_pb(p: Posting) -> pb.SupervisedPosting:
    return pb.SupervisedPosting(
        ledger=p.ledger, seq=p.seq, transfer_id=p.transfer_id, payment_id=p.payment_id,
        debit_account=p.debit_account, credit_account=p.credit_account,
        amount_minor=p.amount_minor, currency=p.currency, kind=p.kind,
        business_at_us=_us(p.business_at), debit_jurisdiction=p.debit_jurisdiction,
        credit_jurisdiction=p.credit_jurisdiction, debit_tier=p.debit_tier,
        credit_tier=p.credit_tier, merchant_category=p.merchant_category, phase=p.phase,
    )  # fmt: skip


def _audit_pb(r: RevealRecord) -> pb.AuditEntry:
    return pb.AuditEntry(
        n=r.n, at_us=_us(r.at), supervisor=r.supervisor, jurisdiction=r.jurisdiction,
        wallet=r.wallet, reason=r.reason, case_id=r.case_id, action=r.action, detail=r.detail,
        prev_hash=r.prev_hash, hash=r.hash,
    )  # fmt: skip


def _unavailable(reason: str, message: str) -> CorridorError:
    return CorridorError(grpc.StatusCode.UNAVAILABLE, reason, message)


class SupervisionServicer(supervision_pb2_grpc.SupervisionServicer):
    """`corridor.v1.Supervision`: thin over the store, the scope rules and the nodes."""

    def __init__(self, service: SupervisionService) -> None:
        self.s = service
        self.store = service.store

    # --- who, and refusals -------------------------------------------------------------------
    async def _supervisor(self, rpc: str, subject: str) -> Supervisor:
        caller = current_caller()
        try:
            return supervisor_of(caller)
        except CorridorError as err:
            await self.store.record_audit(
                action="refused", supervisor=caller_name(caller), jurisdiction="",
                wallet=subject or "-", reason=rpc, at=time.time(), detail=err.reason,
            )  # fmt: skip
            raise

    async def _refuse(
        self, sup: Supervisor, rpc: str, subject: str, code: str, message: str,
        stated: str = "", case_id: str = "",
    ) -> CorridorError:  # fmt: skip
        """Audit a refusal; returns the PERMISSION_DENIED error to raise."""
        await self.store.record_audit(
            action="refused", supervisor=sup.name, jurisdiction=sup.jurisdiction,
            wallet=subject or "-", reason=f"{rpc}: {stated}" if stated else rpc,
            at=time.time(), case_id=case_id, detail=code,
        )  # fmt: skip
        return permission_denied(code, message)

    # --- alerts and the flow graph -----------------------------------------------------------
    async def ListAlerts(self, request, context):  # type: ignore[no-untyped-def]
        sup = await self._supervisor("ListAlerts", request.subject)
        if request.subject and not sup.owns(request.subject):
            raise await self._refuse(
                sup, "ListAlerts", request.subject, "OUT_OF_SCOPE",
                f"{request.subject!r} is not an account of {sup.jurisdiction}",
            )  # fmt: skip
        if not 0 <= request.limit <= MAX_ALERTS:
            raise invalid("limit", f"must be 0..{MAX_ALERTS} (got {request.limit})")
        alerts = await self.store.alerts(
            typology=request.typology or None, subject=request.subject or None,
            since=_since(request.since_us), jurisdiction=sup.jurisdiction,
            limit=request.limit or 100,
        )  # fmt: skip
        visible = await self.store.visible_transfer_ids(
            sorted({t for a in alerts for t in a.evidence}), sup.jurisdiction
        )
        out = []
        for a in alerts:
            mine = [w for w in a.subjects if sup.owns(w)]
            out.append(
                pb.SupervisionAlert(
                    alert_id=a.alert_id, typology=a.typology, score=a.score, subjects=mine,
                    evidence=[t for t in a.evidence if t in visible],
                    raised_at_us=_us(a.raised_at), rail=a.rail,
                    withheld_subjects=len(a.subjects) - len(mine),
                )
            )  # fmt: skip
        return pb.ListAlertsResponse(alerts=out)

    async def GetPaymentPath(self, request, context):  # type: ignore[no-untyped-def]
        if not request.payment_id:
            raise invalid("payment_id", "must not be empty")
        sup = await self._supervisor("GetPaymentPath", request.payment_id)
        legs = await self.store.payment_path(request.payment_id)
        if not legs:
            raise not_found("payment_id", f"no payment {request.payment_id!r} in any feed")
        visible, withheld = visible_legs(sup, legs)
        if not visible:
            raise await self._refuse(
                sup, "GetPaymentPath", request.payment_id, "OUT_OF_SCOPE",
                f"payment {request.payment_id!r} has no leg on {sup.jurisdiction}'s ledger",
            )  # fmt: skip
        return pb.PaymentPath(
            payment_id=request.payment_id,
            legs=[_posting_pb(p) for p in visible],
            withheld_ledgers=withheld,
        )

    async def GetCounterparties(self, request, context):  # type: ignore[no-untyped-def]
        if not request.wallet_id:
            raise invalid("wallet_id", "must not be empty")
        hops = request.hops or 2
        if not 1 <= hops <= 6:
            raise invalid("hops", f"must be 1..6 (got {request.hops})")
        sup = await self._supervisor("GetCounterparties", request.wallet_id)
        if not sup.owns(request.wallet_id):
            raise await self._refuse(
                sup, "GetCounterparties", request.wallet_id, "OUT_OF_SCOPE",
                f"{request.wallet_id!r} is not an account of {sup.jurisdiction}",
            )  # fmt: skip
        found = await self.store.counterparties(
            request.wallet_id, hops, since=_since(request.since_us),
            until=_until(request.until_us), walk_prefix=sup.account_prefix,
        )  # fmt: skip
        mine = [c for c in found if sup.owns(c.wallet)]
        foreign: dict[str, int] = {}
        for c in found:
            if not sup.owns(c.wallet):
                j = account_jurisdiction(c.wallet) or "CHAIN"
                foreign[j] = foreign.get(j, 0) + 1
        return pb.GetCounterpartiesResponse(
            counterparties=[pb.CounterpartyView(wallet_id=c.wallet, hops=c.hops) for c in mine],
            foreign=[pb.ForeignCounterparties(jurisdiction=j, wallets=n)
                     for j, n in sorted(foreign.items())],
        )  # fmt: skip

    async def GetJurisdictionFlows(self, request, context):  # type: ignore[no-untyped-def]
        sup = await self._supervisor("GetJurisdictionFlows", "")
        if request.until_us and request.since_us > request.until_us:
            raise invalid("until_us", "must not be before since_us")
        flows = await self.store.jurisdiction_flows(
            _since(request.since_us), _until(request.until_us)
        )
        return pb.GetJurisdictionFlowsResponse(
            flows=[
                pb.JurisdictionFlowView(
                    source=f.source, destination=f.destination, currency=f.currency,
                    payments=f.payments, amount_minor=f.amount_minor,
                )
                for f in flows
                if sup.jurisdiction in (f.source, f.destination)
            ]
        )  # fmt: skip

    # --- cases -------------------------------------------------------------------------------
    def _case_pb(self, c) -> pb.SupervisionCase:  # type: ignore[no-untyped-def]
        return pb.SupervisionCase(
            case_id=c.case_id, jurisdiction=c.jurisdiction, opened_by=c.opened_by,
            wallet_ids=c.wallets, reason=c.reason, alert_id=c.alert_id, open=c.open,
            opened_at_us=_us(c.opened_at), closed_at_us=_us(c.closed_at or 0.0),
        )  # fmt: skip

    async def OpenCase(self, request, context):  # type: ignore[no-untyped-def]
        if not request.wallet_ids:
            raise invalid("wallet_ids", "a case names at least one wallet")
        for i, w in enumerate(request.wallet_ids):
            if not is_wallet_account(w):
                raise invalid(f"wallet_ids[{i}]", f"{w!r} is not a wallet id")
        if not request.reason.strip():
            raise invalid("reason", "a case must state why")
        sup = await self._supervisor("OpenCase", request.wallet_ids[0])
        foreign = [w for w in request.wallet_ids if not sup.owns(w)]
        if foreign:
            raise await self._refuse(
                sup, "OpenCase", foreign[0], "OUT_OF_SCOPE",
                f"{foreign[0]!r} is not a wallet of {sup.jurisdiction}", request.reason,
            )  # fmt: skip
        case = await self.store.open_case(
            jurisdiction=sup.jurisdiction, opened_by=sup.name, wallets=list(request.wallet_ids),
            reason=request.reason, at=time.time(), alert_id=request.alert_id,
        )  # fmt: skip
        await self.store.record_audit(
            action="case_open", supervisor=sup.name, jurisdiction=sup.jurisdiction,
            wallet=case.case_id, reason=request.reason, at=case.opened_at, case_id=case.case_id,
            detail=",".join(case.wallets),
        )  # fmt: skip
        return self._case_pb(case)

    async def CloseCase(self, request, context):  # type: ignore[no-untyped-def]
        if not request.case_id:
            raise invalid("case_id", "must not be empty")
        if not request.reason.strip():
            raise invalid("reason", "closing a case must state why")
        sup = await self._supervisor("CloseCase", request.case_id)
        case = await self.store.case(request.case_id)
        if case is None:
            raise not_found("case_id", f"no case {request.case_id!r}")
        if case.jurisdiction != sup.jurisdiction:
            raise await self._refuse(
                sup, "CloseCase", request.case_id, "OUT_OF_SCOPE",
                f"case {request.case_id!r} belongs to {case.jurisdiction}", request.reason,
                request.case_id,
            )  # fmt: skip
        at = time.time()
        closed = await self.store.close_case(request.case_id, at)
        assert closed is not None
        await self.store.record_audit(
            action="case_close", supervisor=sup.name, jurisdiction=sup.jurisdiction,
            wallet=closed.case_id, reason=request.reason, at=at, case_id=closed.case_id,
        )  # fmt: skip
        return self._case_pb(closed)

    # --- controllable anonymity --------------------------------------------------------------
    async def _reveal_basis(self, sup: Supervisor, request) -> str:  # type: ignore[no-untyped-def]
        """Why this reveal is allowed ("case:<id>" / "amount:<payment>"), or an audited refusal."""
        wallet = request.wallet_id
        if request.case_id:
            case = await self.store.case(request.case_id)
            problem = (
                "CASE_UNKNOWN" if case is None or case.jurisdiction != sup.jurisdiction
                else "CASE_NOT_OPEN" if not case.open
                else "WALLET_NOT_IN_CASE" if wallet not in case.wallets
                else ""
            )  # fmt: skip
            if problem:
                raise await self._refuse(
                    sup, "RevealIdentity", wallet, problem,
                    f"case {request.case_id!r} does not allow revealing {wallet!r} ({problem})",
                    request.reason, request.case_id,
                )  # fmt: skip
            return f"case:{request.case_id}"
        largest = await self.store.largest_posting(wallet, request.payment_id)
        if largest is None or not self.s.settings.reveal.reaches(
            largest.amount_minor, largest.currency
        ):
            raise await self._refuse(
                sup, "RevealIdentity", wallet, "NO_REVEAL_BASIS",
                f"{wallet!r} is under no open case and has no payment"
                f"{' ' + repr(request.payment_id) if request.payment_id else ''} at or above the "
                "reveal threshold: small amounts stay anonymous",
                request.reason,
            )  # fmt: skip
        return f"amount:{largest.payment_id or largest.transfer_id}"

    async def RevealIdentity(self, request, context):  # type: ignore[no-untyped-def]
        wallet = request.wallet_id
        if not wallet:
            raise invalid("wallet_id", "must not be empty")
        if not is_wallet_account(wallet):
            raise invalid("wallet_id", f"{wallet!r} is not a wallet (institutions are not persons)")
        if not request.reason.strip():
            raise invalid("reason", "a reveal must state why")
        sup = await self._supervisor("RevealIdentity", wallet)
        if not sup.owns(wallet):
            raise await self._refuse(
                sup, "RevealIdentity", wallet, "OUT_OF_SCOPE",
                f"only a supervisor of {account_jurisdiction(wallet)} may reveal {wallet!r}",
                request.reason, request.case_id,
            )  # fmt: skip
        basis = await self._reveal_basis(sup, request)
        # Write-ahead: the audit entry exists before the identity leaves the node.
        entry = await self.store.record_audit(
            action="reveal", supervisor=sup.name, jurisdiction=sup.jurisdiction, wallet=wallet,
            reason=request.reason, at=time.time(), case_id=request.case_id, detail=basis,
        )  # fmt: skip
        holder = await self._reveal_at_node(sup, request, entry)
        return pb.RevealIdentityResponse(
            wallet_id=wallet, holder_name=holder.holder_name,
            holder_document=holder.holder_document, operator_id=holder.operator_id,
            tier=holder.tier, basis=basis, audit=_audit_pb(entry),
        )  # fmt: skip

    async def _reveal_at_node(self, sup: Supervisor, request, entry: RevealRecord):  # type: ignore[no-untyped-def]
        target = self.s.nodes.get(sup.jurisdiction)
        try:
            if target is None:
                raise _unavailable("NODE_UNKNOWN", f"no node address for {sup.jurisdiction}")
            stub = kyc_pb2_grpc.KycRegistryStub(self.s.channel(target))
            return await stub.RevealHolder(
                kyc_pb2.RevealHolderRequest(
                    wallet_id=request.wallet_id, supervisor_jurisdiction=sup.jurisdiction,
                    supervisor=sup.name, reason=request.reason, case_id=request.case_id,
                    audit_hash=entry.hash,
                ),
                metadata=(("x-corridor-caller", f"supervision:{sup.name}"),),
                timeout=self.s.settings.node_timeout_s,
            )  # fmt: skip
        except (grpc.aio.AioRpcError, CorridorError) as exc:
            code = exc.code() if isinstance(exc, grpc.aio.AioRpcError) else exc.code
            await self.store.record_audit(
                action="reveal_failed", supervisor=sup.name, jurisdiction=sup.jurisdiction,
                wallet=request.wallet_id, reason=request.reason, at=time.time(),
                case_id=request.case_id, detail=code.name,
            )  # fmt: skip
            if code == grpc.StatusCode.NOT_FOUND:
                raise not_found("wallet_id", f"{request.wallet_id!r} has no KYC record") from None
            raise _unavailable(
                "NODE_UNAVAILABLE",
                f"{sup.jurisdiction} node could not serve the reveal ({code.name})",
            ) from None

    # --- freeze orders -----------------------------------------------------------------------
    async def FreezeWallet(self, request, context):  # type: ignore[no-untyped-def]
        wallet = request.wallet_id
        if not wallet or not is_wallet_account(wallet):
            raise invalid("wallet_id", f"{wallet!r} is not a wallet id")
        if request.freeze not in (0, 1, 2):
            raise invalid("freeze", "must be FREEZE_NONE, FREEZE_RECEIVE_ONLY or FREEZE_FULL")
        if not request.reason.strip():
            raise invalid("reason", "a freeze order must state why")
        sup = await self._supervisor("FreezeWallet", wallet)
        if not sup.owns(wallet):
            raise await self._refuse(
                sup, "FreezeWallet", wallet, "OUT_OF_SCOPE",
                f"only a supervisor of {account_jurisdiction(wallet)} may freeze {wallet!r}",
                request.reason, request.case_id,
            )  # fmt: skip
        if request.case_id:
            case = await self.store.case(request.case_id)
            if case is None or case.jurisdiction != sup.jurisdiction or not case.open:
                raise await self._refuse(
                    sup, "FreezeWallet", wallet, "CASE_NOT_OPEN",
                    f"case {request.case_id!r} is not an open case of {sup.jurisdiction}",
                    request.reason, request.case_id,
                )  # fmt: skip
        mode = ledger_pb2.Freeze.Name(request.freeze)
        target = self.s.nodes.get(sup.jurisdiction)
        started = time.perf_counter()
        try:
            if target is None:
                raise _unavailable("NODE_UNKNOWN", f"no node address for {sup.jurisdiction}")
            view = await node_pb2_grpc.WalletsStub(self.s.channel(target)).FreezeWallet(
                node_pb2.FreezeWalletRequest(
                    wallet_id=wallet, freeze=request.freeze,
                    reason=f"supervision {request.case_id or 'order'}: {request.reason}",
                ),
                metadata=(("x-corridor-caller", f"supervision:{sup.name}"),),
                timeout=self.s.settings.node_timeout_s,
            )  # fmt: skip
        except (grpc.aio.AioRpcError, CorridorError) as exc:
            code = exc.code() if isinstance(exc, grpc.aio.AioRpcError) else exc.code
            await self.store.record_audit(
                action="freeze_failed", supervisor=sup.name, jurisdiction=sup.jurisdiction,
                wallet=wallet, reason=request.reason, at=time.time(), case_id=request.case_id,
                detail=f"{mode} {code.name}",
            )  # fmt: skip
            if code == grpc.StatusCode.NOT_FOUND:
                raise not_found(
                    "wallet_id", f"no wallet {wallet!r} on {sup.jurisdiction}"
                ) from None
            raise _unavailable(
                "NODE_UNAVAILABLE",
                f"{sup.jurisdiction} node did not confirm the freeze ({code.name})",
            ) from None
        confirmed_ms = (time.perf_counter() - started) * 1e3
        if view.freeze != request.freeze:  # the node answered, but not with the ordered state
            raise _unavailable(
                "FREEZE_NOT_CONFIRMED", f"node reports {ledger_pb2.Freeze.Name(view.freeze)}"
            )
        entry = await self.store.record_audit(
            action="freeze", supervisor=sup.name, jurisdiction=sup.jurisdiction, wallet=wallet,
            reason=request.reason, at=time.time(), case_id=request.case_id,
            detail=f"{mode} confirmed in {confirmed_ms:.1f} ms",
        )  # fmt: skip
        return pb.FreezeOrderResponse(
            wallet_id=wallet,
            freeze=view.freeze,
            confirmed_in_ms=confirmed_ms,
            audit=_audit_pb(entry),
        )

    # --- operations and the audit log --------------------------------------------------------
    async def GetFeedStatus(self, request, context):  # type: ignore[no-untyped-def]
        await self._supervisor("GetFeedStatus", "")
        now, clock, quiet_s = time.time(), self.s.merge.clock(), self.s.settings.quiet_s
        feeds = []
        for f in self.s.feeds.values():
            caught_up = f.caught_up(clock, quiet_s)
            lag = 0.0
            if not caught_up and f.last_business_at > float("-inf"):
                lag = max(0.0, now - f.last_business_at)
            feeds.append(
                pb.FeedCursor(
                    ledger=f.ledger, target=f.target, connected=f.connected,
                    stored_seq=f.stored_seq, detected_seq=f.detected_seq, caught_up=caught_up,
                    last_business_at_us=_us(max(f.last_business_at, 0.0)), lag_s=lag,
                    reconnects=f.reconnects, last_error=f.last_error,
                )
            )  # fmt: skip
        return pb.FeedStatus(
            feeds=feeds, postings_ingested=self.s.postings_ingested,
            postings_detected=self.s.postings_detected, alerts_raised=self.s.alerts_raised,
            buffered=len(self.s.merge),
        )  # fmt: skip

    async def GetAuditLog(self, request, context):  # type: ignore[no-untyped-def]
        sup = await self._supervisor("GetAuditLog", request.wallet_id)
        if request.wallet_id and not sup.owns(request.wallet_id):
            raise await self._refuse(
                sup, "GetAuditLog", request.wallet_id, "OUT_OF_SCOPE",
                f"{request.wallet_id!r} is not an account of {sup.jurisdiction}",
            )  # fmt: skip
        entries = await self.store.reveal_log(request.wallet_id or None, about=sup.jurisdiction)
        return pb.GetAuditLogResponse(entries=[_audit_pb(e) for e in entries])

    async def VerifyAuditLog(self, request, context):  # type: ignore[no-untyped-def]
        await self._supervisor("VerifyAuditLog", "")
        try:
            n = await self.store.verify_reveal_chain()
        except AuditChainBroken as broken:
            return pb.VerifyAuditLogResponse(intact=False, broken_at=broken.n)
        log_ = await self.store.reveal_log()
        return pb.VerifyAuditLogResponse(
            intact=True, entries_verified=n, head_hash=log_[-1].hash if log_ else ""
        )


async def create_server(
    settings: ServiceSettings,
    nodes: dict[str, str],
    bridge_target: str,
    supervision: SupervisionSettings | None = None,
) -> tuple[RunningServer, SupervisionService]:
    """Open the supervision database, start following every feed, serve. The caller stops the
    server and then `await service.close()`."""
    url = settings.database_url or pg.ledger_url("supervision")
    await pg.ensure_database(url)
    store = await SupervisionStore.open(url)
    service = SupervisionService(store, nodes, bridge_target, supervision)
    try:
        await service.start()
        running = await start_server(
            [
                (
                    supervision_pb2_grpc.add_SupervisionServicer_to_server,
                    SupervisionServicer(service),
                    "corridor.v1.Supervision",
                )
            ],
            settings.bind,
        )
    except BaseException:
        await service.close()
        raise
    return running, service


async def run(
    bind: str, database_url: str, nodes: dict[str, str], bridge: str,
    supervision: SupervisionSettings | None = None,
) -> None:  # fmt: skip
    settings = ServiceSettings(name="supervision", bind=bind, database_url=database_url)
    telemetry.init_tracing(settings.service_name)
    running, service = await create_server(settings, nodes, bridge, supervision)
    print(
        f"corridor supervision serving on port {running.port}; following "
        f"{', '.join(f'{k}={v}' for k, v in {**nodes, BRIDGE: bridge}.items())}",
        flush=True,
    )
    await serve_until_signalled(running, [service.close])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="corridor supervision",
        description="Run the supervision service (feeds, detectors, supervisors' API).",
    )
    ap.add_argument("--bind", default=f"127.0.0.1:{SERVICE_PORTS['supervision']}")
    ap.add_argument("--database-url", default="")
    a = ap.parse_args(argv)
    try:
        nodes, bridge = node_targets_from_env(), bridge_target_from_env()
        supervision = settings_from_env()
    except ValueError as exc:
        ap.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(a.bind, a.database_url, nodes, bridge, supervision))
