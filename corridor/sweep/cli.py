"""`corridor sweep`: many runs of one scenario over a parameter grid and seeds, on Dask."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corridor.sweep.plan import MODES, SweepError, SweepPlan, parse_grid, plan_sweep, seed_list
from corridor.sweep.runner import RUNS_FILE, SweepOptions, SweepOutcome, run_sweep
from corridor.sweep.tasks import ServicesOptions

EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def build_plan(scenario: str, seeds: int, seed_start: int, grid: list[str] | None,
               sets: list[str] | None, mode: str, payments: int | None = None,
               days: float | None = None) -> SweepPlan:  # fmt: skip
    """Parse and validate the command line into a plan; raises SweepError."""
    from corridor.scenario.loader import ScenarioError, parse_overrides

    if seeds < 1:
        raise SweepError([f"--seeds {seeds}: must be at least 1"])
    try:
        fixed: dict[str, Any] = parse_overrides(sets or [])
    except ScenarioError as exc:
        raise SweepError([f"--set: {exc}"]) from None
    if payments is not None:
        fixed["payments"] = payments
    if days is not None:
        fixed["days"] = days
    return plan_sweep(scenario, seed_list(seeds, seed_start), parse_grid(grid or []), fixed, mode)


def sweep_command(
    scenario: Annotated[
        str,
        typer.Option("--scenario", "-s", help="Preset name or YAML file (as `corridor simulate`)"),
    ],
    seeds: Annotated[int, typer.Option(help="Seeds per parameter combination")] = 10,
    seed_start: Annotated[int, typer.Option(help="First seed: seeds are START..START+N-1")] = 1,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="Sweep a field: --grid stablecoin.shocks.1.share=0.5,1.0 (repeat for a product)",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fix a field for every run: --set days=3")
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="services (real services per run) or model-only (stablecoin model alone)"
        ),
    ] = "services",
    workers: Annotated[
        int | None, typer.Option(help="Local cluster worker processes [default: one per core]")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Join an existing Dask scheduler, e.g. tcp://dask-scheduler:8786"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Sweep directory [default: results/<scenario>-sweep]")
    ] = None,
    payments: Annotated[int | None, typer.Option(help="Override the number of payments")] = None,
    days: Annotated[float | None, typer.Option(help="Override the simulated days")] = None,
    retries: Annotated[int, typer.Option(help="Retries of a run whose task raised")] = 2,
    batch_size: Annotated[int | None, typer.Option(help="Model-only runs per Dask task")] = None,
    wallets_cap: Annotated[
        int, typer.Option(help="Services mode: wallets opened per jurisdiction")
    ] = 20_000,
    run_timeout: Annotated[
        float, typer.Option(help="Services mode: seconds before a run is stopped (0: none)")
    ] = 0.0,
    full_timeseries: Annotated[
        bool, typer.Option(help="Model-only: also write each run's full stablecoin_timeseries.csv")
    ] = False,
    brief: Annotated[bool, typer.Option(help="Render the ensemble briefing at the end")] = True,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Embedded PostgreSQL location (services mode)")
    ] = None,
) -> None:
    """Run a scenario many times — a grid of parameters x seeds — each run isolated (its own
    services and databases, or the stablecoin model alone), on a local Dask cluster or an
    existing one. Writes OUT/runs.parquet (one row per run) and OUT/runs/<run_id>/; running
    the same command again resumes. Everything is validated before the first run."""
    err = Console(stderr=True)
    if data_dir:
        os.environ["CORRIDOR_HOME"] = str(data_dir)
    if mode not in MODES:
        err.print(f"[red]sweep refused[/]: --mode {mode}: unknown (known: {', '.join(MODES)})")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        with err.status("validating the scenario and every grid value..."):
            plan = build_plan(scenario, seeds, seed_start, grid, set_, mode, payments, days)
    except SweepError as exc:
        err.print("[red]sweep refused, nothing was run[/]", highlight=False)
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out = out or Path("results") / f"{plan.combos[0].scenario.name}-sweep"
    opts = SweepOptions(
        workers=workers, address=address, retries=retries, batch_size=batch_size,
        services=ServicesOptions(wallets_cap=wallets_cap, timeout_s=run_timeout),
        full_timeseries=full_timeseries, data_dir=data_dir,
    )  # fmt: skip
    err.print(f"{len(plan.runs)} runs: {len(plan.combos)} parameter combination(s) x "
              f"{len(plan.seeds)} seed(s), {mode} mode -> {out}")  # fmt: skip
    try:
        outcome = run_sweep(plan, out, opts, err)
    except SweepError as exc:
        err.print(f"[red]sweep refused[/]: {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    print_outcome(outcome, Console())
    if brief and outcome.rows and not outcome.interrupted:
        _brief(outcome.out, err)
    if outcome.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_FAILED_RUNS if outcome.failed else 0)


def print_outcome(outcome: SweepOutcome, console: Console) -> None:
    t = Table(title=f"sweep: {outcome.out}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("runs planned", f"{outcome.planned:,}")
    t.add_row("ran now", f"{outcome.ran:,}")
    t.add_row("already finished (resumed)", f"{outcome.skipped:,}")
    t.add_row("failed", f"{outcome.failed:,}")
    if outcome.missing:
        t.add_row("not run yet", f"{outcome.missing:,}")
    t.add_row("wall time", f"{outcome.wall_s:,.1f} s")
    if outcome.ran:
        t.add_row("runs per minute", f"{outcome.runs_per_min:,.1f}")
        t.add_row("workers", str(outcome.workers))
    console.print(t)
    for row in outcome.rows:
        if row.get("status") != "ok":
            reason = escape(str(row.get("reason", "")))
            console.print(
                f"[red]failed[/] {row['run_id']} (seed {row['seed']}): {reason}", highlight=False
            )
    console.print(f"results: [bold]{outcome.out / RUNS_FILE}[/] and {outcome.out / 'runs'}/")


def _brief(out: Path, console: Console) -> None:
    try:
        from corridor.briefing import render_briefing

        files = render_briefing(out)
        console.print(f"ensemble briefing: [bold]{files.html}[/]")
    except Exception as exc:  # noqa: BLE001 - the data is written; say why the page is not
        console.print(f"[yellow]briefing not rendered: {exc}[/]")
