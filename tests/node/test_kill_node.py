"""SIGKILL a central-bank node in the middle of a stream of PayBatch calls, restart it, and check
that no money was lost or created.

The node runs as a separate OS process (`services.centralbank.server.main`). Several clients
stream batches of wallet payments; at a seeded moment the process is killed with SIGKILL (no
shutdown code runs). After the restart:
  - every acknowledged payment (a response was received) is present exactly once, as sent;
  - every unacknowledged batch is either entirely present or entirely absent (one commit each);
  - conservation holds: wallets + operator reserves = issued supply, and the independent ledger
    audit (sums = log, debits = credits, floors) is clean; no pending transfer is left open;
  - retrying the unacknowledged batches with the same idempotency keys settles each payment once.
Three rounds, killed at different moments.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.server import channel
from corridor.v1 import ledger_pb2, ledger_pb2_grpc, node_pb2, node_pb2_grpc
from tests.ledger.audit import audit_ledger

REPO = Path(__file__).resolve().parents[2]
SEED = 20_240_301
ROUNDS = 3
CLIENTS = 3
BATCH = 25
WALLETS = 6
OPERATOR = "icbc"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class NodeProcess:
    """One CN node as its own OS process, restartable on the same port and database."""

    dsn: str
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self) -> None:
        argv = [
            sys.executable, "-c", "from services.centralbank.server import main; main()",
            "--jurisdiction", "CN", "--bind", self.target, "--database-url", self.dsn,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.pop("CORRIDOR_TRACE_FILE", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    async def start(self, timeout_s: float = 30.0) -> None:
        """Spawn and wait for health SERVING. A restart may race the dead process's session
        (its advisory lock) for a moment; then the new process exits and is spawned again."""
        deadline = time.monotonic() + timeout_s
        self.spawn()
        fast_retry = [
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 300),
        ]
        async with grpc.aio.insecure_channel(self.target, options=fast_retry) as ch:
            health = health_pb2_grpc.HealthStub(ch)
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    await asyncio.sleep(0.2)
                    self.spawn()
                    continue
                with contextlib.suppress(grpc.aio.AioRpcError):
                    r = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=0.5)
                    if r.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"node did not become SERVING; log:\n{self.log_tail()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


@dataclass
class Outcome:
    """What the clients were told."""

    acked: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # transfer id -> leg
    unacked: list[list[node_pb2.PayRequest]] = field(default_factory=list)


async def stream_batches(
    target: str, client: int, rnd: int, wallets: list[str], out: Outcome
) -> None:
    """Send PayBatch after PayBatch until the node dies under us."""
    rng = random.Random(SEED + 100 * rnd + client)
    async with channel(target) as ch:
        wl = node_pb2_grpc.WalletsStub(ch)
        for n in range(10_000):
            batch = []
            for i in range(BATCH):
                frm, to = rng.sample(wallets, 2)
                batch.append(
                    node_pb2.PayRequest(
                        idempotency_key=f"r{rnd}.c{client}.b{n}.{i}", from_wallet_id=frm,
                        to_wallet_id=to, amount_minor=rng.randint(1, 1_000), currency="CNY",
                    )
                )  # fmt: skip
            try:
                resp = await wl.PayBatch(node_pb2.PayBatchRequest(payments=batch), timeout=10)
            except grpc.aio.AioRpcError as e:
                # Only the crash may interrupt the stream; any refusal would be a bug.
                assert e.code() == grpc.StatusCode.UNAVAILABLE, e
                out.unacked.append(batch)
                return
            assert [r.code for r in resp.results] == [ledger_pb2.OK] * BATCH
            for p, r in zip(batch, resp.results, strict=True):
                assert r.movement.transfer_id == f"pay:{p.idempotency_key}"
                out.acked[r.movement.transfer_id] = (p.from_wallet_id, p.to_wallet_id,
                                                     p.amount_minor)  # fmt: skip


async def check_books(node: NodeProcess, wallets: list[str], out: Outcome) -> None:
    async with channel(node.target) as ch:
        ledger = ledger_pb2_grpc.LedgerStub(ch)
        cb = node_pb2_grpc.CentralBankStub(ch)
        ids = sorted(out.acked)
        found = []
        for k in range(0, len(ids), 5_000):  # the API caps a lookup at 8190 ids
            req = ledger_pb2.LookupTransfersRequest(ids=ids[k : k + 5_000])
            found += (await ledger.LookupTransfers(req)).transfers
        assert len(found) == len(ids), "an acknowledged payment is missing after the crash"
        for t in found:
            assert (t.debit_account_id, t.credit_account_id, t.amount_minor) == out.acked[t.id]
        for batch in out.unacked:
            keys = [f"pay:{p.idempotency_key}" for p in batch]
            got = await ledger.LookupTransfers(ledger_pb2.LookupTransfersRequest(ids=keys))
            assert len(got.transfers) in (0, len(batch)), "a batch was half committed"
        supply = (await cb.GetSupply(node_pb2.GetSupplyRequest())).issued_minor
        holders = [*wallets, f"cn.op.{OPERATOR}"]
        accts = (
            await ledger.LookupAccounts(ledger_pb2.LookupAccountsRequest(ids=holders))
        ).accounts
        assert len(accts) == len(holders)
        assert sum(a.credits_posted - a.debits_posted for a in accts) == supply > 0
    conn = await asyncpg.connect(node.dsn)
    try:
        assert await audit_ledger(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM transfers WHERE state = 2") == 0
        assert await conn.fetchval(
            "SELECT count(*) FROM transfers WHERE id = ANY($1::text[])", sorted(out.acked)
        ) == len(out.acked)
    finally:
        await conn.close()


async def replay_unacked(node: NodeProcess, out: Outcome) -> None:
    """The client's recovery: resend what was never acknowledged, with the same keys."""
    async with channel(node.target) as ch:
        wl = node_pb2_grpc.WalletsStub(ch)
        for batch in out.unacked:
            resp = await wl.PayBatch(node_pb2.PayBatchRequest(payments=batch), timeout=10)
            codes = {r.code for r in resp.results}
            assert codes in ({ledger_pb2.OK}, {ledger_pb2.EXISTS}), codes
            for p in batch:
                out.acked[f"pay:{p.idempotency_key}"] = (p.from_wallet_id, p.to_wallet_id,
                                                         p.amount_minor)  # fmt: skip
        out.unacked.clear()


async def open_wallets(node: NodeProcess) -> list[str]:
    async with channel(node.target) as ch:
        cb = node_pb2_grpc.CentralBankStub(ch)
        wl = node_pb2_grpc.WalletsStub(ch)
        await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id=OPERATOR))
        await cb.Issue(
            node_pb2.IssueRequest(
                idempotency_key="issue", operator_id=OPERATOR, amount_minor=10**12, currency="CNY"
            )
        )
        wallets = []
        for k in range(WALLETS):
            w = await wl.OpenWallet(
                node_pb2.OpenWalletRequest(
                    idempotency_key=f"w{k}", operator_id=OPERATOR, kind=1, tier=1, holder_name="H"
                )
            )
            await wl.LoadWallet(
                node_pb2.LoadWalletRequest(
                    idempotency_key=f"load{k}", wallet_id=w.wallet_id, amount_minor=10**9,
                    currency="CNY",
                )
            )  # fmt: skip
            wallets.append(w.wallet_id)
        return wallets


@pytest.mark.timeout(120)
async def test_sigkill_mid_batch_stream_loses_and_creates_nothing(
    fresh_db: str, tmp_path: Path
) -> None:
    node = NodeProcess(fresh_db, tmp_path / "node.log")
    rng = random.Random(SEED)
    out = Outcome()
    try:
        await node.start()
        wallets = await open_wallets(node)
        for rnd in range(ROUNDS):
            clients = [
                asyncio.create_task(stream_batches(node.target, c, rnd, wallets, out))
                for c in range(CLIENTS)
            ]
            acked_before = len(out.acked)
            await asyncio.sleep(0.3 + rnd * 0.35 + rng.random() * 0.2)  # kill at varied moments
            node.kill()
            await asyncio.wait_for(asyncio.gather(*clients), timeout=30)
            assert len(out.acked) > acked_before, "no batch completed before the kill"
            print(
                f"round {rnd}: {len(out.acked) - acked_before} payments acknowledged before the kill"
            )
            assert len(out.unacked) == CLIENTS  # every client was cut off mid-call
            await node.start()
            await check_books(node, wallets, out)
            await replay_unacked(node, out)
            await check_books(node, wallets, out)
    except BaseException:
        print(node.log_tail())
        raise
    finally:
        node.stop()
