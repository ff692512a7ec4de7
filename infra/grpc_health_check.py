"""Ask a gRPC server whether it is serving, through the standard health-checking protocol.

Docker Compose healthchecks can only run a command inside the container, and the kubelet's
native `grpc:` probe cannot present a client certificate (Corridor's servers require one
under mTLS). This script is the probe for both:

    python /app/infra/grpc_health_check.py 127.0.0.1:50051

It calls `grpc.health.v1.Health/Check` (the same RPC the kubelet and `grpc_health_probe`
use) and exits 0 only when the answer is SERVING. An empty service name asks about the
server as a whole, which is what every Corridor service reports on.

Transport follows the same environment as the service it probes (it runs in the same
container): mutual TLS by default, with the certificate of CORRIDOR_SERVICE_IDENTITY (or the
generic `client` one) from CORRIDOR_SECURITY_DIR; plaintext only with the explicit
CORRIDOR_INSECURE=1. Health calls need no credential (the servers exempt them), only the
client certificate. The probe never writes to the security directory, so a read-only mount
of certificates made by `corridor certs` is all it needs.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.security.config import SecurityConfig
from corridor.security.pki import cert_path
from corridor.security.transport import sync_channel

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1


class ProbeSetupError(RuntimeError):
    """The probe cannot even dial: certificates it needs are missing."""


def _missing_material(config: SecurityConfig) -> list[str]:
    """Files the TLS client needs that are not there. Checked first because the channel
    helper would otherwise make a fresh CA in their place, which no server trusts (and which
    fails on a read-only mount)."""
    directory = config.require_directory()
    pem, key = cert_path(directory, config.identity or "client")
    return [str(path) for path in (directory / "ca.pem", pem, key) if not path.exists()]


def open_channel(address: str, config: SecurityConfig | None = None) -> grpc.Channel:
    """A channel to `address` with the transport the environment asks for."""
    cfg = config if config is not None else SecurityConfig.from_env()
    if cfg.tls:
        missing = _missing_material(cfg)
        if missing:
            raise ProbeSetupError(
                f"mTLS is on but {', '.join(missing)} is missing: mount the certificates from "
                "`corridor certs` at CORRIDOR_SECURITY_DIR, or set CORRIDOR_INSECURE=1 for "
                "plaintext"
            )
    return sync_channel(address, cfg)


def is_serving(
    address: str,
    service: str = "",
    timeout_s: float = 2.0,
    config: SecurityConfig | None = None,
) -> bool:
    """True when the server at `address` reports SERVING for `service` within `timeout_s`."""
    try:
        channel = open_channel(address, config)
    except ProbeSetupError as error:
        print(f"{address}: {error}", file=sys.stderr)
        return False
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            print(f"{address}: health check failed: {code}", file=sys.stderr)
            return False
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        status_name = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        print(f"{address}: {status_name}", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help="service name ('' = whole server)")
    parser.add_argument("--timeout-s", type=float, default=2.0, help="deadline in seconds")
    arguments = parser.parse_args(argv)
    try:
        config = SecurityConfig.from_env()
    except ValueError as error:  # e.g. CORRIDOR_SECURE=maybe: name the variable, no traceback
        print(f"{arguments.address}: {error}", file=sys.stderr)
        return EXIT_NOT_SERVING
    serving = is_serving(arguments.address, arguments.service, arguments.timeout_s, config)
    return EXIT_SERVING if serving else EXIT_NOT_SERVING


if __name__ == "__main__":
    sys.exit(main())
