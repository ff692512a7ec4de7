"""`corridor`: run the corridor, simulate it, benchmark it, brief on it.

corridor up                start every service as a local process
corridor simulate          a scenario through the real services -> results
corridor check-invariants  verify every ledger (conservation, supply, ...)
corridor bench ledger      the ledger against a same-run baseline

Run any command with --help to learn its options.

Security is on by default: mutual TLS on every hop and a signed, expiring credential on every call (certificates and keys are made on first use in .corridor/security; see `corridor certs`). `corridor --insecure COMMAND` (or CORRIDOR_INSECURE=1) is the explicit flag for plaintext.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corridor.config import JURISDICTIONS, SERVICE_PORTS, state_dir

app = typer.Typer(
    help=__doc__, no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False
)
bench_app = typer.Typer(
    help="Benchmarks: figures as ratios against a baseline measured in the same run."
)
eval_app = typer.Typer(help="Evaluations (detector quality on time-ordered data).")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")


@app.callback()
def _root(
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Plaintext gRPC, no credentials: for this command and every service it starts "
            "(same as CORRIDOR_INSECURE=1). The default is mTLS + signed credentials.",
        ),
    ] = False,
) -> None:
    if insecure:
        os.environ["CORRIDOR_INSECURE"] = "1"


console = Console(stderr=True)
out = Console()

NODES = [j.lower() for j in JURISDICTIONS]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where the embedded PostgreSQL and logs live [default: .corridor]"
    ),
]


def _state(data_dir: Path | None) -> Path:
    if data_dir:
        os.environ["CORRIDOR_HOME"] = str(data_dir)
    return state_dir()


def available_services() -> list[str]:
    """Nodes plus every optional service whose module is present in this checkout."""
    names = list(NODES)
    for name, module in (
        ("bridge", "bridge.server"),
        ("vouchers", "services.vouchers.server"),
        ("supervision", "services.supervision.server"),
        ("stablecoin", "services.stablecoin.server"),
    ):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        names.append(name)
    return names


# ----------------------------------------------------------------------------- services
@app.command()
def node(
    jurisdiction: Annotated[str, typer.Option(help="CN, HK, TH, AE or SA")],
    bind: Annotated[
        str, typer.Option(help="host:port [default: 127.0.0.1:<jurisdiction port>]")
    ] = "",
    database_url: Annotated[str, typer.Option(help="PostgreSQL URL of this node's ledger")] = "",
) -> None:
    """Run one central-bank node (Ledger, CentralBank and Wallets services on one port)."""
    from services.centralbank.server import main as node_main

    args = ["--jurisdiction", jurisdiction]
    if bind:
        args += ["--bind", bind]
    if database_url:
        args += ["--database-url", database_url]
    node_main(args)


@app.command()
def up(
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once healthy; stop with `corridor down`")
    ] = False,
    only: Annotated[str, typer.Option(help="Comma-separated services, e.g. cn,hk,bridge")] = "",
    data_dir: DataDir = None,
) -> None:
    """Start the five central-bank nodes (and the bridge and other services present) as separate
    OS processes on localhost, print the endpoints, and run until Ctrl-C / SIGTERM."""
    from corridor import pg
    from corridor.fleet import Fleet, read_state

    state = _state(data_dir)
    existing = read_state(state)
    if existing and _alive(existing["supervisor_pid"]):
        console.print(
            f"[yellow]already up[/] (pid {existing['supervisor_pid']}); `corridor down` first"
        )
        raise typer.Exit(1)
    names = [n.strip().lower() for n in only.split(",") if n.strip()] or available_services()
    unknown = [n for n in names if n not in SERVICE_PORTS]
    if unknown:
        console.print(
            f"[red]unknown service(s):[/] {', '.join(unknown)}; known: {', '.join(SERVICE_PORTS)}"
        )
        raise typer.Exit(2)
    if detach:
        argv = [
            sys.executable,
            "-c",
            "from corridor.cli import main; main()",
            "up",
            "--only",
            ",".join(names),
        ]
        if data_dir:
            argv += ["--data-dir", str(data_dir)]
        state.mkdir(parents=True, exist_ok=True)
        log = open(state / "up.log", "ab")  # noqa: SIM115
        import subprocess

        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            st = read_state(state)
            if st and st["supervisor_pid"] == proc.pid:
                _print_endpoints(st["endpoints"], st["logs"])
                return
            if proc.poll() is not None:
                console.print(f"[red]corridor up failed[/]; see {state / 'up.log'}")
                raise typer.Exit(1)
            time.sleep(0.2)
        console.print("[red]timed out waiting for services[/]")
        raise typer.Exit(1)

    url = pg.server_url(state)
    fleet = Fleet.plan(state, url, names)
    stop = {"now": False}

    def _on_signal(signum, frame):  # type: ignore[no-untyped-def]
        stop["now"] = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        with console.status("starting services..."):
            fleet.start()
        fleet.write_state(os.getpid())
        _print_endpoints(fleet.endpoints(), {s.name: str(s.log_path) for s in fleet.services})
        console.print("[dim]Ctrl-C to stop[/]")
        while not stop["now"]:
            time.sleep(0.2)
            for s in fleet.services:
                if s.proc and s.proc.poll() is not None and not stop["now"]:
                    console.print(
                        f"[red]{s.name} exited ({s.proc.returncode}); see {s.log_path}[/]"
                    )
                    stop["now"] = True
    finally:
        console.print("stopping...")
        fleet.stop()
        (state / "up.json").unlink(missing_ok=True)
        pg.stop_embedded()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _print_endpoints(endpoints: dict[str, str], logs: dict[str, str]) -> None:
    t = Table(title="Corridor services", show_lines=False)
    t.add_column("service")
    t.add_column("endpoint (gRPC)")
    t.add_column("log")
    for name, target in endpoints.items():
        t.add_row(name, target, logs.get(name, ""))
    out.print(t)
    _print_security()


def _print_security() -> None:
    """How to reach the services: the security mode and, when on, the grpcurl flags."""
    from corridor.security.config import SecurityConfig

    cfg = SecurityConfig.from_env()
    if not cfg.enabled:
        console.print("[yellow]security off[/] (--insecure): plaintext gRPC, no credentials")
        return
    d = cfg.require_directory()
    console.print(f"security: mTLS + signed credentials (mode {cfg.mode}); certificates in {d}")
    console.print(  # one unwrapped line, to copy and paste
        f"[dim]grpcurl -cacert {d}/ca.pem -cert {d}/certs/client.pem -key {d}/certs/client.key "
        '-H "authorization: Bearer $(corridor certs token --role admin --subject you)" '
        "127.0.0.1:50051 list[/]",
        soft_wrap=True,
    )


@app.command()
def down(data_dir: DataDir = None) -> None:
    """Stop services started with `corridor up --detach`."""
    from corridor.fleet import read_state

    state = _state(data_dir)
    st = read_state(state)
    if not st or not _alive(st["supervisor_pid"]):
        console.print("nothing is running")
        (state / "up.json").unlink(missing_ok=True)
        return
    os.kill(st["supervisor_pid"], signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _alive(st["supervisor_pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    console.print("stopped" if not _alive(st["supervisor_pid"]) else "[red]did not stop in 30 s[/]")


# ----------------------------------------------------------------------------- checks
@app.command("check-invariants")
def check_invariants(
    data_dir: DataDir = None,
    database_url: Annotated[
        str, typer.Option(help="PostgreSQL server holding the corridor_* ledgers")
    ] = "",
    json_out: Annotated[bool, typer.Option("--json", help="Print the checks as JSON")] = False,
) -> None:
    """Verify every ledger database: conservation per currency, issued supply = balances held,
    no floor breached, pending sums, no idempotency id posted twice (plus bridge/voucher rules).
    Exits 0 only when everything holds."""
    from corridor import pg

    _load_invariant_plugins()
    state = _state(data_dir)
    url = database_url or pg.server_url(state)
    try:
        ok = pg.run_against_server(url, _check(url, json_out))
    except pg.DatabaseServerError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    raise typer.Exit(0 if ok else 1)


def _load_invariant_plugins() -> None:
    for module in ("bridge.invariants", "services.vouchers.invariants"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass


async def _check(url: str, json_out: bool) -> bool:
    from corridor import invariants

    ledgers = await invariants.discover_ledgers(url)
    if not ledgers:
        console.print(
            "[yellow]no corridor ledgers found[/] (run `corridor up` or `corridor demo` first)"
        )
        return False
    checks = await invariants.check_all(ledgers)
    ok = all(c.ok for c in checks)
    if json_out:
        out.print_json(
            json.dumps({"ok": ok, "checks": [dataclasses.asdict(c) for c in checks]}, default=str)
        )
        return ok
    t = Table(title="Ledger invariants")
    for col in ("ledger", "check", "result", "detail"):
        t.add_column(col)
    for c in checks:
        t.add_row(c.ledger, c.name, "[green]ok[/]" if c.ok else "[red]FAILED[/]", c.detail)
    out.print(t)
    out.print("[green]all invariants hold[/]" if ok else "[red]invariants violated[/]")
    return ok


# ----------------------------------------------------------------------------- bench
@bench_app.command("ledger")
def bench_ledger(
    seconds: Annotated[float, typer.Option(min=0.5, help="Seconds per measured phase")] = 5.0,
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON summary")] = False,
    batch_size: Annotated[int, typer.Option(help="Transfers per batch RPC")] = 1000,
    clients: Annotated[int, typer.Option(help="Concurrent clients for the unary phases")] = 32,
    data_dir: DataDir = None,
) -> None:
    """Measure, in one run on this machine: (a) a durable one-transfer-per-commit asyncpg baseline
    on the same schema, (b) a bare gRPC unary echo, (c) the unary CreateTransfer RPC, (d) the
    CreateTransfers batch RPC — each with p50/p99 latency — and print ratios between them."""
    from corridor.bench import run_ledger_bench

    result = run_ledger_bench(_state(data_dir), seconds, batch_size, clients, console)
    _print_bench(result, json_out)


def _print_bench(result: dict, json_out: bool) -> None:
    t = Table(title=result.get("title", "benchmark"))
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in result.items():
        if k == "title":
            continue
        t.add_row(k, f"{v:,.2f}" if isinstance(v, float) else str(v))
    out.print(t)
    if json_out:
        print(json.dumps({k: v for k, v in result.items() if k != "title"}), flush=True)


# ----------------------------------------------------------------------------- demo
@app.command()
def demo(data_dir: DataDir = None) -> None:
    """The main job end to end on the embedded default (see README)."""
    from corridor.demo import run_demo

    raise typer.Exit(run_demo(_state(data_dir), console, out))


# ----------------------------------------------------------------------------- plug-ins
def _mount(
    module: str, attr: str, name: str, parent: typer.Typer = app, help_text: str = ""
) -> None:
    """Mount a sub-app or command living beside its service, if present in this checkout."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    obj = getattr(mod, attr, None)
    if isinstance(obj, typer.Typer):
        parent.add_typer(obj, name=name, help=help_text or None)
    elif callable(obj):
        parent.command(name, help=help_text or None)(obj)


def _mount_plugins() -> None:
    for _module, _attr, _name, _parent in (
        ("services.stablecoin.cli", "app", "stablecoin", app),
        ("services.supervision.cli", "eval_command", "supervision", eval_app),
        ("services.supervision.cli", "serve_command", "supervision", app),
        ("services.vouchers.cli", "serve_command", "vouchers", app),
        ("services.vouchers.cli", "bench_command", "vouchers", bench_app),
        ("bridge.cli", "serve_command", "bridge", app),
        ("bridge.cli", "bench_command", "pvp", bench_app),
        ("corridor.scenario.cli", "simulate_command", "simulate", app),
        ("corridor.scenario.cli", "trace_command", "trace", app),
        ("corridor.briefing.cli", "brief_command", "brief", app),
        ("corridor.sweep", "sweep_command", "sweep", app),
        ("corridor.sweep", "bench_command", "sweep", bench_app),
        ("loadtests.cli", "loadtest_command", "loadtest", app),
        ("loadtests.cli", "bench_command", "contagion", bench_app),
        ("corridor.security.cli", "certs_app", "certs", app),
        ("corridor.security.cli", "audit_app", "audit", app),
        ("corridor.security.cli", "chaos_command", "chaos", app),
        ("corridor.security.cli", "bench_command", "security", bench_app),
    ):
        _mount(_module, _attr, _name, _parent)


# A service process (`corridor node ...`, as `corridor up` and the infra files start them) goes
# straight to its own main(): no plug-in imports (pandas, briefing, load tests), ~1 s less CPU
# per process start. Same flags, same command lines.
_SERVICE_MAINS = {
    "node": "services.centralbank.server",
    "bridge": "bridge.server",
    "vouchers": "services.vouchers.server",
    "supervision": "services.supervision.server",
}


def _service_main(argv: list[str]) -> tuple[str, list[str]] | None:
    if argv and argv[0] in _SERVICE_MAINS:
        return _SERVICE_MAINS[argv[0]], argv[1:]
    return None


if _service_main(sys.argv[1:]) is None:
    _mount_plugins()


def main() -> None:
    fast = _service_main(sys.argv[1:])
    if fast is not None:
        module, args = fast
        importlib.import_module(module).main(args)
        return
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
