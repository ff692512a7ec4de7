"""mTLS credentials for servers and channels, and the client interceptor that attaches this
process's credential to calls that carry none of their own."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from corridor.security.config import SecurityConfig
from corridor.security.credentials import process_credential
from corridor.security.pki import cert_path, ensure_dev_pki


@functools.lru_cache(maxsize=64)
def _material(directory: str, name: str) -> tuple[bytes, bytes, bytes]:
    d = Path(directory)
    pem, key = cert_path(d, name)
    if not pem.exists() or not key.exists() or not (d / "ca.pem").exists():
        ensure_dev_pki(d, [name])
    return (d / "ca.pem").read_bytes(), pem.read_bytes(), key.read_bytes()


def server_credentials(config: SecurityConfig) -> grpc.ServerCredentials:
    """This server's certificate; callers must present one signed by the same CA."""
    ca, cert, key = _material(str(config.require_directory()), config.identity or "localhost")
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=True
    )


def channel_credentials(config: SecurityConfig) -> grpc.ChannelCredentials:
    ca, cert, key = _material(str(config.require_directory()), config.identity or "client")
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )


def _has_authorization(metadata: Any) -> bool:
    return any(k == "authorization" for k, _ in (metadata or ()))


def _with_process_credential(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    """Adds `authorization: Bearer <this process's credential>` unless the call brought its own
    (`metadata_for(...)`). A process with no credential sends none: the server answers
    UNAUTHENTICATED, which is the point."""
    if _has_authorization(details.metadata):
        return details
    token = process_credential()
    if not token:
        return details
    md = grpc.aio.Metadata(*(details.metadata or ()))
    md.add("authorization", f"Bearer {token}")
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, md, details.credentials, details.wait_for_ready
    )


# Two classes, not one with both bases: grpc.aio files an interceptor under the *first* call type
# it matches (an if/elif on isinstance), so a single class would never see streaming calls.
class UnaryCredentialInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(_with_process_credential(client_call_details), request)


class StreamCredentialInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(_with_process_credential(client_call_details), request)


def aio_channel(
    target: str, options: Sequence[tuple[str, Any]], config: SecurityConfig
) -> grpc.aio.Channel:
    # Only a process with a credential of its own (a fleet-started service, CORRIDOR_IDENTITY)
    # gets the interceptor: Python aio interceptors cost ~30% of a bare unary call, and clients
    # that pass `metadata_for(...)` per call need none.
    has_own = bool(
        os.environ.get("CORRIDOR_CREDENTIAL")
        or os.environ.get("CORRIDOR_IDENTITY")
        or (config.auth and os.environ.get("CORRIDOR_SERVICE_IDENTITY"))
    )
    interceptors = (
        [UnaryCredentialInterceptor(), StreamCredentialInterceptor()]
        if config.auth and has_own
        else None
    )
    if config.tls:
        return grpc.aio.secure_channel(
            target, channel_credentials(config), options=list(options), interceptors=interceptors
        )
    return grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)


def sync_channel(
    target: str, config: SecurityConfig | None = None, options: Sequence[tuple[str, Any]] = ()
) -> grpc.Channel:
    """A blocking channel (health probes, Locust users, tests) with the same transport rules.
    Credentials are per call here: pass `metadata_for(...)` (no interceptor on sync channels)."""
    cfg = config or SecurityConfig.from_env()
    if cfg.tls:
        return grpc.secure_channel(target, channel_credentials(cfg), options=list(options))
    return grpc.insecure_channel(target, options=list(options))
