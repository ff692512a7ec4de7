"""OpenTelemetry, wired once for every service and the scenario engine.

Export follows the standard variables: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans go to that
OTLP/gRPC collector; otherwise, with CORRIDOR_TRACE_FILE set, to a local OTLP-JSON file (one
ExportTraceServiceRequest per line); otherwise tracing is off and costs nothing. Sampling follows
OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (e.g. parentbased_traceidratio, 0.01 at volume).
Spans carry payment ids, corridors, rails, amounts and currencies, never identities.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject

_ENABLED = False
_PROVIDER: Any = None


class JsonlSpanExporter:
    """Writes spans as OTLP-JSON lines (the collector's file-exporter format)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SpanExportResult

        line = json.dumps(otlp_json(encode_spans(spans)), separators=(",", ":"))
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def otlp_json(request: Any) -> dict[str, Any]:
    """ExportTraceServiceRequest -> OTLP/JSON (hex ids, as collectors write them)."""
    from google.protobuf.json_format import MessageToDict

    doc = MessageToDict(request)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        import base64

                        span[key] = base64.b64decode(span[key]).hex()
    return doc


def init_tracing(service_name: str) -> bool:
    """Configure the global tracer provider for this process. Returns whether tracing is on."""
    global _ENABLED, _PROVIDER
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    path = os.environ.get("CORRIDOR_TRACE_FILE")
    if not endpoint and not path:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    else:
        provider.add_span_processor(BatchSpanProcessor(JsonlSpanExporter(path or "traces.jsonl")))  # type: ignore[arg-type]
    trace.set_tracer_provider(provider)
    _PROVIDER = provider
    _ENABLED = True
    return True


def enabled() -> bool:
    return _ENABLED


def shutdown_tracing() -> None:
    if _PROVIDER is not None:
        _PROVIDER.force_flush()
        _PROVIDER.shutdown()


def tracer(name: str = "corridor") -> trace.Tracer:
    return trace.get_tracer(name)


@contextlib.contextmanager
def server_span(method: str, metadata: Sequence[tuple[str, Any]] | None) -> Iterator[Any]:
    """A SERVER span for one RPC, continuing the caller's W3C trace context from gRPC metadata."""
    if not _ENABLED or method.startswith("/grpc."):  # health and reflection are plumbing
        yield None
        return
    carrier = {k: v for k, v in (metadata or ()) if isinstance(v, str)}
    ctx = extract(carrier)
    token = otel_context.attach(ctx)
    try:
        with tracer().start_as_current_span(method, kind=trace.SpanKind.SERVER) as span:
            yield span
    finally:
        otel_context.detach(token)


def outgoing_metadata(extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """gRPC metadata for an outgoing call: the current trace context (traceparent) plus extras."""
    md: list[tuple[str, str]] = list(extra)
    if _ENABLED:
        carrier: dict[str, str] = {}
        inject(carrier)
        md.extend(carrier.items())
    return md


def set_attributes(**attrs: Any) -> None:
    """Attach domain attributes (payment id, corridor, amounts) to the current span, if any."""
    if not _ENABLED:
        return
    span = trace.get_current_span()
    for k, v in attrs.items():
        if v is not None and v != "":
            span.set_attribute(f"corridor.{k}", v)


def current_context_if_sampled() -> Any:
    """The current context when a sampled span is active (to carry a trace into batched work)."""
    if not _ENABLED:
        return None
    span = trace.get_current_span()
    return otel_context.get_current() if span.get_span_context().trace_flags.sampled else None


@contextlib.contextmanager
def phase_spans(name: str, parents: Sequence[tuple[Any, dict[str, Any]]]) -> Iterator[None]:
    """One span per traced item of a batch (each in its own trace), the first made current so
    that calls made inside carry it to the next service."""
    if not _ENABLED or not parents:
        yield
        return
    t = tracer("corridor.pvp")
    spans = [t.start_span(name, context=ctx, attributes={f"corridor.{k}": v for k, v in attrs.items()})
             for ctx, attrs in parents]  # fmt: skip
    token = otel_context.attach(trace.set_span_in_context(spans[0]))
    try:
        yield
    finally:
        otel_context.detach(token)
        for sp in spans:
            sp.end()
