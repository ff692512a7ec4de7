"""`corridor bench sweep`: what the sweep engine costs, measured against its own baseline.

Services mode: the same runs (scenario, payments, days, seeds 1..N) are made on one
PostgreSQL server as bare `corridor simulate` processes one after another (what a user would
do by hand) — before and after — and in between as a one-worker sweep (like for like: the
sweep's parallelism is not counted as a gain). ``overhead_vs_simulate`` = sweep wall time /
(N x mean bare run) - 1: the cluster start and stop, scheduling, the wrapper process and the
results bookkeeping, per run. The
figures of each pair are compared too (``identical_to_simulate``: the determinism contract).

Model-only mode: N one-week stablecoin runs as a sweep on the local cluster (one worker per
core, startup included) -> ``model_runs_per_min``; and a few of the same runs in this process
with no Dask and no files -> ``model_direct_runs_per_min_one_core``, the model's own speed.
On a machine shared with other work the workers do not get whole cores, so each run's CPU
time is recorded too and ``model_runs_per_min_cpu_bound`` = workers x 60 / CPU s per run says
what the same workers reach with their cores to themselves. ``loadavg_1m`` says how shared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from corridor.sweep.figures import comparable_figures
from corridor.sweep.plan import plan_sweep, seed_list
from corridor.sweep.runner import SweepOptions, default_workers, run_sweep
from corridor.sweep.tasks import ServicesOptions

DIRECT_RUNS = 6


def _simulate_alone(scenario: str, seed: int, payments: int, days: float, wallets_cap: int,
                    out: Path, database_url: str) -> tuple[float, float]:  # fmt: skip
    """One bare run: its wall time and the CPU time of its whole process tree."""
    argv = [sys.executable, "-m", "corridor.cli", "simulate", "--scenario", scenario, "--seed", str(seed),
            "--payments", str(payments), "--days", str(days), "--wallets-cap", str(wallets_cap),
            "--out", str(out), "--no-brief"]  # fmt: skip
    env = {
        **os.environ,
        "CORRIDOR_DATABASE_URL": database_url,
        "CORRIDOR_HOME": str(out / ".corridor"),
    }
    out.mkdir(parents=True, exist_ok=True)
    t0, cpu0 = time.perf_counter(), tree_cpu_s()
    with (out / "simulate.log").open("wb") as log:
        code = subprocess.run(
            argv, check=False, env=env, stdout=log, stderr=subprocess.STDOUT
        ).returncode
    wall, cpu = time.perf_counter() - t0, tree_cpu_s() - cpu0
    if code != 0:
        # The work directory is removed afterwards: say why here, not only in the log.
        tail = (out / "simulate.log").read_text(errors="replace").strip().splitlines()[-6:]
        raise RuntimeError(f"corridor simulate (seed {seed}) exited {code}:\n" + "\n".join(tail))
    return wall, cpu


def tree_cpu_s() -> float:
    """CPU seconds of this process and every descendant it has waited for (each waited
    process carries its own waited descendants: simulate -> its services; the local
    cluster -> nanny -> worker -> wrapper -> simulate -> services). The shared PostgreSQL
    server is a daemon and is in neither figure."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench_services(scenario: str, runs: int, payments: int, days: float, wallets_cap: int,
                   work: Path, console: Console) -> dict[str, Any]:  # fmt: skip
    from corridor import pg
    from corridor.config import state_dir

    url = os.environ.get("CORRIDOR_DATABASE_URL") or pg.embedded_server_url(state_dir())
    seeds = seed_list(runs)
    alone: list[float] = []
    alone_cpu: list[float] = []

    def bare_runs(rounds: str) -> None:
        for seed in seeds:
            with console.status(f"bare corridor simulate, seed {seed} ({rounds})..."):
                wall, cpu = _simulate_alone(scenario, seed, payments, days, wallets_cap,
                                            work / "alone" / str(seed), url)  # fmt: skip
                alone.append(wall)
                alone_cpu.append(cpu)

    # Bare runs before and after the sweep: on a shared machine the load drifts, and the
    # mean of both rounds cancels a steady drift.
    bare_runs("before the sweep")
    plan = plan_sweep(scenario, seeds, {}, {"payments": payments, "days": days}, "services")
    opts = SweepOptions(workers=1, services=ServicesOptions(wallets_cap=wallets_cap))
    previous = os.environ.get("CORRIDOR_DATABASE_URL")
    os.environ["CORRIDOR_DATABASE_URL"] = url  # the same server as the bare runs
    try:
        t0, cpu0 = time.perf_counter(), tree_cpu_s()
        outcome = run_sweep(plan, work / "sweep", opts, console)
        sweep_wall, sweep_cpu = time.perf_counter() - t0, tree_cpu_s() - cpu0
    finally:
        if previous is None:
            os.environ.pop("CORRIDOR_DATABASE_URL", None)
        else:
            os.environ["CORRIDOR_DATABASE_URL"] = previous
    identical = outcome.failed == 0 and len(outcome.rows) == runs
    for row in outcome.rows:
        mine = json.loads((work / "sweep" / "runs" / row["run_id"] / "summary.json").read_text())
        theirs = json.loads((work / "alone" / str(row["seed"]) / "summary.json").read_text())
        identical &= comparable_figures(mine) == comparable_figures(theirs)
    bare_runs("after the sweep")
    simulate_s = sum(alone) / len(alone)
    task_s = sum(float(r.get("elapsed_s") or 0.0) for r in outcome.rows) / max(1, len(outcome.rows))
    return {
        "runs": runs,
        "runs_failed": outcome.failed,
        "runs_per_min": round(60.0 * runs / sweep_wall, 2),
        "simulate_s_per_run": round(simulate_s, 2),
        "simulate_s_spread": round(max(alone) - min(alone), 2),
        "sweep_s_per_run": round(sweep_wall / runs, 2),
        "sweep_task_s_per_run": round(task_s, 2),  # inside the worker: wrapper + simulate
        "sweep_cluster_s": round(sweep_wall - task_s * runs, 2),  # start, schedule, collect, stop
        "overhead_vs_simulate": round(sweep_wall / (simulate_s * runs) - 1.0, 4),
        # The same comparison in CPU seconds of each process tree: what the engine adds,
        # insensitive to how many other programs share the machine.
        "simulate_cpu_s_per_run": round(sum(alone_cpu) / len(alone_cpu), 2),
        "sweep_cpu_s_per_run": round(sweep_cpu / runs, 2),
        "overhead_vs_simulate_cpu": round(
            sweep_cpu / (sum(alone_cpu) / len(alone_cpu) * runs) - 1.0, 4
        ),
        "identical_to_simulate": identical,
        "payments_per_run": payments,
        "days_per_run": days,
    }


def bench_model(
    scenario: str, runs: int, workers: int, console: Console, work: Path
) -> dict[str, Any]:
    from datetime import UTC, datetime

    from services.stablecoin.model import StablecoinWorld

    plan = plan_sweep(scenario, seed_list(runs), {}, {}, "model-only")
    s = plan.combos[0].scenario
    start = datetime.fromtimestamp(s.start_epoch_s, tz=UTC)
    with console.status("the stablecoin model alone in this process..."):
        t0 = time.perf_counter()
        for seed in range(1, DIRECT_RUNS + 1):
            StablecoinWorld.from_spec(s.stablecoin_spec, seed=seed, start_at=start).run(
                s.days
            ).summary()
        direct = 60.0 * DIRECT_RUNS / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    outcome = run_sweep(plan, work / "model", SweepOptions(workers=workers), console)
    wall = time.perf_counter() - t0
    per_min = 60.0 * runs / wall
    cpu = [r["cpu_s"] for r in outcome.rows if r.get("cpu_s")]
    cpu_per_run = sum(cpu) / len(cpu) if cpu else float("nan")
    return {
        "model_runs": runs,
        "model_runs_failed": outcome.failed,
        "model_days_per_run": s.days,
        "model_runs_per_min": round(per_min, 1),
        "model_workers": workers,
        "model_direct_runs_per_min_one_core": round(direct, 1),
        "model_overhead_vs_direct": round(direct * workers / per_min - 1.0, 4),
        # On a shared machine the workers do not get whole cores: what each run cost in CPU,
        # and the rate the workers would reach with their cores to themselves.
        "model_cpu_s_per_run": round(cpu_per_run, 4),
        "model_runs_per_min_cpu_bound": round(60.0 * workers / cpu_per_run, 1),
    }


def run_sweep_bench(scenario: str = "svb-2023", runs: int = 4, payments: int = 2000, days: float = 3.0,
                    model_runs: int = 1000, workers: int | None = None, wallets_cap: int = 200,
                    services: bool = True, model: bool = True,
                    console: Console | None = None) -> dict[str, Any]:  # fmt: skip
    console = console or Console(stderr=True)
    result: dict[str, Any] = {"title": f"sweep engine ({scenario})"}
    work = Path(tempfile.mkdtemp(prefix="corridor-bench-sweep-"))
    try:
        if services:
            result.update(
                bench_services(scenario, runs, payments, days, wallets_cap, work, console)
            )
        if model:
            result.update(
                bench_model(scenario, model_runs, workers or default_workers(), console, work)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["cores"] = default_workers()
    result["loadavg_1m"] = round(os.getloadavg()[0], 2)
    return result


def bench_command(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Preset or YAML file")
    ] = "svb-2023",
    runs: Annotated[
        int, typer.Option(help="Services-mode runs (each made three times: alone, swept, alone)")
    ] = 4,
    payments: Annotated[int, typer.Option(help="Payments per services run")] = 2000,
    days: Annotated[float, typer.Option(help="Simulated days per services run")] = 3.0,
    wallets_cap: Annotated[
        int, typer.Option(help="Wallets per jurisdiction per services run")
    ] = 200,
    model_runs: Annotated[
        int, typer.Option(help="Model-only runs (the scenario's own days)")
    ] = 1000,
    workers: Annotated[
        int | None, typer.Option(help="Model-only workers [default: one per core]")
    ] = None,
    services: Annotated[bool, typer.Option(help="Measure services mode")] = True,
    model: Annotated[bool, typer.Option(help="Measure model-only mode")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON summary")] = False,
) -> None:
    """Measure the sweep engine: services-mode overhead against bare `corridor simulate` runs
    of the same scenarios in the same invocation, and model-only runs per minute."""
    try:
        result = run_sweep_bench(scenario, runs, payments, days, model_runs, workers, wallets_cap,
                                 services, model)  # fmt: skip
    except RuntimeError as exc:  # a bare run failed: its reason, not a traceback
        Console(stderr=True).print(f"[red]bench sweep:[/] {exc}")
        raise typer.Exit(1) from None
    t = Table(title=result.pop("title"))
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in result.items():
        t.add_row(k, f"{v:,.4g}" if isinstance(v, float) else str(v))
    Console().print(t)
    if json_out:
        print(json.dumps(result), flush=True)
