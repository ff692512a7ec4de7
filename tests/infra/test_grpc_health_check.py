"""infra/grpc_health_check.py against a real gRPC server with the standard health service."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from types import ModuleType

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.infra import checks

SCRIPT = checks.INFRA_DIR / "grpc_health_check.py"


@pytest.fixture(scope="module")
def health_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grpc_health_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def health_server() -> Iterator[tuple[str, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        server.stop(grace=None)


def test_serving_server_passes(
    health_check: ModuleType, health_server: tuple[str, health.HealthServicer]
) -> None:
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert health_check.is_serving(address) is True
    assert health_check.main([address]) == 0


def test_not_serving_server_fails(
    health_check: ModuleType, health_server: tuple[str, health.HealthServicer]
) -> None:
    # A draining server (SIGTERM received) reports NOT_SERVING before it stops.
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert health_check.is_serving(address) is False
    assert health_check.main([address]) == 1


def test_unknown_service_fails(
    health_check: ModuleType, health_server: tuple[str, health.HealthServicer]
) -> None:
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert health_check.main([address, "--service", "corridor.v1.Nope"]) == 1


def test_nothing_listening_fails(health_check: ModuleType) -> None:
    # A socket bound but not listening: the port is ours, and connecting to it is refused.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        assert health_check.is_serving(f"127.0.0.1:{port}", timeout_s=0.5) is False


def test_runs_as_the_compose_healthcheck_command(
    health_server: tuple[str, health.HealthServicer],
) -> None:
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
