"""Reading a results directory (one run) or a sweep directory (many runs), defensively.

The briefing is built against the contract that ``corridor simulate`` writes
(``summary.json``, ``timeseries.csv``, ``payments.csv``/``.parquet``, ``alerts.csv``,
``traces.jsonl``; a sweep adds ``runs.parquet`` and ``runs/<run_id>/``). Any file or
block may be missing: the loaders return ``None`` (or an empty dict) and record a note,
and each section of the briefing then says "not in this run" instead of failing. Only a
directory that does not exist, or a ``summary.json`` that is not JSON, is an error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RAILS: tuple[str, ...] = ("cbdc", "stablecoin", "correspondent")
RAIL_NAMES: dict[str, str] = {
    "cbdc": "CBDC (mBridge)",
    "stablecoin": "USD stablecoin",
    "correspondent": "Correspondent banks",
}
KINDS: tuple[str, ...] = ("retail", "remittance", "trade")
PAYMENT_COLUMNS = (
    "payment_id",
    "created_at_s",
    "corridor",
    "kind",
    "rail",
    "amount_usd_minor",
    "cost_usd_minor",
    "cost_bps",
    "settle_s",
    "status",
    "trace_id",
)
# Statuses a sweep runner may write for a run that completed and whose figures count.
OK_RUN_STATUSES = frozenset({"ok", "completed", "complete", "success", "succeeded", "done"})


class BriefingError(Exception):
    """Bad input to the briefing (a missing directory, an unreadable summary), said plainly."""


# How a rail is named inside a sentence ("... correspondent banking 2.6%").
RAIL_SHORT_NAMES: dict[str, str] = {
    "cbdc": "CBDC",
    "stablecoin": "the stablecoin",
    "correspondent": "correspondent banking",
}


def rail_name(rail: str) -> str:
    return RAIL_NAMES.get(rail, rail.replace("_", " ").capitalize())


def rail_short(rail: str) -> str:
    return RAIL_SHORT_NAMES.get(rail, rail.replace("_", " "))


def sentence(text: str) -> str:
    """Capitalise the first letter only ("the stablecoin ..." -> "The stablecoin ...")."""
    return text[:1].upper() + text[1:]


def dig(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]...`` or ``None`` when any step is missing or of the wrong shape."""
    for key in keys:
        if isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
            continue
        if isinstance(data, Mapping) and key in data:
            data = data[key]
            continue
        return None
    return data


def num(data: Any, *keys: str | int) -> float | None:
    """A finite number at ``keys`` or ``None`` (strings, bools, NaN and absences all -> None)."""
    value = dig(data, *keys)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class RunResults:
    """Everything the briefing can use from one results directory."""

    directory: Path
    summary: dict[str, Any] = field(default_factory=dict)
    timeseries: pd.DataFrame | None = None
    payments: pd.DataFrame | None = None
    alerts: pd.DataFrame | None = None
    traces_path: Path | None = None
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def source(self, stem: str) -> str:
        """The file a table was read from ("payments.parquet"), for a figure's source line."""
        return self.sources.get(stem, f"{stem}.csv")

    @property
    def has_summary(self) -> bool:
        return bool(self.summary)

    def rails_present(self) -> list[str]:
        """Rails with any figure in the summary or any payment, in the canonical order."""
        found: set[str] = set()
        rails_block = dig(self.summary, "rails")
        if isinstance(rails_block, Mapping):
            found.update(str(k) for k in rails_block)
        if self.payments is not None and "rail" in self.payments:
            found.update(str(v) for v in self.payments["rail"].dropna().unique())
        ordered = [r for r in RAILS if r in found]
        return ordered + sorted(found - set(RAILS))

    def timeseries_column(self, name: str) -> pd.Series | None:
        """A numeric timeseries column with at least one value, else ``None``."""
        ts = self.timeseries
        if ts is None or name not in ts or "t_s" not in ts:
            return None
        col = pd.to_numeric(ts[name], errors="coerce")
        return col if col.notna().any() else None


def _read_summary(path: Path, notes: list[str], strict: bool) -> dict[str, Any]:
    if not path.is_file():
        notes.append("summary.json is missing")
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        if strict:
            raise BriefingError(message) from None
        notes.append(message)
        return {}
    if not isinstance(data, dict):
        message = f"{path}: expected a JSON object at the top level, found {type(data).__name__}"
        if strict:
            raise BriefingError(message)
        notes.append(message)
        return {}
    return data


def _read_table(
    run: RunResults, stem: str, columns: tuple[str, ...] | None = None
) -> pd.DataFrame | None:
    """Parquet if present and readable (faster), else CSV; only the columns we use. The file
    actually read is recorded in ``run.sources`` so each figure cites it."""
    directory, notes = run.directory, run.notes
    parquet, csv = directory / f"{stem}.parquet", directory / f"{stem}.csv"
    if parquet.is_file():
        try:
            import pyarrow.parquet as pq

            names = pq.read_schema(parquet).names
            wanted = [c for c in columns if c in names] if columns else None
            table = pd.read_parquet(parquet, columns=wanted)
            if not table.empty:
                run.sources[stem] = parquet.name
                return table
        except Exception as exc:  # noqa: BLE001 - any unreadable file becomes a note
            notes.append(f"{parquet.name} could not be read ({type(exc).__name__}); trying CSV")
    if not csv.is_file():
        return None
    try:
        usecols = (lambda c: c in columns) if columns else None
        frame = pd.read_csv(csv, usecols=usecols, low_memory=False)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"{csv.name} could not be read ({type(exc).__name__}: {exc})")
        return None
    if frame.empty:
        notes.append(f"{csv.name} has no rows")
        return None
    run.sources[stem] = csv.name
    return frame


def load_run(directory: Path, *, strict: bool = True) -> RunResults:
    """Load one results directory. ``strict`` makes an unreadable summary.json an error
    (for a single run); a sweep loads its runs with ``strict=False``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BriefingError(f"results directory not found: {directory}")
    notes: list[str] = []
    run = RunResults(directory=directory, notes=notes)
    run.summary = _read_summary(directory / "summary.json", notes, strict)
    run.timeseries = _read_table(run, "timeseries")
    if run.timeseries is not None and "t_s" in run.timeseries:
        ts = run.timeseries
        ts["t_s"] = pd.to_numeric(ts["t_s"], errors="coerce")
        run.timeseries = ts.dropna(subset=["t_s"]).sort_values("t_s").reset_index(drop=True)
    run.payments = _read_table(run, "payments", PAYMENT_COLUMNS)
    if run.payments is not None:
        for col in ("cost_bps", "settle_s", "amount_usd_minor", "cost_usd_minor"):
            if col in run.payments:
                run.payments[col] = pd.to_numeric(run.payments[col], errors="coerce")
    run.alerts = _read_table(run, "alerts")
    traces = directory / "traces.jsonl"
    run.traces_path = traces if traces.is_file() and traces.stat().st_size > 0 else None
    if not any(
        (run.summary, run.timeseries is not None, run.payments is not None, run.traces_path)
    ):
        raise BriefingError(
            f"no results in {directory}: expected summary.json, timeseries.csv, payments.csv "
            f"or traces.jsonl (written by `corridor simulate`), or runs.parquet for a sweep"
        )
    return run


# --------------------------------------------------------------------------- sweeps


@dataclass
class SweepResults:
    """A parameter sweep: one row per run in ``runs.parquet`` plus each run's directory."""

    directory: Path
    runs: pd.DataFrame
    run_dirs: dict[str, Path]
    notes: list[str] = field(default_factory=list)

    @property
    def param_columns(self) -> list[str]:
        return [c for c in self.runs.columns if c.startswith("param.")]

    @property
    def swept_params(self) -> list[str]:
        """Parameters that take more than one value across runs (seeds excluded)."""
        return [c for c in self.param_columns if self.runs[c].nunique(dropna=True) > 1]

    @property
    def shock_param(self) -> str | None:
        """The swept parameter to plot depeg probability against: the first whose name
        mentions a shock, else the first swept one."""
        swept = self.swept_params
        for name in swept:
            if "shock" in name.lower():
                return name
        return swept[0] if swept else None

    @property
    def ok_mask(self) -> pd.Series:
        if "status" not in self.runs:
            return pd.Series(True, index=self.runs.index)
        status = self.runs["status"].astype(str).str.strip().str.lower()
        return status.isin(OK_RUN_STATUSES)

    @property
    def ok_runs(self) -> pd.DataFrame:
        return self.runs[self.ok_mask]

    def column(self, name: str, ok_only: bool = True) -> pd.Series | None:
        frame = self.ok_runs if ok_only else self.runs
        if name not in frame:
            return None
        values = pd.to_numeric(frame[name], errors="coerce")
        return values if values.notna().any() else None

    def ok_run_dirs(self) -> list[tuple[str, Path]]:
        """Directories of the runs that completed, in run order."""
        if "run_id" not in self.runs:
            return sorted(self.run_dirs.items())
        ok_ids = [str(v) for v in self.ok_runs["run_id"]]
        return [(rid, self.run_dirs[rid]) for rid in ok_ids if rid in self.run_dirs]


def is_sweep(directory: Path) -> bool:
    return (Path(directory) / "runs.parquet").is_file()


def load_sweep(directory: Path) -> SweepResults:
    directory = Path(directory)
    if not directory.is_dir():
        raise BriefingError(f"sweep directory not found: {directory}")
    path = directory / "runs.parquet"
    try:
        runs = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        raise BriefingError(f"{path}: could not be read as Parquet ({exc})") from None
    notes: list[str] = []
    if runs.empty:
        notes.append("runs.parquet has no rows")
    if "run_id" in runs:
        runs["run_id"] = runs["run_id"].astype(str)
    runs_root = directory / "runs"
    run_dirs = (
        {p.name: p for p in sorted(runs_root.iterdir()) if p.is_dir()} if runs_root.is_dir() else {}
    )
    if not run_dirs:
        notes.append("no per-run directories under runs/")
    return SweepResults(directory=directory, runs=runs, run_dirs=run_dirs, notes=notes)


# --------------------------------------------------------------------------- shared figures


def hours_below(ts: pd.DataFrame, column: str, threshold: float) -> float | None:
    """Hours the series spent below ``threshold``: each interval counts when its starting
    value is below (the value holds until the next observation)."""
    if ts is None or column not in ts or "t_s" not in ts or len(ts) < 2:
        return None
    t = pd.to_numeric(ts["t_s"], errors="coerce").to_numpy(dtype=float)
    v = pd.to_numeric(ts[column], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(t) & np.isfinite(v)
    t, v = t[keep], v[keep]
    if len(t) < 2:
        return None
    dt = np.diff(t)
    return float(dt[v[:-1] < threshold].sum() / 3600.0)
