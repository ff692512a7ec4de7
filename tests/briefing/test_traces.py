"""Finding one payment's trace in an OTLP-JSON file written by several services."""

import json
from pathlib import Path

from corridor.briefing.run_page import self_times_ms
from corridor.briefing.traces import as_call_tree, payment_trace


def _request(service: str, spans: list[dict]) -> str:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                    },
                    "scopeSpans": [{"spans": spans}],
                }
            ]
        }
    )


def _span(
    trace: str, span: str, parent: str, name: str, start: int, end: int, payment: str | None = None
) -> dict:
    attrs = [{"key": "corridor.payment_id", "value": {"stringValue": payment}}] if payment else []
    out = {
        "traceId": trace,
        "spanId": span,
        "name": name,
        "attributes": attrs,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
    }
    if parent:
        out["parentSpanId"] = parent
    return out


def write_trace_file(path: Path) -> Path:
    ms = 1_000_000
    lines = [
        # The child from another service arrives first; it carries no payment id.
        _request("corridor-hk", [_span("t1", "c2", "c1", "ledger.post", 40 * ms, 90 * ms)]),
        _request("corridor-other", [_span("t2", "x1", "", "other", 0, 5 * ms, "pay-2")]),
        _request(
            "corridor-cn",
            [
                _span("t1", "r1", "", "Wallets/Transfer", 0, 100 * ms, "pay-1"),
                _span("t1", "c1", "r1", "bridge.pay", 10 * ms, 95 * ms, "pay-1"),
            ],
        ),
        "{torn line",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_collects_every_span_of_the_payments_trace_across_services(tmp_path: Path) -> None:
    shown, spans = payment_trace(write_trace_file(tmp_path / "traces.jsonl"), "pay-1")
    assert shown == "pay-1"
    assert {s.span_id for s in spans} == {"r1", "c1", "c2"}
    assert {s.service for s in spans} == {"corridor-cn", "corridor-hk"}
    tree = as_call_tree(spans)
    assert [(s.span_id, depth) for s, depth in tree] == [("r1", 0), ("c1", 1), ("c2", 2)]


def test_falls_back_to_the_first_payment_when_the_example_is_missing(tmp_path: Path) -> None:
    shown, spans = payment_trace(write_trace_file(tmp_path / "traces.jsonl"), "pay-404")
    assert shown in {"pay-1", "pay-2"}
    assert spans and all(s.attributes.get("corridor.payment_id") in (shown, None) for s in spans)


def test_self_time_subtracts_children(tmp_path: Path) -> None:
    _, spans = payment_trace(write_trace_file(tmp_path / "traces.jsonl"), "pay-1")
    own = self_times_ms(spans)
    assert own["r1"] == 100 - 85  # bridge.pay covers 10..95
    assert own["c1"] == 85 - 50  # ledger.post covers 40..90
    assert own["c2"] == 50
