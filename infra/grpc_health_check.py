"""Ask a gRPC server whether it is serving, through the standard health-checking protocol.

Kubernetes probes gRPC natively (`grpc:` liveness/readiness probes), but Docker Compose
healthchecks can only run a command inside the container. This script is that command:

    python /app/infra/grpc_health_check.py 127.0.0.1:50051

It calls `grpc.health.v1.Health/Check` (the same RPC the kubelet and `grpc_health_probe`
use) and exits 0 only when the answer is SERVING. An empty service name asks about the
server as a whole, which is what every Corridor service reports on.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1


def is_serving(address: str, service: str = "", timeout_s: float = 2.0) -> bool:
    """True when the server at `address` reports SERVING for `service` within `timeout_s`."""
    with grpc.insecure_channel(address) as channel:
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
    serving = is_serving(arguments.address, arguments.service, arguments.timeout_s)
    return EXIT_SERVING if serving else EXIT_NOT_SERVING


if __name__ == "__main__":
    sys.exit(main())
