"""``corridor stablecoin ...``: run the stablecoin-rail comparator on its own.

    corridor stablecoin run --preset svb-2023 --seed 1 --days 7 --out results/svb
    corridor stablecoin run --file my-episode.yaml --out results/mine
    corridor stablecoin calibrate --seeds 10
    corridor stablecoin presets
    corridor stablecoin validate my-episode.yaml
    corridor stablecoin serve --bind 127.0.0.1:50063 --preset dollar-contagion   (gRPC)
    corridor stablecoin serve --spec-file out/stablecoin_spec.json --seed 7 --start-at 2025-03-03T00:00Z

``run`` writes ``OUT/summary.json`` (``{"stablecoin": {...}}``) and
``OUT/stablecoin_timeseries.csv`` and prints the headline numbers and the svb-2023 calibration
table. A bad spec prints ``FILE:LINE: FIELD: REASON`` and exits with status 2.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from services.stablecoin.calibration import CALIBRATED_PARAMETERS, calibration_table
from services.stablecoin.model import StablecoinWorld
from services.stablecoin.spec import (
    SpecError,
    StablecoinSpec,
    list_presets,
    load_preset,
    load_spec_file,
)

app = typer.Typer(
    help="The USD-stablecoin rail comparator: issuer, reserves, chains, market, holders, ramps.",
    no_args_is_help=True,
)
console = Console()


def _load(preset: str | None, file: Path | None) -> StablecoinSpec:
    if (preset is None) == (file is None):
        console.print("[red]give exactly one of --preset NAME or --file FILE[/red]")
        raise typer.Exit(2)
    try:
        return load_preset(preset) if preset else load_spec_file(file)  # type: ignore[arg-type]
    except SpecError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None


def write_results(world: StablecoinWorld, out: Path) -> dict[str, Any]:
    """Write summary.json and stablecoin_timeseries.csv into ``out``; return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = world.summary()
    summary["calibration"] = calibration_table(summary)
    (out / "summary.json").write_text(
        json.dumps({"stablecoin": summary}, indent=2, default=str) + "\n", encoding="utf-8"
    )
    rows = world.timeseries()
    with (out / "stablecoin_timeseries.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return summary


def _usd(minor: int) -> str:
    dollars = minor / 100
    if abs(dollars) >= 1e9:
        return f"${dollars / 1e9:,.2f}B"
    if abs(dollars) >= 1e6:
        return f"${dollars / 1e6:,.1f}M"
    return f"${dollars:,.2f}"


def _print_headline(summary: dict[str, Any]) -> None:
    t = Table(title=f"{summary['spec']} — seed {summary['seed']}, {summary['days']:g} days")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("min price (aggregated)", f"{summary['min_price']:.4f} at {summary['min_price_at']}")
    t.add_row("min venue price", f"{summary['min_venue_price']:.4f}")
    t.add_row("hours below 0.99", f"{summary['hours_below_0_99']:g}")
    t.add_row(
        "net redemptions, first 4 days", f"{summary['net_redemptions_pct_4d']:.2f}% of supply"
    )
    t.add_row("final price", f"{summary['final_price']:.4f}")
    t.add_row("supply start -> end", f"{_usd(summary['supply_start_minor'])} -> "
                                     f"{_usd(summary['supply_end_minor'])}")  # fmt: skip
    t.add_row("reserve losses", _usd(summary["reserve_losses_minor"]))
    t.add_row("fire sales", _usd(summary["fire_sale_minor"]))
    t.add_row("lowest coverage", f"{summary['coverage_min']:.4f}")
    t.add_row("EM holders' losses", _usd(summary["em_holder_losses_minor"]))
    bm = summary["bond_math"]
    t.add_row("+100 bp: 3m bill / 10y note / seed claim",
              f"{bm['tbill_3m_pct']:.2f}% / {bm['note_10y_pct']:.2f}% / {bm['seed_claim_pct']:.0f}%")  # fmt: skip
    console.print(t)


def _print_calibration(summary: dict[str, Any]) -> None:
    caption = None if summary["spec"] == "svb-2023" else "bands apply to the svb-2023 episode"
    t = Table(title="calibration: USDC / SVB, March 2023", caption=caption)
    for col in ("metric", "target band", "simulated", "ok"):
        t.add_column(col)
    for row in calibration_table(summary):
        mark = "[green]yes[/green]" if row["ok"] else "[red]no[/red]"
        t.add_row(row["metric"], row["target"], f"{row['simulated']:g}", mark)
    console.print(t)
    for row in calibration_table(summary):
        console.print(f"  {row['metric']}: observed {row['observed']}", highlight=False)


@app.command()
def run(
    preset: Annotated[
        str | None, typer.Option(help="svb-2023, dollar-contagion, seed-haircut")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="A spec YAML (or a scenario with stablecoin:)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random draw")] = 1,
    days: Annotated[
        float | None, typer.Option(help="Days to simulate [default: the spec's]")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results directory")] = Path("results/stablecoin"),
) -> None:
    """Run one episode and write summary.json and stablecoin_timeseries.csv."""
    spec = _load(preset, file)
    if days is not None and not 0 < days <= 90:
        console.print("--days must be between 0 and 90", style="red")
        raise typer.Exit(2)
    world = StablecoinWorld.from_spec(spec, seed=seed).run(days)
    summary = write_results(world, out)
    _print_headline(summary)
    _print_calibration(summary)
    console.print(f"wrote {out / 'summary.json'} and {out / 'stablecoin_timeseries.csv'}")


@app.command()
def calibrate(
    seeds: Annotated[int, typer.Option(help="How many seeds to run")] = 10,
) -> None:
    """Run svb-2023 over several seeds and show how often each band is met."""
    spec = load_preset("svb-2023")
    hits: dict[str, list[dict[str, Any]]] = {row["metric"]: [] for row in calibration_table({})}
    for seed in range(1, seeds + 1):
        summary = StablecoinWorld.from_spec(spec, seed=seed).run().summary()
        for row in calibration_table(summary):
            hits[row["metric"]].append(row)
    t = Table(title=f"svb-2023 over {seeds} seeds")
    for col in ("metric", "target band", "min", "max", "in band"):
        t.add_column(col)
    for metric, rows in hits.items():
        values = [r["simulated"] for r in rows]
        t.add_row(metric, rows[0]["target"], f"{min(values):g}", f"{max(values):g}",
                  f"{sum(r['ok'] for r in rows)}/{len(rows)}")  # fmt: skip
    console.print(t)
    p = Table(title="parameters tuned to land in the bands")
    for col in ("field", "value", "why"):
        p.add_column(col)
    for field, value, why in CALIBRATED_PARAMETERS:
        p.add_row(field, value, why)
    console.print(p)


@app.command()
def serve(
    bind: Annotated[str, typer.Option(help="host:port")] = "127.0.0.1:50063",
    preset: Annotated[str, typer.Option(help="The episode to serve")] = "dollar-contagion",
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "--spec-file",
            help="A spec YAML, or the JSON a simulation writes (its resolved spec), instead of a preset",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random draw")] = 1,
    start_at: Annotated[str, typer.Option(help="ISO time to start the episode at")] = "",
) -> None:
    """Serve one episode over gRPC (corridor.v1.StablecoinRail) until SIGTERM.

    `corridor simulate` starts it with --spec-file RESULTS/stablecoin_spec.json --seed --start-at,
    so the served episode is exactly the scenario's."""
    import asyncio
    import contextlib
    import logging

    from services.stablecoin.server import run as serve_run
    from services.stablecoin.server import settings_for

    if file is not None:
        _load(None, file)  # report a bad file here, located, before anything starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = settings_for(bind, preset, str(file or ""), seed, start_at)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_run(settings))


@app.command()
def presets() -> None:
    """List the shipped presets."""
    for name in list_presets():
        spec = load_preset(name)
        console.print(f"[bold]{name}[/bold]: {spec.description}")


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="A spec YAML")]) -> None:
    """Check a spec file; print where it is wrong, or a one-line description."""
    spec = _load(None, file)
    console.print(
        f"ok: {spec.name} — {len(spec.holders)} holder cohorts, "
        f"{len(spec.reserves.instruments)} reserve instruments, {len(spec.shocks)} shocks"
    )


if __name__ == "__main__":
    app()
