"""Live posting feeds: from each ledger's outbox to the supervision database and the detectors.

Every ledger (each central-bank node, the bridge) writes each transfer to its append-only
`transfers` table in the same database transaction as the balances it moves; the table's
commit-ordered, gap-free `seq` makes it the outbox, and `Ledger.StreamPostings(after_seq,
follow=true)` serves it as a resumable server stream.

One `FeedConsumer` per ledger reads that stream from the cursor stored in the supervision
database, turns each transfer into a `Posting` (jurisdiction from the account id, KYC tier and
merchant category from the node's `KycRegistry.DescribeWallets`, cached), and stores each batch
with `SupervisionStore.ingest`, which advances the cursor in the same transaction. A restart of
either side resumes from that cursor: nothing is lost, and a re-sent posting is never stored or
judged twice. A broken stream (node restarted) reconnects with capped exponential backoff.

`PostingMerge` then merges the feeds into one business-time-ordered stream for the detectors:
a posting is released once every feed that is still delivering has reached its business time
(a watermark). A feed that has drained (its last batch was short), gone quiet, or is down does
not hold the others back; its later postings, if any, arrive slightly late, which the leg
assembler tolerates.

A ledger's commit order is not business-time order when payments settle concurrently (the
simulator keeps three hours of CBDC payments in flight), and a drained follow stream holds
nothing back, so without more the merge degrades to arrival order: the detectors' clock runs
hours ahead of the payment being judged, a cross-border payment's first leg is released before
its other legs arrive (a split flow), and alerts are stamped with the newest business time seen.
`max_lateness_s` bounds that disorder: while postings keep arriving, nothing newer than the
newest business time seen minus `max_lateness_s` is released (bounded out-of-orderness); once
every feed has been quiet for `quiet_s` everything buffered is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc

from corridor.server import CHANNEL_OPTIONS, channel
from corridor.v1 import kyc_pb2, kyc_pb2_grpc, ledger_pb2, ledger_pb2_grpc, node_pb2, node_pb2_grpc
from services.supervision.graph import FeedError, SupervisionStore
from services.supervision.postings import (
    BRIDGE,
    JURISDICTIONS,
    KINDS,
    Posting,
    account_jurisdiction,
    is_wallet_account,
)

log = logging.getLogger("corridor.supervision.feed")

FEED_CALLER = (("x-corridor-caller", "supervision:feed"),)
# Reconnect quickly after a node restarts (gRPC's default first backoff is a full second).
FEED_CHANNEL_OPTIONS = [
    *CHANNEL_OPTIONS,
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
MAX_PENDING_TIMES = 1_000_000  # business times of open two-phase transfers kept in memory


def feed_channel(target: str) -> grpc.aio.Channel:
    # mTLS and the supervision service's own credential when security is on (the default).
    return channel(target, FEED_CHANNEL_OPTIONS)


@dataclass(frozen=True, slots=True)
class WalletProfile:
    tier: int
    merchant_category: str


class WalletDirectory:
    """Pseudonymous wallet profiles of one node (tier, merchant category), fetched in bulk and
    cached: a wallet's tier and category do not change while it exists."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._kyc = kyc_pb2_grpc.KycRegistryStub(channel)
        self._wallets = node_pb2_grpc.WalletsStub(channel)
        self._profiles: dict[str, WalletProfile] = {}
        self._describe = True  # the node serves KycRegistry (else one GetWallet per wallet)
        self.misses = 0

    def get(self, wallet_id: str) -> WalletProfile | None:
        return self._profiles.get(wallet_id)

    async def learn(self, wallet_ids: set[str]) -> None:
        """Fetch the profiles of wallets not seen before (raises grpc errors: node down)."""
        missing = [w for w in wallet_ids if w not in self._profiles]
        for start in range(0, len(missing), 10_000):
            chunk = missing[start : start + 10_000]
            if self._describe:
                try:
                    resp = await self._kyc.DescribeWallets(
                        kyc_pb2.DescribeWalletsRequest(wallet_ids=chunk),
                        metadata=FEED_CALLER,
                        timeout=10,
                    )
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                        raise
                    log.warning("node has no KycRegistry; falling back to Wallets.GetWallet")
                    self._describe = False
                else:
                    for w in resp.wallets:
                        self._profiles[w.wallet_id] = WalletProfile(w.tier, w.merchant_category)
                    continue
            await self._learn_one_by_one(chunk)
        self.misses += sum(1 for w in missing if w not in self._profiles)

    async def _learn_one_by_one(self, wallet_ids: list[str]) -> None:
        async def one(w: str) -> None:
            try:
                v = await self._wallets.GetWallet(
                    node_pb2.GetWalletRequest(wallet_id=w), metadata=FEED_CALLER, timeout=10
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                return
            self._profiles[w] = WalletProfile(v.tier, v.merchant_category)

        for start in range(0, len(wallet_ids), 64):
            await asyncio.gather(*(one(w) for w in wallet_ids[start : start + 64]))


def _phase(t: ledger_pb2.Transfer) -> str:
    if t.pending:
        return "pending"
    if t.void_pending_id:
        return "voided"
    return "posted"


class PostingConverter:
    """Ledger `Transfer` -> `Posting` for one ledger, keeping the feed's conventions: tiers mark
    wallets (institutional accounts are tier 0), jurisdictions come from account ids, and a
    post or void carries the business time of the pending transfer it resolves."""

    def __init__(self, ledger: str, directory: WalletDirectory | None) -> None:
        self.ledger = ledger
        self.directory = directory
        self._pending_at: dict[str, float] = {}
        # account -> (jurisdiction, tier, merchant category); ids repeat, so classify each once
        self._accounts: dict[str, tuple[str, int, str]] = {}

    async def convert(
        self, transfers: Sequence[ledger_pb2.Transfer], store: SupervisionStore
    ) -> list[Posting]:
        if self.directory is not None:
            known = self._accounts
            unseen = {
                a
                for t in transfers
                for a in (t.debit_account_id, t.credit_account_id)
                if a not in known
            }
            wallets = {a for a in unseen if is_wallet_account(a)}
            if wallets:
                await self.directory.learn(wallets)
        held_here = {t.id for t in transfers if t.pending}
        resolving = [
            held
            for t in transfers
            if (held := t.post_pending_id or t.void_pending_id)
            and held not in self._pending_at
            and held not in held_here
        ]
        if resolving:  # pending transfers streamed before a restart: their time is stored
            self._pending_at.update(await store.business_times(self.ledger, resolving))
        return [self._posting(t) for t in transfers]

    def _account(self, account: str) -> tuple[str, int, str]:
        """(jurisdiction, tier, merchant category) of an account."""
        info = self._accounts.get(account)
        if info is not None:
            return info
        j = account_jurisdiction(account)
        j = j if j in JURISDICTIONS else ""
        if not is_wallet_account(account):
            info = (j, 0, "")
        else:
            profile = self.directory.get(account) if self.directory is not None else None
            if profile is None:
                # The node does not know the wallet (should not happen: its row is written
                # before anyone can pay it). Still a wallet, so an end party; asked again later.
                return (j, 1, "")
            info = (j, profile.tier, profile.merchant_category)
        self._accounts[account] = info
        return info

    def _posting(self, t: ledger_pb2.Transfer) -> Posting:
        at = t.business_at_us / 1e6
        resolves = t.post_pending_id or t.void_pending_id
        if resolves:
            at = self._pending_at.pop(resolves, at)
        elif t.pending:
            if len(self._pending_at) >= MAX_PENDING_TIMES:
                self._pending_at.pop(next(iter(self._pending_at)))
            self._pending_at[t.id] = at
        debit, credit = t.debit_account_id, t.credit_account_id
        dj, debit_tier, debit_mcc = self._account(debit)
        cj, credit_tier, credit_mcc = self._account(credit)
        kind = t.kind if t.kind in KINDS else "other"
        return Posting(
            self.ledger, t.seq, t.id, t.payment_id, debit, credit, t.amount_minor, t.currency,
            kind, at, dj, cj, debit_tier, credit_tier,
            (credit_mcc or debit_mcc) if kind in ("merchant", "voucher") else "",
            _phase(t),
        )  # fmt: skip


@dataclass
class FeedState:
    """Where one ledger feed stands (served by GetFeedStatus)."""

    ledger: str
    target: str
    connected: bool = False
    ever_connected: bool = False
    stored_seq: int = 0
    detected_seq: int = 0
    received: int = 0
    drained: bool = False
    last_business_at: float = float("-inf")
    last_received_at: float = 0.0  # monotonic
    reconnects: int = 0
    last_error: str = ""

    def caught_up(self, now: float, quiet_s: float) -> bool:
        """Connected, and the ledger had nothing more to send: its last batch was short, or it
        has sent nothing for `quiet_s` (a last batch of exactly the batch size)."""
        return self.connected and (self.drained or now - self.last_received_at >= quiet_s)


class PostingMerge:
    """The feeds merged into one business-time-ordered stream (ties: ledger, seq)."""

    def __init__(
        self,
        feeds: dict[str, FeedState],
        *,
        startup_grace_s: float = 2.0,
        quiet_s: float = 0.5,
        max_lateness_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_lateness_s < 0:
            raise ValueError(f"max_lateness_s must be >= 0 (got {max_lateness_s})")
        self.feeds = feeds
        self.startup_grace_s = startup_grace_s
        self.quiet_s = quiet_s
        self.max_lateness_s = max_lateness_s
        self.clock = clock
        self.started = clock()
        self._heap: list[tuple[float, str, int, Posting]] = []
        self.max_business_at = float("-inf")
        self.last_push_at = clock()
        self._n = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, postings: Sequence[Posting]) -> None:
        heap = self._heap
        for p in postings:
            heapq.heappush(heap, (p.business_at, p.ledger, p.seq, p))
            self.max_business_at = max(self.max_business_at, p.business_at)
        self.last_push_at = self.clock()

    def _holds_back(self, f: FeedState, now: float) -> bool:
        if not f.ever_connected:
            return now - self.started < self.startup_grace_s  # give every feed a chance
        return f.connected and not f.caught_up(now, self.quiet_s)

    def watermark(self) -> float:
        """Business time up to which every still-delivering feed has been received."""
        now = self.clock()
        marks = [f.last_business_at for f in self.feeds.values() if self._holds_back(f, now)]
        mark = min(marks) if marks else float("inf")
        if self.max_lateness_s and now - self.last_push_at < self.quiet_s:
            # Postings still arriving: one may yet come up to max_lateness_s behind the newest.
            mark = min(mark, self.max_business_at - self.max_lateness_s)
        return mark

    def pop_ready(self, limit: int) -> list[Posting]:
        heap = self._heap
        if not heap:
            return []
        mark = self.watermark()
        out: list[Posting] = []
        while heap and heap[0][0] <= mark and len(out) < limit:
            out.append(heapq.heappop(heap)[3])
        return out

    def idle(self) -> bool:
        """Nothing buffered and no feed still delivering."""
        return not self._heap and self.watermark() == float("inf")


class FeedConsumer:
    """Consumes one ledger's posting feed into the store and the merge, forever."""

    def __init__(
        self,
        state: FeedState,
        store: SupervisionStore,
        merge: PostingMerge,
        on_batch: Callable[[], None],
        *,
        batch_size: int = 2000,
        max_backoff_s: float = 2.0,
    ) -> None:
        self.state = state
        self.store = store
        self.merge = merge
        self.on_batch = on_batch
        self.batch_size = batch_size
        self.max_backoff_s = max_backoff_s
        self.ingested = 0
        self.convert_s = 0.0  # wall time spent turning transfers into postings (profiles too)
        self.ingest_s = 0.0  # wall time spent storing batches

    async def run(self) -> None:
        s = self.state
        backoff = 0.1
        channel = feed_channel(s.target)
        directory = None if s.ledger == BRIDGE else WalletDirectory(channel)
        converter = PostingConverter(s.ledger, directory)
        stub = ledger_pb2_grpc.LedgerStub(channel)
        try:
            while True:
                try:
                    await self._follow(stub, converter)
                except asyncio.CancelledError:
                    raise
                except (grpc.aio.AioRpcError, FeedError, OSError) as exc:
                    s.last_error = _describe(exc)
                except Exception as exc:  # e.g. the supervision database restarting
                    s.last_error = _describe(exc)
                    log.exception("feed %s failed", s.ledger)
                if s.connected:
                    backoff = 0.1
                s.connected = False
                s.reconnects += 1
                log.info("feed %s: reconnecting in %.1fs (%s)", s.ledger, backoff, s.last_error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            s.connected = False
            with contextlib.suppress(Exception):
                await channel.close()

    async def _follow(self, stub: ledger_pb2_grpc.LedgerStub, converter: PostingConverter) -> None:
        """Catch up to the ledger's head (a stream that ends), then follow it (one that stays
        open): the end of the first tells us we are current even if nothing new ever comes."""
        s = self.state
        after = await self.store.cursor(s.ledger)
        s.stored_seq = after
        after = await self._stream(stub, converter, after, follow=False)
        s.connected = s.ever_connected = True
        s.drained, s.last_error = True, ""
        s.last_received_at = self.merge.clock()
        self.on_batch()
        await self._stream(stub, converter, after, follow=True)
        raise FeedError(f"{s.ledger} ended a follow stream")

    async def _stream(
        self, stub: ledger_pb2_grpc.LedgerStub, converter: PostingConverter, after: int,
        follow: bool,
    ) -> int:  # fmt: skip
        """Store and merge every batch of one StreamPostings call; returns the new cursor."""
        s = self.state
        call = stub.StreamPostings(
            ledger_pb2.StreamPostingsRequest(
                after_seq=after, follow=follow, batch_size=self.batch_size
            ),
            metadata=FEED_CALLER,
        )
        try:
            async for batch in call:
                transfers = batch.postings
                if not transfers:
                    continue
                if not s.connected:
                    s.connected = s.ever_connected = True
                    s.last_error = ""
                if transfers[0].seq != after + 1:
                    raise FeedError(
                        f"seq: {s.ledger} feed resumed at {transfers[0].seq}, expected {after + 1}"
                    )
                t0 = time.perf_counter()
                postings = await converter.convert(transfers, self.store)
                t1 = time.perf_counter()
                new = await self.store.ingest(s.ledger, postings)
                self.convert_s += t1 - t0
                self.ingest_s += time.perf_counter() - t1
                if new != len(postings):
                    # Another consumer stored part of it already: judge nothing twice.
                    raise FeedError(f"seq: {s.ledger} batch after {after} was partly stored")
                after = postings[-1].seq
                s.stored_seq = after
                s.received += len(postings)
                s.drained = len(transfers) < self.batch_size
                s.last_received_at = self.merge.clock()
                s.last_business_at = max(s.last_business_at, max(p.business_at for p in postings))
                self.ingested += new
                self.merge.push(postings)
                self.on_batch()
        finally:
            call.cancel()
        return after


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return f"{type(exc).__name__}: {exc}"
