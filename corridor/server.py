"""The one bootstrap every Corridor gRPC service uses.

`start_server()` builds a grpc.aio server with: the error/identity/tracing interceptor, the
standard health service and server reflection (so grpcurl and grpc_health_probe work), and binds
to a port (0 = any). `serve_until_signalled()` is what each service's `main()` adds: on SIGTERM or
Ctrl-C, health goes NOT_SERVING, the server stops with a grace period, then cleanups run
(close the pool, flush telemetry).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from corridor import pg, telemetry
from corridor.errors import CorridorError, invalid

log = logging.getLogger("corridor.server")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.so_reuseport", 0),
]
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, from the `x-corridor-caller` metadata ("role:subject"). Issue #10 makes
    this a signed credential; handlers already know who calls from day one."""

    role: str
    subject: str
    # From a verified credential (security on): the caller's jurisdiction and the wallets it holds.
    jurisdiction: str = ""
    wallets: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, value: str) -> Caller:
        role, _, subject = value.partition(":")
        return cls(role or "anonymous", subject)


ANONYMOUS = Caller("anonymous", "")
CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar(
    "corridor_caller", default=ANONYMOUS
)


def current_caller() -> Caller:
    return CALLER.get()


def _caller_from(metadata: Iterable[tuple[str, Any]] | None) -> Caller:
    for k, v in metadata or ():
        if k == "x-corridor-caller" and isinstance(v, str):
            return Caller.parse(v)
    return ANONYMOUS


class CorridorInterceptor(grpc.aio.ServerInterceptor):
    """Maps CorridorError to rich statuses, hides internals, records the caller, opens a span.
    With a `guard` (corridor.security): verifies credentials, authorises, audits."""

    def __init__(self, guard: Any = None) -> None:
        self.guard = guard

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if self.guard is not None:
            # Unauthenticated calls are refused here, before the request is even read.
            refused = self.guard.refuse_unauthenticated(method, handler, handler_call_details)
            if refused is not None:
                return refused
            handler = self.guard.guard_handler(method, handler)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


_STRING_FIELDS: dict[str, tuple[list[tuple[str, bool]], list[tuple[str, bool]]]] = {}


def _plan(descriptor: Any) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """(string fields, message fields) of a message type, each with whether it is repeated."""
    plan = _STRING_FIELDS.get(descriptor.full_name)
    if plan is None:
        strings, messages = [], []
        for f in descriptor.fields:
            repeated = f.is_repeated if hasattr(f, "is_repeated") else f.label == f.LABEL_REPEATED
            if f.type == f.TYPE_STRING:
                strings.append((f.name, repeated))
            elif f.type == f.TYPE_MESSAGE and not f.message_type.GetOptions().map_entry:
                messages.append((f.name, repeated))
        plan = (strings, messages)
        _STRING_FIELDS[descriptor.full_name] = plan
    return plan


def nul_field(message: Any, prefix: str = "") -> str | None:
    """The first string field holding a NUL character (PostgreSQL text cannot store it)."""
    strings, messages = _plan(message.DESCRIPTOR)
    for name, repeated in strings:
        value = getattr(message, name)
        if repeated:
            for i, v in enumerate(value):
                if "\x00" in v:
                    return f"{prefix}{name}[{i}]"
        elif "\x00" in value:
            return f"{prefix}{name}"
    for name, repeated in messages:
        if repeated:
            for i, m in enumerate(getattr(message, name)):
                found = nul_field(m, f"{prefix}{name}[{i}].")
                if found:
                    return found
        elif message.HasField(name):
            found = nul_field(getattr(message, name), f"{prefix}{name}.")
            if found:
                return found
    return None


_TRANSIENT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _dependency_away(exc: BaseException) -> str:
    """DATABASE_UNAVAILABLE / UPSTREAM_UNAVAILABLE when `exc` says a dependency is down, else ''."""
    if isinstance(exc, pg.CONNECTION_ERRORS):
        return "DATABASE_UNAVAILABLE"
    if isinstance(exc, grpc.aio.AioRpcError) and exc.code() in _TRANSIENT_CODES:
        return "UPSTREAM_UNAVAILABLE"  # e.g. the bridge asking a node that is restarting
    return ""


async def _fail(context: grpc.aio.ServicerContext, method: str, exc: BaseException) -> None:
    if isinstance(exc, CorridorError):
        await context.abort_with_status(exc.to_status())
    away = _dependency_away(exc)
    if away:  # a database or a service this one needs is down: retry, not a bug
        log.warning("%s: %s (%s: %s)", method, away, type(exc).__name__, exc)
        await context.abort_with_status(
            CorridorError(
                grpc.StatusCode.UNAVAILABLE, away,
                f"{away.lower().replace('_', ' ')} ({type(exc).__name__}); retry with the same key",
                retry_after_s=1.0,
            ).to_status()
        )  # fmt: skip
    log.exception("unexpected error in %s", method, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method} (see server log)")


def _wrap_unary(
    behavior: Callable[..., Awaitable[Any]], method: str
) -> Callable[..., Awaitable[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        md = context.invocation_metadata()
        CALLER.set(_caller_from(md))
        with telemetry.server_span(method, md):
            try:
                bad = nul_field(request) if hasattr(request, "DESCRIPTOR") else None
                if bad:
                    raise invalid(bad, "must not contain a NUL character")
                return await behavior(request, context)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as exc:  # noqa: BLE001 - mapped to a status, never leaked
                await _fail(context, method, exc)

    return wrapped


def _wrap_stream(behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        CALLER.set(_caller_from(context.invocation_metadata()))
        try:
            async for item in behavior(request, context):
                yield item
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:  # noqa: BLE001
            await _fail(context, method, exc)

    return wrapped


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: tuple[str, ...]

    async def stop(self, grace_s: float = 2.0) -> None:
        for name in (*self.service_names, ""):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace_s)


async def start_server(
    registrations: Iterable[tuple[Callable[[Any, grpc.aio.Server], None], Any, str]],
    bind: str = "127.0.0.1:0",
    security: Any = None,
) -> RunningServer:
    """Start a server for (add_XServicer_to_server, servicer, full service name) triples.
    `security` (a corridor.security.SecurityConfig; default from the environment) turns on mTLS
    and credentials; privileged calls are audited either way."""
    from corridor.security.guard import ServerGuard

    registrations = list(registrations)
    guard = await ServerGuard.create(security, [r[1] for r in registrations])
    server = grpc.aio.server(interceptors=[CorridorInterceptor(guard)], options=SERVER_OPTIONS)
    names = []
    for add, servicer, name in registrations:
        add(servicer, server)
        names.append(name)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = guard.add_port(server, bind)
    if port == 0:
        raise OSError(f"could not bind {bind}")
    await server.start()
    for name in (*names, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health_servicer, tuple(names))


async def serve_until_signalled(
    running: RunningServer, cleanups: Iterable[Callable[[], Awaitable[None]]] = ()
) -> None:
    """Block until SIGTERM/SIGINT, then drain and clean up (health first, then the server)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()
    for cleanup in cleanups:
        await cleanup()
    telemetry.shutdown_tracing()


def channel(target: str, options: Iterable[tuple[str, Any]] | None = None) -> grpc.aio.Channel:
    """A client channel with Corridor's message limits (or `options`): mTLS and this process's
    credential when security is on (corridor.security), plaintext otherwise."""
    from corridor.security.config import SecurityConfig
    from corridor.security.transport import aio_channel

    opts = CHANNEL_OPTIONS if options is None else list(options)
    return aio_channel(target, opts, SecurityConfig.from_env())


def service_name_of(descriptor_module: Any, service: str) -> str:
    return descriptor_module.DESCRIPTOR.services_by_name[service].full_name
