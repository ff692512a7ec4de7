"""A load test's figures as JSON (written by the Locust master or the single local process when
the test stops) and as a table (printed by `corridor loadtest`).

Rows are Locust's own statistics. Per row: `requests` calls, `failures`, `payments` settled (the
content size each user reports), latency percentiles of the calls, and rates over the test's
wall time. Row types: `grpc` (answered), `shed` (RESOURCE_EXHAUSTED, backed off per RetryInfo),
`refused` (expected business refusals).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

STAGE = re.compile(r" \[(\w+)\]")


def summarise(stats: Any, user_count: int = 0, workers: int = 0) -> dict[str, Any]:
    total = stats.total
    end = total.last_request_timestamp or time.time()
    wall_s = max(1e-9, end - total.start_time) if total.num_requests else 0.0
    rows = []
    for (name, kind), e in sorted(stats.entries.items()):
        rows.append({
            "type": kind, "name": name, "requests": e.num_requests, "failures": e.num_failures,
            "payments": e.total_content_length if kind == "grpc" else 0,
            "p50_ms": round(e.get_response_time_percentile(0.5) or 0, 1),
            "p99_ms": round(e.get_response_time_percentile(0.99) or 0, 1),
        })  # fmt: skip
    payments = sum(r["payments"] for r in rows)
    by_stage: dict[str, int] = {}
    for r in rows:
        m = STAGE.search(r["name"])
        if m:
            by_stage[m.group(1)] = by_stage.get(m.group(1), 0) + r["payments"]
    return {
        "wall_s": round(wall_s, 1),
        "requests": sum(r["requests"] for r in rows if r["type"] == "grpc"),
        "failures": sum(r["failures"] for r in rows),
        "shed": sum(r["requests"] for r in rows if r["type"] == "shed"),
        "refused": sum(r["requests"] for r in rows if r["type"] == "refused"),
        "payments": payments,
        "payments_per_s": round(payments / wall_s, 1) if wall_s else 0.0,
        "payments_by_stage": by_stage,
        "peak_users": user_count,
        "workers": workers,
        "rows": rows,
        "errors": [
            {"name": e.name, "error": str(e.error), "occurrences": e.occurrences}
            for e in stats.errors.values()
        ],
    }


def write_summary(environment: Any, path: Path, peak_users: int = 0) -> None:
    runner = environment.runner
    workers = len(getattr(runner, "clients", {}) or {})
    peak = max(getattr(runner, "user_count", 0), peak_users)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summarise(environment.stats, peak, workers), indent=2))
