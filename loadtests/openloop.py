"""A constant-rate, seeded, open-loop load generator (asyncio, grpc.aio).

Why not Locust here: Locust users are closed loops (a user waits for its answer before the next
call), so when the system slows down the offered load falls with it and overload hides itself.
To measure *offered* against *goodput* the arrivals must not depend on the answers.

The model: payments arrive as a Poisson process at the phase's rate (every draw from one
`random.Random(seed)`, so a run is replayable). Each arrival belongs to one of a few client
gateways (banks); every `tick_s` each gateway sends what arrived for it since its last send as
one batch RPC (CrossBorderPayBatch to the bridge, or Wallets.PayBatch to a node for the domestic
background), without waiting for earlier batches. A payment's latency runs from its arrival, so
time spent waiting for the batch and in the servers' queues is all counted (no coordinated
omission).

Backpressure: a batch answered RESOURCE_EXHAUSTED is `rejected` (nothing of it was accepted);
the gateway honours the RetryInfo delay and sends nothing until it has passed. Payments arriving
for a gateway while it backs off are `deferred` (shed at the client, as the server asked), not
sent. Any other failure, including a deadline, is an `error`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from corridor.errors import error_details
from corridor.scenario.services import OPERATOR
from corridor.security.credentials import metadata_for
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, ledger_pb2, node_pb2, node_pb2_grpc
from loadtests.world import World

SETTLED = bridge_pb2.PAYMENT_STATUS_SETTLED
MAX_BRIDGE_BATCH = 8000
MAX_NODE_BATCH = 8190


@dataclass(frozen=True)
class Phase:
    """One stretch of load: `rate_tps` corridor payments/s plus `domestic_tps` background."""

    name: str
    rate_tps: float
    seconds: float
    domestic_tps: float = 0.0


@dataclass
class PhaseStats:
    name: str
    seconds: float
    offered: int = 0  # corridor payments that arrived
    settled: int = 0
    rejected: int = 0  # in a batch answered RESOURCE_EXHAUSTED
    deferred: int = 0  # not sent: the gateway was backing off per RetryInfo
    refused: Counter[str] = field(default_factory=Counter)  # receipts REJECTED, by reason
    errors: Counter[str] = field(default_factory=Counter)  # RPC failures other than shedding
    latencies_ms: list[float] = field(default_factory=list)  # settled corridor payments
    completed_at: list[float] = field(default_factory=list)  # monotonic, per settled payment
    retry_after_s: list[float] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    # domestic background
    domestic_offered: int = 0
    domestic_ok: int = 0
    domestic_rejected: int = 0
    domestic_deferred: int = 0
    domestic_latencies_ms: list[float] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values()) + sum(self.refused.values())

    def goodput_tps(self, start: float | None = None, end: float | None = None) -> float:
        """Corridor payments settled per second of wall time in [start, end]."""
        a = self.started_at if start is None else start
        b = self.ended_at if end is None else end
        n = sum(1 for t in self.completed_at if a <= t <= b)
        return n / max(1e-9, b - a)


@dataclass
class Ledgerbook:
    """What the generator was told, to check against the ledgers afterwards."""

    acked: list[str] = field(default_factory=list)  # payment ids answered SETTLED
    rejected_keys: list[str] = field(default_factory=list)  # idempotency keys shed by the bridge
    domestic_acked: dict[str, list[str]] = field(default_factory=dict)  # node -> transfer ids
    domestic_rejected: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class _Arrival:
    at: float  # monotonic seconds
    kind: int  # 0 corridor, 1 domestic
    route: int  # index into corridors or nodes
    payer: int
    payee: int
    amount_minor: int


class _Gateway:
    def __init__(self) -> None:
        self.pending: list[_Arrival] = []
        self.paused_until = 0.0


class OpenLoopGenerator:
    def __init__(
        self,
        world: World,
        seed: int = 7,
        gateways: int = 4,
        tick_s: float = 0.025,
        deadline_s: float = 30.0,
        run_tag: str = "bench",
    ) -> None:
        if not world.bridge or not world.corridors:
            raise ValueError("the world has no bridge or no corridor between running nodes")
        self.world = world
        self.rng = random.Random(seed)
        self.n_gateways = gateways
        self.tick_s = tick_s
        self.deadline_s = deadline_s
        self.run_tag = run_tag
        self.book = Ledgerbook()
        self._seq = 0
        self._corridors = list(world.corridors)
        self._corridor_cum = _cumulative([w for _, _, w in self._corridors])
        self._nodes = list(world.nodes.values())
        self._node_cum = _cumulative([n.weight for n in self._nodes])
        self._channels: dict[str, grpc.aio.Channel] = {}
        # The payers' bank: operator bank-a holds the world's wallets on every node.
        self.caller = metadata_for("operator", OPERATOR, ",".join(world.nodes))
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ plumbing
    def _stub(self, target: str, make: Any) -> Any:
        if target not in self._channels:
            self._channels[target] = channel(target)
        return make(self._channels[target])

    async def close(self) -> None:
        await self.drain()
        for ch in self._channels.values():
            await ch.close()

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait for every batch in flight to be answered."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout_s)

    # ------------------------------------------------------------------ arrivals
    def _arrivals(self, rate: float, kind: int, t0: float, seconds: float) -> list[_Arrival]:
        out: list[_Arrival] = []
        if rate <= 0:
            return out
        t = t0
        rng = self.rng
        while True:
            t += rng.expovariate(rate)
            if t >= t0 + seconds:
                return out
            if kind == 0:
                route = _pick(self._corridor_cum, rng.random())
                payer_j, payee_j, _ = self._corridors[route]
                n_payer = len(self.world.nodes[payer_j].wallets)
                n_payee = len(self.world.nodes[payee_j].wallets)
                payer, payee = rng.randrange(n_payer), rng.randrange(n_payee)
            else:
                route = _pick(self._node_cum, rng.random())
                n = len(self._nodes[route].wallets)
                payer = rng.randrange(n)
                payee = (payer + 1 + rng.randrange(n - 1)) % n
            out.append(_Arrival(t, kind, route, payer, payee, rng.randint(10_00, 5_000_00)))

    # ------------------------------------------------------------------ a phase
    async def run(self, phase: Phase) -> PhaseStats:
        """Offer `phase` for its duration; returns once every batch sent has been answered."""
        stats = PhaseStats(phase.name, phase.seconds)
        loop = asyncio.get_running_loop()
        # Arrival times are drawn first, relative to 0, then laid on the clock from now on.
        arrivals = sorted(
            self._arrivals(phase.rate_tps, 0, 0.0, phase.seconds)
            + self._arrivals(phase.domestic_tps, 1, 0.0, phase.seconds),
            key=lambda a: a.at,
        )
        gateway_of = [self.rng.randrange(self.n_gateways) for _ in arrivals]
        gateways = [[_Gateway(), _Gateway()] for _ in range(self.n_gateways)]
        t0 = loop.time()  # asyncio's clock is time.monotonic()
        for a in arrivals:
            a.at += t0
        stats.started_at = t0
        i = 0
        end = t0 + phase.seconds
        while True:
            now = loop.time()
            while i < len(arrivals) and arrivals[i].at <= now:
                a = arrivals[i]
                gw = gateways[gateway_of[i]][a.kind]
                if a.kind == 0:
                    stats.offered += 1
                else:
                    stats.domestic_offered += 1
                if now < gw.paused_until:
                    if a.kind == 0:
                        stats.deferred += 1
                    else:
                        stats.domestic_deferred += 1
                else:
                    gw.pending.append(a)
                i += 1
            for pair in gateways:
                for gw in pair:
                    if gw.pending and now >= gw.paused_until:
                        batch, gw.pending = gw.pending, []
                        self._spawn(self._send(batch, gw, stats))
            if now >= end and i >= len(arrivals):
                break
            await asyncio.sleep(self.tick_s)
        stats.ended_at = loop.time()
        await self.drain()
        return stats

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _key(self) -> str:
        self._seq += 1
        return f"{self.run_tag}-{self._seq}"

    async def _send(self, batch: list[_Arrival], gw: _Gateway, stats: PhaseStats) -> None:
        corridor = [a for a in batch if a.kind == 0]
        domestic = [a for a in batch if a.kind == 1]
        for start in range(0, len(corridor), MAX_BRIDGE_BATCH):
            await self._send_corridor(corridor[start : start + MAX_BRIDGE_BATCH], gw, stats)
        by_node: dict[int, list[_Arrival]] = {}
        for a in domestic:
            by_node.setdefault(a.route, []).append(a)
        for node, items in by_node.items():
            for start in range(0, len(items), MAX_NODE_BATCH):
                await self._send_domestic(node, items[start : start + MAX_NODE_BATCH], gw, stats)

    async def _send_corridor(
        self, batch: Sequence[_Arrival], gw: _Gateway, stats: PhaseStats
    ) -> None:
        assert self.world.bridge is not None
        stub = self._stub(self.world.bridge, bridge_pb2_grpc.BridgeStub)
        keys = [self._key() for _ in batch]
        reqs = []
        for a, key in zip(batch, keys, strict=True):
            pj, qj, _ = self._corridors[a.route]
            payer, payee = self.world.nodes[pj], self.world.nodes[qj]
            reqs.append(bridge_pb2.CrossBorderPayRequest(
                idempotency_key=key, payer_jurisdiction=pj, payer_wallet_id=payer.wallets[a.payer],
                payee_jurisdiction=qj, payee_wallet_id=payee.wallets[a.payee],
                amount_minor=a.amount_minor, currency=payer.currency, purpose="trade"))  # fmt: skip
        try:
            resp = await stub.CrossBorderPayBatch(
                bridge_pb2.CrossBorderPayBatchRequest(payments=reqs),
                timeout=self.deadline_s, metadata=self.caller,
            )  # fmt: skip
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                self._back_off(gw, exc, stats)
                stats.rejected += len(batch)
                self.book.rejected_keys.extend(keys)
            else:
                stats.errors[exc.code().name] += len(batch)
            return
        done = asyncio.get_running_loop().time()
        for a, rec in zip(batch, resp.receipts, strict=True):
            if rec.status == SETTLED:
                stats.settled += 1
                stats.latencies_ms.append((done - a.at) * 1000)
                stats.completed_at.append(done)
                self.book.acked.append(rec.payment_id)
            else:
                stats.refused[rec.reason or "UNKNOWN"] += 1

    async def _send_domestic(
        self, node_index: int, batch: Sequence[_Arrival], gw: _Gateway, stats: PhaseStats,
    ) -> None:  # fmt: skip
        node = self._nodes[node_index]
        stub = self._stub(node.target, node_pb2_grpc.WalletsStub)
        keys = [self._key() for _ in batch]
        reqs = [
            node_pb2.PayRequest(idempotency_key=k, from_wallet_id=node.wallets[a.payer],
                                to_wallet_id=node.wallets[a.payee], amount_minor=a.amount_minor,
                                currency=node.currency, kind="p2p")
            for a, k in zip(batch, keys, strict=True)
        ]  # fmt: skip
        try:
            resp = await stub.PayBatch(
                node_pb2.PayBatchRequest(payments=reqs),
                timeout=self.deadline_s,
                metadata=self.caller,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                self._back_off(gw, exc, stats)
                stats.domestic_rejected += len(batch)
                self.book.domestic_rejected.setdefault(node.code, []).extend(
                    f"pay:{k}" for k in keys
                )
            else:
                stats.errors[f"domestic {exc.code().name}"] += len(batch)
            return
        done = asyncio.get_running_loop().time()
        acked = self.book.domestic_acked.setdefault(node.code, [])
        for a, k, r in zip(batch, keys, resp.results, strict=True):
            if r.code == ledger_pb2.OK:
                stats.domestic_ok += 1
                stats.domestic_latencies_ms.append((done - a.at) * 1000)
                acked.append(f"pay:{k}")
            else:
                stats.refused[f"domestic {r.reason or r.code}"] += 1

    def _back_off(self, gw: _Gateway, exc: grpc.aio.AioRpcError, stats: PhaseStats) -> None:
        delay = error_details(exc).retry_after_s or 0.1  # RetryInfo; a floor if a peer omits it
        stats.retry_after_s.append(delay)
        gw.paused_until = max(gw.paused_until, asyncio.get_running_loop().time() + delay)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return out


def _pick(cumulative: Sequence[float], u: float) -> int:
    for k, c in enumerate(cumulative):
        if u < c:
            return k
    return len(cumulative) - 1
