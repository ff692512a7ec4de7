"""`corridor up --detach` as a user runs it: secure by default (mTLS + credentials), plaintext only
with the explicit `--insecure` flag; `corridor down` stops it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.config import SERVICE_PORTS
from corridor.security.config import SecurityConfig
from corridor.security.credentials import metadata_for
from corridor.security.transport import sync_channel
from corridor.v1 import node_pb2, node_pb2_grpc

CLI = [sys.executable, "-c", "from corridor.cli import main; main()"]
CN = f"127.0.0.1:{SERVICE_PORTS['cn']}"


@pytest.fixture
def home() -> Iterator[Path]:
    # pgserver's data directory must sit under world-traversable directories (hence /tmp).
    d = Path(tempfile.mkdtemp(prefix="corridor-up-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    subprocess.run([*CLI, "down"], env=_env(d), capture_output=True, check=False, timeout=60)
    shutil.rmtree(d, ignore_errors=True)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRIDOR_")}
    return {**env, "CORRIDOR_HOME": str(home), "COLUMNS": "200"}


def _up(home: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([*CLI, *flags, "up", "--detach", "--only", "cn"], env=_env(home),
                       capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def _policy(ch: grpc.Channel, metadata=()) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    try:
        node_pb2_grpc.CentralBankStub(ch).GetPolicy(
            node_pb2.GetPolicyRequest(), metadata=metadata, timeout=5
        )
        return grpc.StatusCode.OK
    except grpc.RpcError as exc:
        return exc.code()


def test_up_is_secure_by_default(home: Path) -> None:
    p = _up(home)
    assert "mTLS + signed credentials" in p.stderr, p.stderr
    secure = SecurityConfig.of_mode("1", home / "security")
    # Plaintext cannot reach it; mTLS without a credential is refused; with one it answers.
    with grpc.insecure_channel(CN) as ch:
        assert _policy(ch) == grpc.StatusCode.UNAVAILABLE
    with sync_channel(CN, secure) as ch:
        health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        assert _policy(ch) == grpc.StatusCode.UNAUTHENTICATED
        assert _policy(ch, metadata_for("admin", "tester", config=secure)) == grpc.StatusCode.OK
    down = subprocess.run([*CLI, "down"], env=_env(home), capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert down.returncode == 0 and "stopped" in down.stdout + down.stderr


def test_plaintext_only_with_the_explicit_flag(home: Path) -> None:
    p = _up(home, "--insecure")
    assert "security off" in p.stderr, p.stderr
    assert json.loads((home / "up.json").read_text())["security"] == "off"
    with grpc.insecure_channel(CN) as ch:
        assert _policy(ch) == grpc.StatusCode.OK


def test_clients_follow_a_plaintext_corridor_only_when_told_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from corridor.fleet import follow_running_security

    (tmp_path / "up.json").write_text(json.dumps({"supervisor_pid": 1, "security": "off"}))
    for name in ("CORRIDOR_INSECURE", "CORRIDOR_SECURE"):
        monkeypatch.delenv(name, raising=False)
    assert follow_running_security(tmp_path) == "off"
    monkeypatch.delenv("CORRIDOR_INSECURE")
    monkeypatch.setenv("CORRIDOR_SECURE", "1")  # an explicit choice stands
    assert follow_running_security(tmp_path) == "on"
    monkeypatch.delenv("CORRIDOR_SECURE")
    (tmp_path / "up.json").write_text(json.dumps({"supervisor_pid": 1, "security": "on"}))
    assert follow_running_security(tmp_path) == "on"
