"""`corridor simulate` and `corridor trace`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree


def load_for_run(scenario: str, seed: int | None, payments: int | None, days: float | None,
                 overrides: list[str] | None = None) -> Any:  # fmt: skip
    """Load and validate; a bad file prints FILE:LINE: FIELD: REASON and exits 2."""
    from corridor.scenario.loader import ScenarioError, load_scenario, parse_overrides

    over: dict[str, Any] = parse_overrides(overrides or []) if overrides else {}
    if seed is not None:
        over["seed"] = seed
    if payments is not None:
        over["payments"] = payments
    if days is not None:
        over["days"] = days
    try:
        return load_scenario(scenario, over or None)
    except ScenarioError as e:
        Console(stderr=True).print(f"[red]scenario error[/]\n{e}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except FileNotFoundError as e:
        Console(stderr=True).print(f"[red]{e}[/]")
        raise typer.Exit(2) from None


def simulate_command(
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            "-s",
            help="Preset name (baseline, dollar-contagion, svb-2023, seed-haircut, aml-typologies) or a YAML file",
        ),
    ] = "baseline",
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Results directory [default: results/<scenario>]")
    ] = None,
    payments: Annotated[int | None, typer.Option(help="Override the number of payments")] = None,
    days: Annotated[float | None, typer.Option(help="Override the simulated days")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override any field: --set rails.cbdc.fee_bps=5"),
    ] = None,
    wallets_cap: Annotated[int, typer.Option(help="Wallets opened per jurisdiction")] = 20_000,
    keep_databases: Annotated[
        bool, typer.Option(help="Keep the run's ledger databases afterwards")
    ] = False,
    brief: Annotated[bool, typer.Option(help="Render briefing.html at the end")] = True,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Embedded PostgreSQL location")
    ] = None,
) -> None:
    """Run a scenario through the real services on a virtual business clock; write
    summary.json, payments.parquet/.csv, timeseries.csv, traces.jsonl and briefing.html."""
    from corridor.config import state_dir

    if data_dir:
        os.environ["CORRIDOR_HOME"] = str(data_dir)
    s = load_for_run(scenario, seed, payments, days, set_)
    out = out or Path("results") / s.name
    console = Console(stderr=True)
    code = run_and_report(
        s, out, state_dir(), console, Console(), wallets_cap, keep_databases, brief
    )
    raise typer.Exit(code)


def run_and_report(s: Any, out: Path, state: Path, console: Console, stdout: Console, wallets_cap: int = 20_000,
                   keep_databases: bool = False, brief: bool = True) -> int:  # fmt: skip
    from corridor import telemetry
    from corridor.scenario.engine import CorridorSimulation, RunOptions

    out.mkdir(parents=True, exist_ok=True)
    os.environ["CORRIDOR_TRACE_FILE"] = str((out / "traces.jsonl").resolve())
    telemetry.init_tracing("corridor-simulate")
    sim = CorridorSimulation(RunOptions(s, out, state, wallets_cap, keep_databases), console)
    try:
        summary = sim.run()
    except KeyboardInterrupt:
        console.print(
            "[yellow]interrupted[/]; services stopped, nothing half-written on any ledger"
        )
        return 130
    except Exception as exc:  # noqa: BLE001 - a clear message, the traceback to a file
        import traceback

        (out / "error.log").write_text(traceback.format_exc())
        console.print(f"[red]simulation failed:[/] {exc}")
        console.print(f"details: {out / 'error.log'}; service logs: {state / 'logs'}")
        return 1
    finally:
        telemetry.shutdown_tracing()
    _print_summary(summary, stdout)
    if brief:
        try:
            from corridor.briefing import render_briefing

            files = render_briefing(out)
            stdout.print(f"briefing: [bold]{files.html}[/]")
        except Exception as exc:  # noqa: BLE001 - the data is written; say why the page is not
            console.print(f"[yellow]briefing not rendered: {exc}[/]")
    stdout.print(
        f"results:  [bold]{out}[/] (summary.json, payments.parquet, timeseries.csv, traces.jsonl)"
    )
    return 0 if summary["invariants"]["ok"] else 1


def _print_summary(summary: dict[str, Any], out: Console) -> None:
    t = Table(
        title=f"{summary['scenario']}: {summary['payments']:,} payments in {summary['wall_s']:.0f} s wall"
    )
    for col in (
        "rail",
        "payments",
        "settled",
        "cost bps",
        "within 1 h",
        "p50 settle",
        "p99 settle",
    ):
        t.add_column(col, justify="right")
    for name, r in summary["rails"].items():
        t.add_row(name, f"{r['payments']:,}", f"{r['settled']:,}", _fmt(r["cost_bps_mean"], "{:.0f}"),
                  _fmt(r["share_within_1h"], "{:.0%}"), _dur(r["p50_settle_s"]), _dur(r["p99_settle_s"]))  # fmt: skip
    out.print(t)
    sc = summary.get("stablecoin", {})
    if "min_price" in sc:
        out.print(f"stablecoin: min price {sc['min_price']:.3f}, {sc.get('hours_below_0_99', 0):.0f} h below 0.99, "
                  f"net redemptions {sc.get('net_redemptions_pct_4d', 0):.1f}% in 4 days")  # fmt: skip
    thr = summary.get("throughput", {})
    if thr.get("cbdc_mean_tps"):
        out.print(f"CBDC corridor through the real services: {thr['cbdc_mean_tps']:,.0f} payments/s mean, "
                  f"{thr['cbdc_peak_tps']:,.0f}/s peak step")  # fmt: skip
    ok = summary["invariants"]["ok"]
    out.print(
        "invariants: " + ("[green]all hold[/]" if ok else "[red]VIOLATED (see summary.json)[/]")
    )


def _fmt(v: Any, f: str) -> str:
    return "-" if v is None else f.format(v)


def _dur(s: Any) -> str:
    if s is None:
        return "-"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 3600:
        return f"{s / 60:.1f} min" if s >= 60 else f"{s:.1f} s"
    return f"{s / 3600:.1f} h"


def run_simulate_for_demo(state: Path, console: Console, stdout: Console) -> int:
    """`make demo`: dollar-contagion end to end on the embedded default (sized for a laptop
    demo: set CORRIDOR_DEMO_PAYMENTS for the full preset volume)."""
    payments = int(os.environ.get("CORRIDOR_DEMO_PAYMENTS", "50000"))
    s = load_for_run("dollar-contagion", None, payments, None)
    return run_and_report(s, Path("results") / "dollar-contagion", state, console, stdout)


# ----------------------------------------------------------------------------- trace
def trace_command(
    payment_id: Annotated[
        str,
        typer.Argument(help="A payment id (see payments.csv or summary.json example_payment_id)"),
    ],
    results: Annotated[
        Path, typer.Option("--results", "-r", help="Results directory holding traces.jsonl")
    ] = Path("results/dollar-contagion"),
) -> None:
    """Render a payment's trace — every span across every service — as a tree with timings."""
    path = results / "traces.jsonl"
    if not path.exists():
        Console(stderr=True).print(
            f"[red]no {path}[/] (run `corridor simulate` first, or pass --results)"
        )
        raise typer.Exit(2)
    tree = payment_tree(path, payment_id)
    if tree is None:
        Console(stderr=True).print(f"[red]no trace for payment {payment_id!r} in {path}[/]")
        raise typer.Exit(1)
    Console().print(tree)


def payment_tree(path: Path, payment_id: str) -> Tree | None:
    """The payment's spans (parsed by the briefing's OTLP-JSON reader) as a rich tree."""
    from corridor.briefing.traces import as_call_tree, payment_trace

    shown, spans = payment_trace(path, payment_id)
    if shown != payment_id or not spans:
        return None
    ordered = as_call_tree(spans)
    t0 = min(s.start_ns for s in spans)
    root = Tree(f"[bold]payment {payment_id}[/]  trace {spans[0].trace_id}  ({len(spans)} spans, "
                f"{len({s.service for s in spans})} services)")  # fmt: skip
    stack: list[Tree] = [root]
    for span, depth in ordered:
        del stack[depth + 1 :]
        label = (f"[cyan]{span.service}[/] {span.name}  +{(span.start_ns - t0) / 1e6:.1f} ms, "
                 f"[bold]{span.duration_ms:.2f} ms[/]")  # fmt: skip
        stack.append(stack[-1].add(label))
    return root
