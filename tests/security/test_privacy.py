"""Privacy: after a run through the real services (separate processes, traces on), no trace, log
or audit entry carries an identity — the KYC names and documents stay in the operators' KYC
stores and reach only the supervisor a reveal was authorised for.

Distinctive synthetic identities are used so that a leak anywhere is found by a plain scan."""

from __future__ import annotations

import asyncio
import importlib
import os
import tempfile
from pathlib import Path

import asyncpg
import pytest

from corridor import pg
from corridor.bench import free_port
from corridor.fleet import Fleet
from corridor.invariants import discover_ledgers
from corridor.security.config import SecurityConfig
from corridor.security.credentials import metadata_for
from corridor.server import channel
from corridor.v1 import (
    bridge_pb2,
    bridge_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)

NAMES = [f"Qiuyue Xanthippe-{i:04d}" for i in range(6)]
DOCUMENTS = [f"KYCDOC-7Z{i:04d}-QX" for i in range(6)]
SECRETS = [*NAMES, *DOCUMENTS]


def _has_supervision() -> bool:
    try:
        importlib.import_module("services.supervision.server")
    except ImportError:
        return False
    return True


@pytest.fixture
def home() -> Path:
    d = Path(tempfile.mkdtemp(prefix="corridor-privacy-", dir="/tmp"))
    d.chmod(0o755)  # embedded PostgreSQL runs as an unprivileged user under root
    return d


def md(role: str, subject: str, j: str = "") -> tuple[tuple[str, str], ...]:
    return metadata_for(role, subject, j, config=SecurityConfig())


async def _drive(endpoints: dict[str, str]) -> dict[str, str]:
    wallets: dict[str, list[str]] = {}
    for code, cur in (("CN", "CNY"), ("HK", "HKD")):
        async with channel(endpoints[code.lower()]) as ch:
            cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
            for op in ("bank-a", "lp-hk-1"):
                await cb.RegisterOperator(
                    node_pb2.RegisterOperatorRequest(operator_id=op),
                    metadata=md("central_bank", "cb", code),
                )
                await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"i-{op}", operator_id=op, amount_minor=10**10,
                                                     currency=cur), metadata=md("central_bank", "cb", code))  # fmt: skip
            k = 0 if code == "CN" else 3
            reqs = [node_pb2.OpenWalletRequest(idempotency_key=f"w{i}", operator_id="bank-a", kind=1, tier=1,
                                               holder_name=NAMES[k + i], holder_document=DOCUMENTS[k + i])
                    for i in range(3)]  # fmt: skip
            ids = list(
                (
                    await wl.OpenWallets(
                        node_pb2.OpenWalletsRequest(wallets=reqs),
                        metadata=md("operator", "bank-a", code),
                    )
                ).wallet_ids
            )
            for w in ids:
                await wl.LoadWallet(node_pb2.LoadWalletRequest(idempotency_key=f"l-{w}", wallet_id=w, amount_minor=10**6,
                                                               currency=cur), metadata=md("operator", "bank-a", code))  # fmt: skip
            await wl.Pay(node_pb2.PayRequest(idempotency_key="p1", from_wallet_id=ids[0], to_wallet_id=ids[1],
                                             amount_minor=500, currency=cur), metadata=md("holder", "h", code))  # fmt: skip
            # A refused call whose request carries an identity: nothing of it may be logged.
            with pytest.raises(Exception):  # noqa: B017 - any refusal will do
                await wl.OpenWallet(node_pb2.OpenWalletRequest(idempotency_key="bad", operator_id="nobody", kind=1,
                                                               tier=9, holder_name=NAMES[0], holder_document=DOCUMENTS[0]),
                                    metadata=md("operator", "nobody", code))  # fmt: skip
            wallets[code] = ids
    async with channel(endpoints["bridge"]) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        for code, cur in (("CN", "CNY"), ("HK", "HKD")):
            await br.FundLiquidity(bridge_pb2.FundLiquidityRequest(idempotency_key=f"f-{code}", liquidity_provider="lp-hk-1",
                                   jurisdiction=code, amount_minor=10**9, currency=cur), metadata=md("liquidity_provider", "lp-hk-1"))  # fmt: skip
        rec = await br.CrossBorderPay(bridge_pb2.CrossBorderPayRequest(
            idempotency_key="x1", payer_jurisdiction="CN", payer_wallet_id=wallets["CN"][0], payee_jurisdiction="HK",
            payee_wallet_id=wallets["HK"][0], amount_minor=10_000, currency="CNY", max_slippage_bps=500),
            metadata=md("operator", "bank-a", "CN,HK"))  # fmt: skip
        assert rec.status == 4, rec
    revealed = {}
    if "supervision" in endpoints:
        sup = md("supervisor", "CN/alice", "CN")
        async with channel(endpoints["supervision"]) as ch:
            s = supervision_pb2_grpc.SupervisionStub(ch)
            case = await s.OpenCase(
                supervision_pb2.OpenCaseRequest(wallet_ids=[wallets["CN"][0]], reason="test"),
                metadata=sup,
            )
            r = await s.RevealIdentity(supervision_pb2.RevealIdentityRequest(
                wallet_id=wallets["CN"][0], reason="privacy test", case_id=case.case_id), metadata=sup)  # fmt: skip
            revealed[r.wallet_id] = r.holder_name
    return revealed


def _scan(root: Path) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or "/pg/" in str(path) or path.suffix in (".pem", ".key", ".pub"):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        hits += [f"{path.name}: {s!r}" for s in SECRETS if s in text]
    return hits


def test_no_identity_in_traces_logs_or_audit(home: Path):
    names = ["cn", "hk", "bridge"] + (["supervision"] if _has_supervision() else [])
    url = pg.embedded_server_url(home)
    fleet = Fleet.plan(home, url, names, {n: free_port() for n in names})
    fleet.security = SecurityConfig()  # privacy does not depend on transport (see test_secure_*)
    traces = home / "traces.jsonl"
    fleet.extra_env = {"CORRIDOR_TRACE_FILE": str(traces), "OTEL_TRACES_SAMPLER": "always_on",
                       "CORRIDOR_SECURE": "0"}  # fmt: skip
    old = os.environ.get("CORRIDOR_SECURE")
    os.environ["CORRIDOR_SECURE"] = "0"
    try:
        fleet.start()
        revealed = asyncio.run(_drive(fleet.endpoints()))
    finally:
        fleet.stop()
        if old is None:
            os.environ.pop("CORRIDOR_SECURE", None)
        else:
            os.environ["CORRIDOR_SECURE"] = old

    async def databases() -> tuple[list[str], int]:
        hits, kyc_rows = [], 0
        for name, dburl in (await discover_ledgers(url)).items():
            conn = await asyncpg.connect(dburl)
            try:
                if await conn.fetchval("SELECT to_regclass('public.kyc_identities') IS NOT NULL"):
                    kyc_rows += await conn.fetchval("SELECT count(*) FROM kyc_identities")
                for table in ("security_audit", "node_audit", "reveal_audit", "postings", "alerts"):
                    if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
                        text = "\n".join(
                            str(tuple(r)) for r in await conn.fetch(f"SELECT * FROM {table}")
                        )
                        hits += [f"{name}.{table}: {s!r}" for s in SECRETS if s in text]
            finally:
                await conn.close()
        return hits, kyc_rows

    try:
        db_hits, kyc_rows = asyncio.run(databases())
        file_hits = _scan(home)
    finally:
        pg.stop_embedded()
    assert traces.exists() and traces.stat().st_size > 0, "the run produced no traces to scan"
    assert kyc_rows == 6  # positive control: the identities were stored (in the KYC store only)
    if "supervision" in names:
        assert list(revealed.values()) == [NAMES[0]]  # ...and reach an authorised supervisor
    assert not file_hits, f"identity in traces/logs: {file_hits}"
    assert not db_hits, f"identity in audit/supervision tables: {db_hits}"


def test_the_scan_finds_a_planted_leak(tmp_path: Path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "cn.log").write_text(f"opened wallet for {NAMES[2]}\n")
    assert _scan(tmp_path) == [f"cn.log: {NAMES[2]!r}"]
