"""The server side of security, wired into `corridor.server.start_server()`:

1. transport: a TLS port that requires a client certificate of the dev CA (when tls is on);
2. identity: the bearer credential is verified and becomes `current_caller()` (when auth is on;
   missing, forged or expired -> UNAUTHENTICATED, nothing runs);
3. authorisation: the method's rule in `authz.RULES` (PERMISSION_DENIED, nothing runs);
4. audit: privileged methods (rule.audit) append an entry *before* the handler runs, and a
   `…:refused` / `…:denied` entry when it does not go through (always on, even without auth).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc

from corridor.errors import CorridorError
from corridor.security import authz
from corridor.security.config import SecurityConfig
from corridor.security.credentials import CredentialError, CredentialVerifier
from corridor.security.resources import ServerResources, discover

log = logging.getLogger("corridor.security")

# Never written to the audit log: identity stays in the operator's KYC store.
_IDENTITY_FIELDS = frozenset({"holder_name", "holder_document"})
_SUBJECT_FIELDS = ("wallet_id", "operator_id", "program_id", "case_id", "liquidity_provider")


def unauthenticated(reason: str, message: str) -> CorridorError:
    return CorridorError(grpc.StatusCode.UNAUTHENTICATED, reason, message)


def _bearer(metadata: Iterable[tuple[str, Any]] | None) -> str:
    for k, v in metadata or ():
        if k == "authorization" and isinstance(v, str):
            scheme, _, token = v.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


def _summary(request: Any) -> tuple[str, str]:
    """(subject, detail) of a request for the audit log: its scalar fields, never identities."""
    subject, parts = "", []
    with contextlib.suppress(Exception):
        for f, v in request.ListFields():
            if f.name in _IDENTITY_FIELDS or f.type == f.TYPE_MESSAGE:
                continue
            if not subject and f.name in _SUBJECT_FIELDS:
                subject = str(v)
            parts.append(f"{f.name}={v!s:.200}")
    return subject.replace("\x00", "\\0"), " ".join(parts).replace("\x00", "\\0")


class ServerGuard:
    def __init__(self, config: SecurityConfig, resources: ServerResources) -> None:
        self.config = config
        self.resources = resources
        self.verifier = CredentialVerifier(config.require_directory()) if config.auth else None

    @classmethod
    async def create(cls, config: SecurityConfig | None, servicers: Iterable[Any]) -> ServerGuard:
        cfg = config if config is not None else SecurityConfig.from_env()
        if cfg.enabled:
            from corridor.security.pki import ensure_dev_pki, provisioned

            d = cfg.require_directory()
            if not provisioned(d, cfg.identity, cfg.auth):
                ensure_dev_pki(d, [cfg.identity] if cfg.identity else [])
        resources = discover(servicers)
        try:
            await resources.start()
        except Exception as exc:  # noqa: BLE001 - e.g. an engine without triggers
            log.warning(
                "audit log unavailable on %s (%s); privileged calls refused", resources.here, exc
            )
            resources.audit_pool = None
            resources.audit_broken = True  # type: ignore[attr-defined]
        return cls(cfg, resources)

    def add_port(self, server: grpc.aio.Server, bind: str) -> int:
        if self.config.tls:
            from corridor.security.transport import server_credentials

            return server.add_secure_port(bind, server_credentials(self.config))
        return server.add_insecure_port(bind)

    # ------------------------------------------------------------------ per call
    def refuse_unauthenticated(
        self, method: str, handler: grpc.RpcMethodHandler, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        """A handler that answers UNAUTHENTICATED (nothing else runs), or None to go on."""
        if self.verifier is None or authz.is_exempt(method):
            return None
        token = _bearer(details.invocation_metadata)
        try:
            if not token:
                raise CredentialError("MISSING_CREDENTIAL", "this call needs a bearer credential")
            self.verifier.verify(token)
        except CredentialError as exc:
            return _refusal(handler, unauthenticated(exc.reason, str(exc)))
        return None

    def guard_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if authz.is_exempt(method):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if self.config.auth:  # client-streaming RPCs have no rule yet: default deny
            return _refuse_streaming(handler, method)
        return handler

    async def admit(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> str:
        """Authenticate and authorise; returns the audit action ('' if not privileged)."""
        from corridor.server import CALLER, Caller, current_caller

        rule = authz.RULES.get(method)
        action = rule.audit if rule else ""
        if self.verifier is None:
            if action:  # plaintext mode: audited, but a broken log does not stop the call
                try:
                    await self._audit(current_caller(), action, request, " (unverified caller)")
                except CorridorError as exc:
                    log.warning("audit entry not written: %s", exc)
            return action
        token = _bearer(context.invocation_metadata())
        if not token:
            raise unauthenticated("MISSING_CREDENTIAL", "this call needs a bearer credential")
        try:
            claims = self.verifier.verify(token)
        except CredentialError as exc:
            raise unauthenticated(exc.reason, str(exc)) from None
        if claims.bound_to and claims.bound_to not in _peer_thumbprints(context):
            raise unauthenticated(
                "CERTIFICATE_MISMATCH",
                "this credential is bound to another client certificate than the caller's",
            )
        caller = Caller(claims.role, claims.subject, claims.jurisdiction, claims.wallets)
        CALLER.set(caller)
        try:
            await authz.authorize(method, request, caller, self.resources)
        except CorridorError:
            if action:
                with contextlib.suppress(Exception):
                    await self._audit(caller, f"{action}:denied", request)
            raise
        if action:
            await self._audit(caller, action, request)
        return action

    async def _audit(self, caller: Any, action: str, request: Any, note: str = "") -> None:
        if getattr(self.resources, "audit_broken", False):
            raise CorridorError(
                grpc.StatusCode.UNAVAILABLE, "AUDIT_UNAVAILABLE", "the audit log cannot be written"
            )
        subject, detail = _summary(request)
        actor = f"{caller.role}:{caller.subject}" + (
            f"@{caller.jurisdiction}" if caller.jurisdiction else ""
        )
        try:
            await self.resources.audit(actor, action, subject, detail + note)
        except Exception as exc:  # noqa: BLE001 - no privileged action without its audit entry
            raise CorridorError(
                grpc.StatusCode.UNAVAILABLE,
                "AUDIT_UNAVAILABLE",
                f"the audit log cannot be written ({type(exc).__name__}); retry",
                retry_after_s=1.0,
            ) from None

    async def _refused(self, action: str, request: Any, exc: BaseException) -> None:
        from corridor.server import current_caller

        reason = exc.reason if isinstance(exc, CorridorError) else type(exc).__name__
        with contextlib.suppress(Exception):
            await self._audit(current_caller(), f"{action}:refused", request, f" reason={reason}")

    def _unary(
        self, method: str, behavior: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            action = await self.admit(method, request, context)
            if not action:
                return await behavior(request, context)
            try:
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await self._refused(action, request, exc)
                raise

        return guarded

    def _stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await self.admit(method, request, context)
            async for item in behavior(request, context):
                yield item

        return guarded


def _peer_thumbprints(context: grpc.aio.ServicerContext) -> set[str]:
    """Thumbprints of the certificate the caller presented in the mTLS handshake (none over
    plaintext, so a bound credential is refused there)."""
    from corridor.security.credentials import thumbprint

    with contextlib.suppress(Exception):
        return {thumbprint(pem) for pem in context.auth_context().get("x509_pem_cert", [])}
    return set()


def _refuse_streaming(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    async def refuse(request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{method}: no rule (default deny)")

    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            refuse, handler.request_deserializer, handler.response_serializer
        )
    return handler  # bidirectional streams: none exist outside reflection (exempt)


def _refusal(handler: grpc.RpcMethodHandler, err: CorridorError) -> grpc.RpcMethodHandler:
    status = err.to_status()

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort_with_status(status)

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort_with_status(status)
        yield  # pragma: no cover - never reached; makes this an async generator

    des, ser = handler.request_deserializer, handler.response_serializer
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary, des, ser)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream, des, ser)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(unary, des, ser)
    return grpc.stream_stream_rpc_method_handler(stream, des, ser)
