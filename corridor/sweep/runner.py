"""Fan a sweep's runs out over Dask, show progress, keep every result, resume what is missing.

The cluster: a LocalCluster of one single-threaded worker process per core by default (a run
is CPU-bound Python, and each worker process owns its runs' child processes), or an existing
scheduler joined with ``address`` (``tcp://dask-scheduler:8786`` in infra/k8s) exactly as it
is. On the local cluster workers write each run straight into ``OUT/runs/<run_id>/``; on a
joined cluster the run's files travel back with its result and the client writes them, so
workers need no shared filesystem.

Fault tolerance: Dask reruns the tasks of a worker that dies (up to
``distributed.scheduler.allowed-failures`` deaths per task), and ``retries`` reruns a task
that raised. A run is a pure function of (scenario, parameters, seed), so a rerun gives the
same figures. A run that still fails is a row with its reason.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from corridor.sweep.plan import RunSpec, SweepError, SweepPlan
from corridor.sweep.tasks import (
    RUN_FILE,
    ServicesOptions,
    failed_row,
    run_model_batch,
    run_services,
)

RUNS_FILE = "runs.parquet"
MANIFEST_FILE = "sweep.json"
MAX_BATCH = 25  # model-only runs per task: amortises scheduling, keeps progress moving
IDENTITY_COLUMNS = ("run_id", "seed", "mode", "status", "reason")
POLL_S = 0.1
# The local cluster's housekeeping, tuned for a few long CPU-bound tasks per worker: Dask's
# defaults (a 100 Hz statistical profiler in every worker, 10 Hz memory and system monitors,
# work stealing, the active memory manager) cost ~4% of a core per worker while idle and slow
# the runs themselves; these settings cut that to ~1%. A joined cluster keeps its own config.
LEAN_LOCAL_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "2s",
    "distributed.scheduler.work-stealing": False,
    "distributed.scheduler.active-memory-manager.start": False,
    "distributed.admin.tick.interval": "1s",
}


@dataclass
class SweepOptions:
    workers: int | None = None  # local cluster size; default: one per core
    address: str | None = None  # join this scheduler instead of starting a local cluster
    retries: int = 2  # Dask retries of a task that raised (worker deaths are separate)
    batch_size: int | None = None  # model-only runs per task; default: sized to the sweep
    services: ServicesOptions = field(default_factory=ServicesOptions)
    full_timeseries: bool = False  # model-only: also write stablecoin_timeseries.csv
    data_dir: Path | None = None  # embedded PostgreSQL of a local services sweep
    progress: bool = True


@dataclass
class SweepOutcome:
    out: Path
    rows: list[dict[str, Any]]  # plan order; only runs that finished (ok or failed)
    planned: int
    ran: int
    skipped: int  # finished by an earlier invocation (resume)
    wall_s: float
    workers: int
    interrupted: bool = False

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.get("status") != "ok")

    @property
    def missing(self) -> int:
        return self.planned - len(self.rows)

    @property
    def runs_per_min(self) -> float:
        return 60.0 * self.ran / self.wall_s if self.wall_s > 0 else 0.0


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- resume


def finished_rows(out: Path, plan: SweepPlan) -> dict[str, dict[str, Any]]:
    """Rows of runs already finished successfully in ``out`` (their run.json). Failed and
    unfinished runs are run again."""
    done: dict[str, dict[str, Any]] = {}
    for run in plan.runs:
        path = out / "runs" / run.run_id / RUN_FILE
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(row, dict) and row.get("status") == "ok" and row.get("run_id") == run.run_id:
            done[run.run_id] = row
    return done


def write_manifest(plan: SweepPlan, out: Path) -> None:
    (out / "scenarios").mkdir(parents=True, exist_ok=True)
    for combo in plan.combos:
        (out / "scenarios" / f"{combo.index:04d}.yaml").write_text(
            combo.scenario_yaml(), encoding="utf-8"
        )
    (out / MANIFEST_FILE).write_text(json.dumps(plan.manifest(), indent=2) + "\n", encoding="utf-8")


def write_runs(out: Path, rows: list[dict[str, Any]]) -> Path:
    """runs.parquet: one row per finished run, identity and parameter columns first."""
    import pandas as pd

    path = out / RUNS_FILE
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=list(IDENTITY_COLUMNS))
    first = [c for c in IDENTITY_COLUMNS if c in frame]
    params = [c for c in frame.columns if c.startswith("param.")]
    rest = [c for c in frame.columns if c not in first and c not in params]
    frame = frame[first + params + rest]
    for col in frame.columns:
        if frame[col].dtype == object:
            # A column with gaps (a figure some runs lack) keeps its own type: None, not NaN.
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- cluster


@dataclass
class SweepCluster:
    client: Any
    remote: bool
    database_url: str | None
    local: Any = None

    @property
    def threads(self) -> int:
        info = self.client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))


@contextmanager
def open_cluster(opts: SweepOptions, mode: str) -> Iterator[SweepCluster]:
    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if opts.address:
        try:
            client = Client(opts.address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise SweepError(
                [f"--address {opts.address}: cannot reach the Dask scheduler ({exc})"]
            ) from None
        try:
            yield SweepCluster(client, True, None)
        finally:
            client.close()
        return
    database_url = None
    if mode == "services":
        from corridor import pg
        from corridor.config import state_dir

        # One PostgreSQL for the sweep, each run its own databases on it: held open here
        # so it is not stopped and restarted between runs.
        database_url = os.environ.get("CORRIDOR_DATABASE_URL") or pg.embedded_server_url(
            opts.data_dir or state_dir()
        )
    with dask.config.set(LEAN_LOCAL_CLUSTER):
        cluster = LocalCluster(
            n_workers=opts.workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never collide with another cluster's 8787
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        try:
            yield SweepCluster(client, False, database_url, cluster)
        finally:
            client.close()
            cluster.close()


# --------------------------------------------------------------------------- the sweep


def run_sweep(
    plan: SweepPlan, out: Path, opts: SweepOptions | None = None, console: Console | None = None
) -> SweepOutcome:
    """Run every run of ``plan`` not already finished in ``out``; write runs.parquet."""
    opts = opts or SweepOptions()
    console = console or Console(stderr=True)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(plan, out)
    rows = finished_rows(out, plan)
    skipped = len(rows)
    todo = [r for r in plan.runs if r.run_id not in rows]
    if skipped:
        console.print(f"resuming: {skipped} of {len(plan.runs)} runs already finished in {out}")
    t0 = time.perf_counter()
    interrupted = False
    workers = 0
    if todo:
        with open_cluster(opts, plan.mode) as cluster:
            workers = cluster.threads
            interrupted = _execute(plan, todo, out, opts, cluster, rows, console)
    wall = time.perf_counter() - t0
    # Runs a worker finished that the client had not collected yet (an interrupt): on disk.
    for run_id, row in finished_rows(out, plan).items():
        rows.setdefault(run_id, row)
    ordered = [rows[r.run_id] for r in plan.runs if r.run_id in rows]
    write_runs(out, ordered)
    return SweepOutcome(
        out, ordered, len(plan.runs), len(rows) - skipped, skipped, wall, workers, interrupted
    )


def _submit(plan: SweepPlan, todo: list[RunSpec], out: Path, opts: SweepOptions,
            cluster: SweepCluster) -> dict[Any, list[RunSpec]]:  # fmt: skip
    client = cluster.client
    target = None if cluster.remote else str(out)
    tag = uuid.uuid4().hex[:8]  # keys unique to this invocation on a shared scheduler
    jobs: dict[Any, list[RunSpec]] = {}
    if plan.mode == "services":
        from corridor.config import state_dir

        # Only used by a worker that has no database URL: the local cluster always has one.
        data_dir = None if cluster.remote else str((opts.data_dir or state_dir()).resolve())
        for run in todo:
            combo = plan.combos[run.combo]
            f = client.submit(run_services, combo.scenario_yaml(run.seed), run, target,
                              cluster.database_url, data_dir, opts.services,
                              key=f"corridor-run-{run.run_id}-{tag}", retries=opts.retries, pure=False)  # fmt: skip
            jobs[f] = [run]
        return jobs
    size = opts.batch_size or max(1, min(MAX_BATCH, math.ceil(len(todo) / (4 * cluster.threads))))
    by_combo: dict[int, list[RunSpec]] = {}
    for run in todo:
        by_combo.setdefault(run.combo, []).append(run)
    for combo_index, runs in by_combo.items():
        scenario = plan.combos[combo_index].scenario
        for k in range(0, len(runs), size):
            batch = runs[k : k + size]
            f = client.submit(run_model_batch, scenario, batch, target, opts.full_timeseries,
                              key=f"corridor-batch-{batch[0].run_id}-{len(batch)}-{tag}",
                              retries=opts.retries, pure=False)  # fmt: skip
            jobs[f] = batch
    return jobs


def _execute(plan: SweepPlan, todo: list[RunSpec], out: Path, opts: SweepOptions,
             cluster: SweepCluster, rows: dict[str, dict[str, Any]], console: Console) -> bool:  # fmt: skip
    """Submit, collect, show progress; returns True when interrupted."""
    from distributed import as_completed

    jobs = _submit(plan, todo, out, opts, cluster)
    by_key = {f.key: runs for f, runs in jobs.items()}
    columns = (
        TextColumn(f"[bold]{plan.mode} sweep"), BarColumn(), MofNCompleteColumn(),
        TextColumn("runs · [red]{task.fields[failed]} failed[/] · {task.fields[running]} running"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
    )  # fmt: skip
    done_before = len(rows)
    failed = 0
    pending = set(jobs)
    progress = Progress(*columns, console=console, disable=not opts.progress)
    try:
        with progress:
            bar = progress.add_task(
                "sweep", total=len(plan.runs), completed=done_before, failed=0, running=0
            )
            ac = as_completed(list(jobs))
            last_poll = 0.0
            while pending:
                ready = ac.next_batch(block=False) if ac.has_ready() else []
                for f in ready:
                    pending.discard(f)
                    for row in _collect(f, jobs.pop(f), plan.mode, out, cluster.remote):
                        rows[row["run_id"]] = row
                        failed += row.get("status") != "ok"
                    f.release()  # its files are written: free the worker's memory now
                if time.monotonic() - last_poll > 1.0 or ready:
                    last_poll = time.monotonic()
                    running = _running(cluster.client, by_key)
                    progress.update(bar, completed=len(rows), failed=failed, running=running)
                if not ready:
                    time.sleep(POLL_S)
            progress.update(bar, completed=len(rows), failed=failed, running=0)
    except KeyboardInterrupt:
        cluster.client.cancel(list(pending))
        console.print(
            f"[yellow]interrupted[/]: {len(rows)} of {len(plan.runs)} runs finished; "
            "run the same command again to resume"
        )
        return True
    return False


def _running(client: Any, by_key: dict[Any, list[RunSpec]]) -> int:
    try:
        processing = client.processing()
    except Exception:  # noqa: BLE001 - progress only
        return 0
    return sum(len(by_key.get(k, ())) for keys in processing.values() for k in keys)


def _collect(
    future: Any, runs: list[RunSpec], mode: str, out: Path, remote: bool
) -> list[dict[str, Any]]:
    """The rows of a finished task; a task that failed for good is one failed row per run."""
    if future.status == "finished":
        result = future.result()
        results = result if isinstance(result, list) else [result]
        rows = []
        for item in results:
            if item.get("files") is not None:
                _write_shipped(out, item["row"]["run_id"], item["files"])
            rows.append(item["row"])
        return rows
    if future.status == "cancelled":
        reason = "cancelled"
    else:
        exc = future.exception()
        reason = f"{type(exc).__name__}: {exc}"
    rows = []
    for run in runs:
        row = failed_row(run, mode, reason)
        run_dir = out / "runs" / run.run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / RUN_FILE).write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
        rows.append(row)
    return rows


def _write_shipped(out: Path, run_id: str, files: dict[str, bytes]) -> None:
    """Write a run's files that came back from a remote worker; run.json last."""
    import shutil

    run_dir = out / "runs" / run_id
    if run_dir.exists():
        shutil.rmtree(run_dir)
    for rel, data in sorted(files.items(), key=lambda kv: kv[0] == RUN_FILE):
        path = run_dir / rel
        if not path.resolve().is_relative_to(run_dir.resolve()):
            continue  # never write outside the run's directory
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
