"""One payment's trace, read from an OTLP-JSON trace file (``traces.jsonl``).

Each line is an ``ExportTraceServiceRequest`` in OTLP's JSON encoding:
``resourceSpans[].resource.attributes`` names the service (``service.name``) and
``resourceSpans[].scopeSpans[].spans[]`` carry ``traceId``, ``spanId``, ``parentSpanId``,
``name``, ``startTimeUnixNano``, ``endTimeUnixNano`` and ``attributes``. A payment is found
by its ``corridor.payment_id`` span attribute; its trace is every span sharing a
``traceId`` with a matching span, wherever in the file (or whichever service) it came from.

The file can be large, so it is read in two streaming passes with a cheap substring test
before any JSON is parsed: first to find the payment's trace ids, then to collect spans.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAYMENT_ATTRIBUTE = "corridor.payment_id"


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6


def _any_value(value: Any) -> Any:
    """Unwrap an OTLP AnyValue (``{"stringValue": ...}``, ``{"intValue": "7"}``...)."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    out: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = _any_value(item.get("value"))
    return out


def _nanos(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _spans_in_request(request: Any) -> Iterator[Span]:
    if not isinstance(request, dict):
        return
    for resource_spans in request.get("resourceSpans") or []:
        if not isinstance(resource_spans, dict):
            continue
        resource = _attributes((resource_spans.get("resource") or {}).get("attributes"))
        service = str(resource.get("service.name") or "unknown service")
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for raw in (scope_spans or {}).get("spans") or []:
                span = _span(raw, service)
                if span is not None:
                    yield span


def _span(raw: Any, service: str) -> Span | None:
    if not isinstance(raw, dict):
        return None
    start, end = _nanos(raw.get("startTimeUnixNano")), _nanos(raw.get("endTimeUnixNano"))
    if not raw.get("traceId") or not raw.get("spanId") or start is None:
        return None
    return Span(
        trace_id=str(raw["traceId"]),
        span_id=str(raw["spanId"]),
        parent_span_id=str(raw.get("parentSpanId") or ""),
        name=str(raw.get("name") or "span"),
        service=service,
        start_ns=start,
        end_ns=end if end is not None and end >= start else start,
        attributes=_attributes(raw.get("attributes")),
    )


def _requests(path: Path, must_contain: tuple[str, ...]) -> Iterator[Any]:
    """Parse only the lines that mention one of ``must_contain`` (all lines if empty)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if must_contain and not any(token in line for token in must_contain):
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a killed run is not worth failing over


def payment_trace(path: Path, payment_id: str | None) -> tuple[str | None, list[Span]]:
    """The spans of one payment's trace, and the payment id actually shown.

    With no ``payment_id`` (or one that never appears), the first payment found in the
    file is shown instead, so the briefing still has an example.
    """
    payment_id = payment_id or None
    trace_ids: set[str] = set()
    chosen = payment_id
    tokens = (payment_id,) if payment_id else (PAYMENT_ATTRIBUTE,)
    for request in _requests(path, tokens):
        for span in _spans_in_request(request):
            pid = span.attributes.get(PAYMENT_ATTRIBUTE)
            if pid is None:
                continue
            if chosen is None:
                chosen = str(pid)
            if str(pid) == chosen:
                trace_ids.add(span.trace_id)
        if trace_ids and payment_id is None:
            break
    if not trace_ids and payment_id is not None:
        return payment_trace(path, None)
    if not trace_ids:
        return None, []
    spans: dict[str, Span] = {}
    for request in _requests(path, tuple(trace_ids)):
        for span in _spans_in_request(request):
            if span.trace_id in trace_ids:
                spans.setdefault(span.span_id, span)
    return chosen, list(spans.values())


def as_call_tree(spans: list[Span]) -> list[tuple[Span, int]]:
    """Spans in call order (depth first, children by start time), each with its depth.
    A span whose parent is not in the file is treated as a root."""
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[Span]] = {}
    roots: list[Span] = []
    for span in spans:
        if span.parent_span_id and span.parent_span_id in by_id:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    ordered: list[tuple[Span, int]] = []

    def visit(span: Span, depth: int) -> None:
        ordered.append((span, depth))
        for child in sorted(children.get(span.span_id, []), key=lambda s: (s.start_ns, s.name)):
            visit(child, depth + 1)

    for root in sorted(roots, key=lambda s: (s.start_ns, s.name)):
        visit(root, 0)
    return ordered
