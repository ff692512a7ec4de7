"""`corridor bench security`: what mTLS and authorisation cost, measured in one run.

The ledger runs as its own OS process (as `corridor bench ledger` does) once per mode —
`off` (plaintext, no credentials), `tls` (mTLS only), `auth` (credentials + rule check only) and
`on` (both) — and this process drives the same three phases against each: a bare echo, unary
CreateTransfer, and batch CreateTransfers. Modes are measured in rounds, interleaved, so machine
noise spreads over all of them; figures are medians over rounds, ratios against `off`. A
micro-benchmark of the pieces (signature check, cached check, rule decision) comes with it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

MODES = ("off", "tls", "auth", "on")


def _env_for(mode: str, directory: Path) -> dict[str, str]:
    return {"CORRIDOR_SECURE": {"on": "1", "off": "0"}.get(mode, mode),
            "CORRIDOR_SECURITY_DIR": str(directory), "CORRIDOR_IDENTITY": "admin:bench"}  # fmt: skip


def _phase(mode: str, url: str, directory: Path, state: Path, seconds: float, batch: int,
           clients: int) -> dict[str, Any]:  # fmt: skip
    from corridor.bench import free_port, grpc_phases, percentile
    from corridor.fleet import wait_healthy

    port = free_port()
    env = {**os.environ, **_env_for(mode, directory)}
    log = open(state / "logs" / f"bench-security-{mode}.log", "ab")  # noqa: SIM115
    argv = [sys.executable, "-c", "from corridor.bench import serve_bench_ledger; serve_bench_ledger()",
            url, f"127.0.0.1:{port}"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    saved = {k: os.environ.get(k) for k in _env_for(mode, directory)}
    os.environ.update(_env_for(mode, directory))  # this process's channels follow the mode
    try:
        wait_healthy(f"127.0.0.1:{port}", 30, proc)
        r = asyncio.run(grpc_phases(f"127.0.0.1:{port}", seconds, batch, clients))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.terminate()
        proc.wait(10)
        log.close()
    out: dict[str, Any] = {}
    for name in ("echo", "unary", "batch"):
        rate, lat = r[name]
        out[f"{name}_per_s"] = rate
        out[f"{name}_p50_ms"] = percentile(lat, 50)
        out[f"{name}_p99_ms"] = percentile(lat, 99)
    return out


def micro(directory: Path, n: int = 2000) -> dict[str, float]:
    """Microseconds per operation for the pieces of a checked call."""
    from corridor.security.authz import authorize
    from corridor.security.credentials import CredentialVerifier, issue
    from corridor.security.resources import ServerResources
    from corridor.server import Caller
    from corridor.v1 import ledger_pb2, node_pb2

    tokens = [
        issue("operator", f"bank-{i}", jurisdiction="CN", directory=directory) for i in range(n)
    ]
    v = CredentialVerifier(directory, cache_size=n * 2)
    t0 = time.perf_counter()
    for tok in tokens:
        v.verify(tok)
    verify_us = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for tok in tokens:
        v.verify(tok)
    cached_us = (time.perf_counter() - t0) / n * 1e6

    class Known(ServerResources):
        here = "CN"

        async def wallet_operators(self, jurisdiction: str, ids: list[str]) -> dict[str, str]:
            return dict.fromkeys(ids, "bank-a")

    caller = Caller("operator", "bank-a", "CN")
    pay = node_pb2.PayRequest(from_wallet_id="cn.w.1", to_wallet_id="cn.w.2")
    batch = ledger_pb2.CreateTransfersRequest(transfers=[
        ledger_pb2.Transfer(id=str(i), debit_account_id=f"cn.w.{i}", credit_account_id="cn.w.x", amount_minor=1)
        for i in range(1000)])  # fmt: skip

    async def decide() -> tuple[float, float]:
        res = Known()
        t = time.perf_counter()
        for _ in range(n):
            await authorize("/corridor.v1.Wallets/Pay", pay, caller, res)
        one = (time.perf_counter() - t) / n * 1e6
        t = time.perf_counter()
        for _ in range(20):
            await authorize("/corridor.v1.Ledger/CreateTransfers", batch, caller, res)
        return one, (time.perf_counter() - t) / 20 * 1e6

    pay_us, batch_us = asyncio.run(decide())
    return {
        "credential_verify_us": round(verify_us, 1),
        "credential_cached_us": round(cached_us, 2),
        "authorize_pay_us": round(pay_us, 1),
        "authorize_batch_1000_us": round(batch_us, 1),
    }


def run_security_bench(state: Path, seconds: float, batch: int, clients: int, rounds: int,
                       console: Console) -> dict[str, Any]:  # fmt: skip
    from corridor import pg
    from corridor.bench import _setup_ledger
    from corridor.security.pki import ensure_dev_pki

    directory = state / "security"
    ensure_dev_pki(directory)
    (state / "logs").mkdir(parents=True, exist_ok=True)
    url = pg.with_database(pg.server_url(state), "corridor_bench_security")
    with console.status("preparing the bench ledger (10,000 funded accounts)..."):
        asyncio.run(_setup_ledger(url))
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    try:
        for r in range(rounds):
            for mode in MODES if r % 2 == 0 else tuple(reversed(MODES)):
                with console.status(
                    f"round {r + 1}/{rounds}: security {mode} (echo, unary, batch)..."
                ):
                    runs[mode].append(_phase(mode, url, directory, state, seconds, batch, clients))
    finally:
        asyncio.run(pg.drop_database(url))
    result: dict[str, Any] = {
        "title": f"corridor bench security ({os.cpu_count()} cores, {seconds:g}s per phase, "
        f"{rounds} rounds, batch {batch}, {clients} unary clients)"
    }
    for mode in MODES:
        for key in runs[mode][0]:
            result[f"{mode}.{key}"] = round(statistics.median(x[key] for x in runs[mode]), 3)
    for mode in MODES[1:]:
        for name in ("echo", "unary", "batch"):
            base = result[f"off.{name}_per_s"]
            result[f"{mode}.{name}_vs_off"] = (
                round(result[f"{mode}.{name}_per_s"] / base, 3) if base else 0.0
            )
    result.update(micro(directory))
    return result
