"""What runs on a Dask worker: one services-mode run, or a batch of model-only runs.

Both write the run's directory — straight into the sweep's ``runs/<run_id>/`` when the
worker shares the client's filesystem (the local cluster), or into a scratch directory whose
files travel back with the result when it does not (a cluster joined with ``--address``) —
and return the run's row for runs.parquet. ``run.json`` (the row) is written last: its
presence is what marks a run finished when a sweep is resumed.

A run that fails is a row with ``status: failed`` and the reason, never an exception, with
one exception: a services run whose process crashed (not a scenario error, not a violated
invariant) raises ``RunCrashed``, so Dask's ``retries`` gets another go at what may have been
a transient fault (a port taken between choosing and binding it, a database restart).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corridor.sweep.figures import summary_row
from corridor.sweep.runs import RunSpec, param_column

RUN_FILE = "run.json"
SERVICES_LOG = "simulate.log"
MODEL_SOURCE = "in-process StablecoinWorld (services/stablecoin), model-only: no services"
TIMESERIES_COLUMNS = (
    ("t_s", "t_s"),
    ("at", "at"),
    ("price", "stablecoin_price"),
    ("supply_minor", "stablecoin_supply_minor"),
    ("redemptions_cum_pct", "redemptions_cum_pct"),
    ("coverage", "stablecoin_coverage"),
    ("alarm", "stablecoin_alarm"),
)


class RunCrashed(RuntimeError):
    """A services run whose process died for a reason other than its own result."""


@dataclass(frozen=True)
class ServicesOptions:
    wallets_cap: int = 20_000
    timeout_s: float = 0.0  # 0: no limit
    keep_databases: bool = False


# --------------------------------------------------------------------------- rows


def base_row(run: RunSpec, mode: str, status: str, reason: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {"run_id": run.run_id, "seed": run.seed, "mode": mode,
                           "status": status, "reason": reason, "combo": run.combo}  # fmt: skip
    for key, value in run.params:
        row[f"param.{key}"] = param_column(value)
    return row


def finish_row(
    row: dict[str, Any], summary: dict[str, Any] | None, t0: float, cpu0: float | None = None
) -> dict[str, Any]:
    """The run's row: identity, where it ran and how long it took (bookkeeping, not figures:
    ``elapsed_s`` is wall time, ``cpu_s`` the worker thread's CPU time), then its figures."""
    figures = summary_row(summary) if summary else {}
    figures.pop("seed", None)
    out = {**row, "worker": worker_name(), "elapsed_s": round(time.perf_counter() - t0, 3)}
    if cpu0 is not None:
        out["cpu_s"] = round(time.thread_time() - cpu0, 3)
    out.update({k: v for k, v in figures.items() if k not in row})
    return out


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def failed_row(run: RunSpec, mode: str, reason: str) -> dict[str, Any]:
    """The row of a run that produced nothing (its task was lost, or it raised)."""
    return {**base_row(run, mode, "failed", reason), "worker": "", "elapsed_s": None}


# --------------------------------------------------------------------------- files


def _run_dir(out: str | None, run_id: str) -> tuple[Path, bool]:
    """The directory to write the run into, and whether its files must be shipped back."""
    if out is not None:
        path = Path(out) / "runs" / run_id
        # A previous, unfinished attempt: start clean (its processes may still be stopping,
        # so what they write meanwhile is tolerated; run.json is only ever written last).
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        return path, False
    return Path(tempfile.mkdtemp(prefix=f"corridor-sweep-{run_id}-")), True


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=False) + "\n"


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat()
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
    except ImportError:  # pragma: no cover - numpy ships with the project
        pass
    return str(o)


def _finish(run_dir: Path, row: dict[str, Any], ship: bool) -> dict[str, Any]:
    """Write run.json last; in ship mode collect the directory's files and remove it."""
    row = _clean(row)
    _write_atomic(run_dir / RUN_FILE, _json(row))
    if not ship:
        return {"row": row, "files": None}
    files = {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }
    shutil.rmtree(run_dir, ignore_errors=True)
    return {"row": row, "files": files}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: NaN and infinities become None."""
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()
    }


# --------------------------------------------------------------------------- model-only


def run_model_batch(
    scenario: Any, runs: list[RunSpec], out: str | None, full_timeseries: bool = False
) -> list[dict[str, Any]]:
    """Run the scenario's stablecoin world once per seed in ``runs`` (no services)."""
    return [run_model(scenario, run, out, full_timeseries) for run in runs]


def run_model(
    scenario: Any, run: RunSpec, out: str | None, full_timeseries: bool = False
) -> dict[str, Any]:
    from services.stablecoin.model import StablecoinWorld

    t0, cpu0 = time.perf_counter(), time.thread_time()
    run_dir, ship = _run_dir(out, run.run_id)
    row = base_row(run, "model-only", "ok")
    try:
        start = datetime.fromtimestamp(scenario.start_epoch_s, tz=UTC)
        world = StablecoinWorld.from_spec(scenario.stablecoin_spec, seed=run.seed, start_at=start)
        world.run(scenario.days)
        summary = model_summary(scenario, world, run.seed)
        rows = world.timeseries()
        (run_dir / "timeseries.csv").write_text(_slim_timeseries(rows), encoding="utf-8")
        if full_timeseries:
            (run_dir / "stablecoin_timeseries.csv").write_text(_csv(rows), encoding="utf-8")
        _write_atomic(run_dir / "summary.json", _json(summary))
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded with its reason
        (run_dir / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        return _finish(run_dir, finish_row({**row, "status": "failed",
                                            "reason": f"{type(exc).__name__}: {exc}"}, None, t0, cpu0), ship)  # fmt: skip
    return _finish(run_dir, finish_row(row, summary, t0, cpu0), ship)


def model_summary(scenario: Any, world: Any, seed: int) -> dict[str, Any]:
    """summary.json of a model-only run: the scenario's identity and the stablecoin block,
    shaped like `corridor simulate`'s so the briefing reads either."""
    return {
        "scenario": scenario.name,
        "question": scenario.question,
        "seed": seed,
        "mode": "model-only",
        "started_at": datetime.fromtimestamp(scenario.start_epoch_s, tz=UTC).isoformat(),
        "days": scenario.days,
        "stablecoin": {**world.summary(), "model": MODEL_SOURCE},
        "assumptions": [a.model_dump(mode="json") for a in scenario.assumptions],
        "caveats": list(scenario.caveats)
        + [
            (
                "Model-only run: the stablecoin and contagion dynamics alone; no corridor "
                "payments were made, so there are no rail figures."
            )
        ],
    }


def _slim_timeseries(rows: list[dict[str, Any]]) -> str:
    """The columns the ensemble briefing's fan charts read, named as `corridor simulate`
    names them (redemptions_cum_pct here is the model's net figure: burned minus minted)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([name for _, name in TIMESERIES_COLUMNS])
    keys = [k for k, _ in TIMESERIES_COLUMNS]
    w.writerows([r[k] for k in keys] for r in rows)
    return buf.getvalue()


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------- services


def simulate_args(scenario_file: Path, seed: int, out: Path, opts: ServicesOptions) -> list[str]:
    """The `corridor simulate` arguments of a services run: exactly what a user would type to
    run it alone (the scenario file holds the combination's resolved scenario)."""
    args = ["simulate", "--scenario", str(scenario_file), "--seed", str(seed), "--out", str(out),
            "--wallets-cap", str(opts.wallets_cap), "--no-brief"]  # fmt: skip
    if opts.keep_databases:
        args.append("--keep-databases")
    return args


def run_services(
    scenario_yaml: str,
    run: RunSpec,
    out: str | None,
    database_url: str | None,
    data_dir: str | None,
    opts: ServicesOptions,
) -> dict[str, Any]:
    """One run through the real services, in its own `corridor simulate` process.

    Databases: the run's ledgers are databases named from its directory on one PostgreSQL
    server — the sweep's (``database_url``), else the worker's ``CORRIDOR_DATABASE_URL``, else
    an embedded server in the worker's data directory, started once per worker process and
    shared by its runs (pgserver counts handles across processes). Ports: the simulator picks
    free ones."""
    t0 = time.perf_counter()
    run_dir, ship = _run_dir(out, run.run_id)
    scenario_file = run_dir / "scenario.yaml"
    scenario_file.write_text(scenario_yaml, encoding="utf-8")
    url = database_url or os.environ.get("CORRIDOR_DATABASE_URL") or _worker_database(data_dir)
    env = {**os.environ, "CORRIDOR_DATABASE_URL": url, "CORRIDOR_HOME": str(run_dir / ".corridor"),
           "CORRIDOR_SWEEP_PARENT": str(os.getpid())}  # fmt: skip
    argv = [sys.executable, "-m", "corridor.sweep.child",
            *simulate_args(scenario_file, run.seed, run_dir, opts)]  # fmt: skip
    code, timed_out = _run_child(argv, env, run_dir / SERVICES_LOG, opts.timeout_s)
    summary_path = run_dir / "summary.json"
    summary = _read_json(summary_path)
    row = base_row(run, "services", "ok")
    if timed_out:
        row.update(status="failed", reason=f"timed out after {opts.timeout_s:g} s")
    elif (
        code == 1 and summary is not None and not (summary.get("invariants") or {}).get("ok", True)
    ):
        broken = [c.get("name", "?") for c in (summary.get("invariants") or {}).get("checks", [])
                  if not c.get("ok", True)]  # fmt: skip
        row.update(status="failed", reason="invariants violated: " + ", ".join(broken or ["?"]))
    elif code == 2:
        row.update(status="failed", reason=_last_line(run_dir / SERVICES_LOG) or "scenario error")
    elif code != 0 or summary is None:
        tail = _tail(run_dir / SERVICES_LOG)
        if out is not None:
            _keep_crash_log(Path(out), run.run_id, run_dir)
        if ship:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise RunCrashed(
            f"run {run.run_id} (seed {run.seed}): corridor simulate exited {code}:\n{tail}"
        )
    return _finish(run_dir, finish_row(row, summary, t0), ship)


def _worker_database(data_dir: str | None) -> str:
    from corridor import pg
    from corridor.config import state_dir

    return pg.embedded_server_url(Path(data_dir) if data_dir else state_dir())


def _run_child(
    argv: list[str], env: dict[str, str], log: Path, timeout_s: float
) -> tuple[int, bool]:
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT)
        try:
            return proc.wait(timeout=timeout_s or None), False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the child stops its services on SIGTERM
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return proc.returncode, True
        except BaseException:
            # The task itself is being torn down: take the run's processes with it.
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _keep_crash_log(out: Path, run_id: str, run_dir: Path) -> None:
    """A crashed attempt's logs survive the retry that wipes its directory."""
    crashes = out / "crashes"
    crashes.mkdir(exist_ok=True)
    attempt = len(list(crashes.glob(f"{run_id}-*"))) + 1
    target = crashes / f"{run_id}-{attempt}"
    shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("*.parquet", "payments.csv"))


def _last_line(path: Path) -> str:
    """The last meaningful line of a log: a traceback's final line, a scenario error."""
    try:
        lines = [
            ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()
        ]
    except OSError:
        return ""
    lines = [ln for ln in lines if ln and not ln.startswith(("results:", "briefing:"))]
    return lines[-1][:500] if lines else ""
