"""`corridor loadtest` (Locust against a running `corridor up`) and `corridor bench contagion`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from loadtests.contagion import LEDGER_MAX_QUEUED, PVP_MAX_QUEUED, ContagionSettings
from loadtests.targets import Targets, TargetsNotFound, discover

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
SHAPES = {"dollar-contagion": HERE / "shapes.py", "none": None}
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where `corridor up` keeps its state [default: .corridor]"),
]


def _consoles() -> tuple[Console, Console]:
    from corridor.cli import console, out

    return console, out


def _state(data_dir: Path | None) -> Path:
    from corridor.cli import _state

    return _state(data_dir)


# ---------------------------------------------------------------------- corridor loadtest
def loadtest_command(
    shape: Annotated[
        str, typer.Option(help="dollar-contagion (steady -> x10 surge -> recovery) or none")
    ] = "dollar-contagion",
    minutes: Annotated[float, typer.Option(help="Length of the test", min=0.1)] = 5.0,
    users: Annotated[
        int, typer.Option(help="Users in the steady stage (x10 in the surge)", min=1)
    ] = 10,
    workers: Annotated[
        int, typer.Option(help="Locust worker processes (0: one local process)", min=0)
    ] = 0,
    batch: Annotated[int, typer.Option(help="Payments per batch call", min=1, max=8000)] = 200,
    csv_prefix: Annotated[
        str,
        typer.Option(help="Prefix of the CSV/HTML stats [default: <state>/loadtest/<time>/stats]"),
    ] = "",
    data_dir: DataDir = None,
) -> None:
    """Run Locust headless against the corridor started with `corridor up --detach`: funded
    wallets and liquidity are set up (idempotently), the users pay domestic and cross-border
    batches, probe latency, redeem vouchers, use the stablecoin rail and query supervision,
    following the load shape. Stats go to CSV and HTML; a summary table ends the run."""
    console, out = _consoles()
    if shape not in SHAPES:
        console.print(f"[red]unknown shape {shape!r}[/]; choose one of: {', '.join(SHAPES)}")
        raise typer.Exit(2)
    state = _state(data_dir)
    targets = _running_targets(state, console)
    run_dir = (
        Path(csv_prefix).parent
        if csv_prefix
        else state / "loadtest" / time.strftime("%Y%m%d-%H%M%S")
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    prefix = csv_prefix or str(run_dir / "stats")
    world_path = run_dir / "world.json"
    world = _prepare(targets, console)
    world_path.write_text(world.to_json())
    summary_path = Path(prefix + "_summary.json")
    summary_path.unlink(missing_ok=True)
    args = locust_args(shape, minutes, users, batch, prefix, world_path, summary_path)
    env = {**os.environ, **targets.to_env()}
    rc = run_locust(args, workers, env, run_dir / "locust.log", minutes, console)
    if not summary_path.exists():
        console.print(
            f"[red]Locust exited ({rc}) without a summary[/]; see {run_dir / 'locust.log'}"
        )
        raise typer.Exit(1)
    summary = json.loads(summary_path.read_text())
    print_summary(summary, out, title=f"corridor loadtest --shape {shape} --minutes {minutes:g}")
    out.print(f"stats: {prefix}_stats.csv, {prefix}_stats_history.csv, {prefix}.html")
    raise typer.Exit(0 if summary["failures"] == 0 and rc == 0 else 1)


def _prepare(targets: Targets, console: Console) -> Any:
    import grpc

    from loadtests.world import prepare_world

    with console.status("setting up wallets, issuance and liquidity (idempotent)..."):
        try:
            return asyncio.run(prepare_world(targets))
        except grpc.aio.AioRpcError as exc:
            console.print(f"[red]set-up failed: {exc.code().name}: {exc.details()}[/]")
            raise typer.Exit(1) from None


def _running_targets(state: Path, console: Console) -> Targets:
    from corridor.fleet import follow_running_security, wait_healthy

    hint = "start the corridor first: `corridor up --detach`"
    if not os.environ.get("CORRIDOR_NODES") and follow_running_security(state) == "off":
        console.print(
            "[yellow]the running corridor is plaintext (--insecure); so is this load test[/]"
        )
    try:
        targets = discover(state)
    except (TargetsNotFound, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    for name, target in targets.endpoints().items():
        try:
            wait_healthy(target, timeout_s=3.0)
        except (TimeoutError, RuntimeError):
            console.print(f"[red]{name} at {target} does not answer[/]; {hint}")
            raise typer.Exit(2) from None
    if not targets.bridge or len(targets.nodes) < 2:
        console.print(f"[red]the load test needs the bridge and two nodes[/]; {hint}")
        raise typer.Exit(2)
    return targets


def locust_args(shape: str, minutes: float, users: int, batch: int, prefix: str,
                world: Path, summary: Path) -> list[str]:  # fmt: skip
    """Arguments of the master (or single) Locust process."""
    shape_file = SHAPES[shape]
    files = str(LOCUSTFILE) + (f",{shape_file}" if shape_file else "")
    args = [
        "-f", files, "--headless", "--only-summary", "--csv", prefix, "--csv-full-history",
        "--html", f"{prefix}.html", "--corridor-world", str(world), "--corridor-batch", str(batch),
        "--corridor-summary", str(summary), "--corridor-minutes", f"{minutes:g}",
        "--corridor-users", str(users), "--stop-timeout", "10",
    ]  # fmt: skip
    if shape_file is None:
        args += ["-u", str(users), "-r", str(users), "-t", f"{max(1, round(minutes * 60))}s"]
    return args


def run_locust(args: list[str], workers: int, env: dict[str, str], log_path: Path,
               minutes: float, console: Console) -> int:  # fmt: skip
    """Run Locust (one process, or a master and `workers` workers on localhost) to the end."""
    from corridor.bench import free_port

    cmd = [sys.executable, "-m", "locust"]
    procs: list[subprocess.Popen[bytes]] = []
    with open(log_path, "ab") as log:
        if workers:
            port = free_port()
            master = cmd + args + ["--master", "--expect-workers", str(workers),
                                   "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]  # fmt: skip
            procs.append(subprocess.Popen(master, stdout=log, stderr=subprocess.STDOUT, env=env))
            files = args[args.index("-f") + 1]
            for _ in range(workers):
                worker = cmd + ["-f", files, "--worker", "--master-host", "127.0.0.1",
                                "--master-port", str(port)]  # fmt: skip
                procs.append(
                    subprocess.Popen(worker, stdout=log, stderr=subprocess.STDOUT, env=env)
                )
        else:
            procs.append(
                subprocess.Popen(cmd + args, stdout=log, stderr=subprocess.STDOUT, env=env)
            )
        deadline = time.monotonic() + minutes * 60 + 180
        try:
            with console.status(
                f"Locust running for {minutes:g} min ({workers or 'no'} workers)..."
            ):
                while procs[0].poll() is None and time.monotonic() < deadline:
                    time.sleep(0.5)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    return procs[0].returncode if procs[0].returncode is not None else 1


STAGE_ORDER = {"steady": 0, "surge": 1, "recovery": 2}


def print_summary(s: dict[str, Any], out: Console, title: str) -> None:
    t = Table(title=title)
    for col in ("call", "stage", "kind", "calls", "fails", "payments", "p50 ms", "p99 ms"):
        t.add_column(col, justify="left" if col in ("call", "stage", "kind") else "right")
    rows = []
    for r in s["rows"]:
        name, _, rest = r["name"].partition(" [")
        stage, _, extra = rest.partition("]")
        rows.append((STAGE_ORDER.get(stage, 9), name + extra, stage, r))
    for _, name, stage, r in sorted(rows, key=lambda x: (x[0], x[1])):
        t.add_row(name, stage, r["type"], f"{r['requests']:,}", f"{r['failures']:,}",
                  f"{r['payments']:,}", f"{r['p50_ms']:,.0f}", f"{r['p99_ms']:,.0f}")  # fmt: skip
    out.print(t)
    stages = ", ".join(f"{k} {v:,}" for k, v in s.get("payments_by_stage", {}).items())
    out.print(
        f"payments settled: [bold]{s['payments']:,}[/] in {s['wall_s']:g} s = "
        f"[bold]{s['payments_per_s']:,.0f}/s[/] ({stages}); calls {s['requests']:,}, "
        f"failures {s['failures']:,}, shed (RESOURCE_EXHAUSTED) {s['shed']:,}, "
        f"refused {s['refused']:,}; peak users {s['peak_users']}, workers {s['workers']}"
    )
    for e in s.get("errors", [])[:5]:
        out.print(f"[red]{e['occurrences']}x {e['name']}: {e['error'][:160]}[/]")


# ---------------------------------------------------------------------- corridor bench contagion
def bench_command(
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON summary")] = False,
    seed: Annotated[int, typer.Option(help="Seed of every arrival, route and amount")] = 7,
    step_seconds: Annotated[float, typer.Option(min=1.0, help="Seconds per capacity step")] = 5.0,
    steady_seconds: Annotated[float, typer.Option(min=1.0, help="Seconds of steady load")] = 15.0,
    surge_seconds: Annotated[float, typer.Option(min=1.0, help="Seconds of surge")] = 20.0,
    domestic_tps: Annotated[
        float, typer.Option(help="Domestic payments/s kept running beside the corridor")
    ] = 200.0,
    pvp_max_queued: Annotated[
        int, typer.Option(help="CORRIDOR_PVP_MAX_QUEUED for the bench's bridge")
    ] = PVP_MAX_QUEUED,
    ledger_max_queued: Annotated[
        int, typer.Option(help="CORRIDOR_LEDGER_MAX_QUEUED for the bench's ledgers")
    ] = LEDGER_MAX_QUEUED,
    plan_cache_mode: Annotated[
        str,
        typer.Option(help="plan_cache_mode of the bench databases ('' = PostgreSQL's default)"),
    ] = "",
    data_dir: DataDir = None,
) -> None:
    """Does the CBDC corridor collapse under the dollar-contagion surge? In one run, with its own
    CN and HK nodes and bridge (OS processes, bench-only databases) and a seeded, constant-rate
    open-loop generator: find the capacity (highest offered rate with p99 < 1 s), run steady at
    half of it, then a surge at ten times steady, then recovery; audit every acknowledged payment
    against the ledgers. Goals: surge goodput >= 0.9 x capacity, surge p99 <= 1 s, no errors,
    nothing lost."""
    from loadtests.contagion import run_contagion_bench

    console, out = _consoles()
    settings = ContagionSettings(
        seed=seed, step_s=step_seconds, steady_s=steady_seconds, surge_s=surge_seconds,
        domestic_tps=domestic_tps, pvp_max_queued=pvp_max_queued,
        ledger_max_queued=ledger_max_queued, plan_cache_mode=plan_cache_mode,
    )  # fmt: skip
    try:
        result = run_contagion_bench(_state(data_dir), settings, console)
    except RuntimeError as exc:  # e.g. no offered rate was sustained: the reason, no traceback
        console.print(f"[red]bench contagion:[/] {exc}")
        raise typer.Exit(1) from None
    print_bench(result, out)
    if json_out:
        figures = {k: v for k, v in result.items() if k != "title"}
        figures["settings"] = asdict(settings)
        print(json.dumps(figures), flush=True)


def print_bench(r: dict[str, Any], out: Console) -> None:
    t = Table(title=r["title"])
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in r.items():
        if k in ("title", "capacity_steps", "error_kinds", "goals"):
            continue
        t.add_row(k, f"{v:,.1f}" if isinstance(v, float) else str(v))
    out.print(t)
    steps = Table(title="capacity search (offered corridor payments/s)")
    for col in ("offered/s", "goodput/s", "p99 ms", "shed", "errors", "sustained"):
        steps.add_column(col, justify="right")
    for s in r["capacity_steps"]:
        steps.add_row(f"{s['offered_tps']:,.0f}", f"{s['goodput_tps']:,.0f}", f"{s['p99_ms']:,.0f}",
                      str(s["rejected"]), str(s["errors"]), "yes" if s["sustained"] else "no")  # fmt: skip
    out.print(steps)
    goals = r.get("goals", {})
    if goals:
        out.print(
            " ".join(
                f"{k}: {'[green]met[/]' if ok else '[red]missed[/]'}" for k, ok in goals.items()
            )
        )
    if r.get("error_kinds"):
        out.print(f"[red]errors by kind: {r['error_kinds']}[/]")
