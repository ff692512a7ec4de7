"""`corridor bridge` and `corridor bench pvp`."""

from __future__ import annotations

from typing import Annotated

import typer


def serve_command(
    bind: Annotated[str, typer.Option(help="host:port")] = "127.0.0.1:50060",
    database_url: Annotated[str, typer.Option(help="PostgreSQL URL of the bridge ledger")] = "",
) -> None:
    """Run the mBridge-style platform (FX, PvP coordinator, bridge ledger). Node addresses come
    from CORRIDOR_NODES="CN=host:port,HK=...", defaulting to the standard local ports."""
    from bridge.server import main

    main(["--bind", bind] + (["--database-url", database_url] if database_url else []))


def bench_command(
    seconds: Annotated[float, typer.Option(min=0.5, help="Seconds per measured phase")] = 5.0,
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON summary")] = False,
    batch_size: Annotated[int, typer.Option(help="Payments per CrossBorderPayBatch call")] = 500,
    clients: Annotated[int, typer.Option(help="Concurrent batch clients")] = 4,
) -> None:
    """Atomic cross-border payments per second through the real nodes and bridge (separate
    processes), with p50/p99, against a one-commit-per-transfer baseline measured in the same run;
    then p99 at half the measured rate."""
    from bridge.bench import run_pvp_bench
    from corridor.cli import _print_bench, _state, console

    _print_bench(run_pvp_bench(_state(None), seconds, batch_size, clients, console), json_out)
