"""What a sweep ships to its workers: a run's identity and parameters (standard library only,
so a worker that only executes runs imports nothing heavy to read them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a parameter combination and a seed."""

    run_id: str
    combo: int  # index into SweepPlan.combos
    seed: int
    params: tuple[tuple[str, Any], ...]  # the grid values of this run, in grid order


def show(value: Any) -> str:
    """A parameter value as text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(plain(value))


def plain(value: Any) -> Any:
    """A parameter value as JSON-able data."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def param_column(value: Any) -> Any:
    """A parameter value as a runs.parquet cell: scalars as they are, lists and mappings as
    their JSON text (a column must hold one type, and the briefing groups by value)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return show(value)
