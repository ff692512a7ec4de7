"""infra/grpc_health_check.py against real gRPC servers with the standard health service:
plaintext (the explicit CORRIDOR_INSECURE=1) and mutual TLS (the default)."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from types import ModuleType

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.infra import checks

SCRIPT = checks.INFRA_DIR / "grpc_health_check.py"
SECURITY_VARIABLES = (
    "CORRIDOR_INSECURE", "CORRIDOR_SECURE", "CORRIDOR_SECURITY_DIR", "CORRIDOR_SERVICE_IDENTITY",
)  # fmt: skip

Server = tuple[str, health.HealthServicer]


@pytest.fixture(scope="module")
def health_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grpc_health_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dev_pki(directory: Path) -> Path:
    """What `corridor certs` makes: a CA, per-service certificates, the issuer keys."""
    from corridor.security.pki import ensure_dev_pki

    ensure_dev_pki(directory, ["cn"])
    return directory


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _dev_pki(tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another CA's certificates: what a probe from the wrong deployment presents."""
    return _dev_pki(tmp_path_factory.mktemp("foreign-security"))


@pytest.fixture
def plaintext(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORRIDOR_INSECURE", "1")


def _as_the_cn_container(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """The environment compose and the k8s base give the CN node (security left at its default)."""
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(directory))
    monkeypatch.setenv("CORRIDOR_SERVICE_IDENTITY", "cn")


def _start(credentials: grpc.ServerCredentials | None) -> tuple[grpc.Server, Server]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if credentials is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, (f"127.0.0.1:{port}", servicer)


@pytest.fixture
def health_server() -> Iterator[Server]:
    server, address = _start(None)
    try:
        yield address
    finally:
        server.stop(grace=None)


@pytest.fixture
def tls_health_server(pki: Path) -> Iterator[Server]:
    """Like a Corridor server under mTLS: its own certificate, and a client one required."""
    credentials = grpc.ssl_server_credentials(
        [((pki / "certs/cn.key").read_bytes(), (pki / "certs/cn.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    server, address = _start(credentials)
    try:
        yield address
    finally:
        server.stop(grace=None)


def _run_script(address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ),
    )


# ---- plaintext (explicit) ---------------------------------------------------------------


def test_serving_server_passes(
    health_check: ModuleType, health_server: Server, plaintext: None
) -> None:
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert health_check.is_serving(address) is True
    assert health_check.main([address]) == 0


def test_not_serving_server_fails(
    health_check: ModuleType, health_server: Server, plaintext: None
) -> None:
    # A draining server (SIGTERM received) reports NOT_SERVING before it stops.
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert health_check.is_serving(address) is False
    assert health_check.main([address]) == 1


def test_unknown_service_fails(
    health_check: ModuleType, health_server: Server, plaintext: None
) -> None:
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert health_check.main([address, "--service", "corridor.v1.Nope"]) == 1


def test_nothing_listening_fails(health_check: ModuleType, plaintext: None) -> None:
    # A socket bound but not listening: the port is ours, and connecting to it is refused.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        assert health_check.is_serving(f"127.0.0.1:{port}", timeout_s=0.5) is False


def test_runs_as_the_compose_healthcheck_command(health_server: Server, plaintext: None) -> None:
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    result = _run_script(address)
    assert result.returncode == 0, result.stderr


# ---- mutual TLS (the default) -----------------------------------------------------------


def test_tls_server_passes_with_the_containers_own_certificate(
    health_check: ModuleType,
    tls_health_server: Server,
    pki: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, servicer = tls_health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    _as_the_cn_container(monkeypatch, pki)
    before = sorted(pki.rglob("*"))
    assert health_check.main([address]) == 0
    result = _run_script(address)  # exactly as compose and the k8s exec probes run it
    assert result.returncode == 0, result.stderr
    assert sorted(pki.rglob("*")) == before, "the probe must not write (read-only mounts)"


def test_tls_server_that_is_draining_fails(
    health_check: ModuleType,
    tls_health_server: Server,
    pki: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, servicer = tls_health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    _as_the_cn_container(monkeypatch, pki)
    assert health_check.main([address]) == 1


def test_plaintext_probe_of_a_tls_server_fails(
    health_check: ModuleType, tls_health_server: Server, plaintext: None
) -> None:
    address, servicer = tls_health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert health_check.is_serving(address, timeout_s=1.0) is False


def test_certificate_of_another_ca_is_refused(
    health_check: ModuleType,
    tls_health_server: Server,
    foreign_pki: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, servicer = tls_health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    _as_the_cn_container(monkeypatch, foreign_pki)
    assert health_check.is_serving(address, timeout_s=1.0) is False


def test_missing_certificates_fail_clearly_and_write_nothing(
    health_check: ModuleType,
    tls_health_server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address, servicer = tls_health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    empty = tmp_path / "security"
    empty.mkdir()
    _as_the_cn_container(monkeypatch, empty)
    assert health_check.main([address]) == 1
    error = capsys.readouterr().err
    assert "ca.pem" in error and "CORRIDOR_SECURITY_DIR" in error, error
    assert list(empty.iterdir()) == [], "the probe made certificates of its own"


def test_bad_security_setting_is_named(
    health_check: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORRIDOR_SECURE", "maybe")
    assert health_check.main(["127.0.0.1:1"]) == 1
    assert "CORRIDOR_SECURE" in capsys.readouterr().err
