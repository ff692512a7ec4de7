"""Commands the corridor CLI mounts: `corridor vouchers` (serve) and `corridor bench vouchers`."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corridor.config import SERVICE_PORTS

console = Console(stderr=True)


def serve_command(
    bind: Annotated[str, typer.Option(help="host:port")] = f"127.0.0.1:{SERVICE_PORTS['vouchers']}",
    database_url: Annotated[str, typer.Option(help="PostgreSQL URL of the vouchers ledger")] = "",
    expire_every_s: Annotated[
        float, typer.Option(help="Expiry sweep period on the business clock (0 = off)")
    ] = 1.0,
) -> None:
    """Run the vouchers service: programmable e-CNY locked under CEL conditions."""
    from services.vouchers.server import main

    main(["--bind", bind, "--database-url", database_url, "--expire-every-s", str(expire_every_s)])


def bench_command(
    seconds: Annotated[float, typer.Option(min=0.5, help="Seconds per measured phase")] = 5.0,
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON summary")] = False,
) -> None:
    """Measure condition-checked, durably settled redemptions/s (RedeemBatch over gRPC) against a
    one-transfer-per-commit baseline taken in the same run; p50/p99 per batch."""
    from services.vouchers.bench import bench_vouchers

    with console.status("benchmarking vouchers: baseline, conditions, RedeemBatch, Redeem..."):
        result = asyncio.run(bench_vouchers(seconds))
    table = Table(title=result.pop("title"))
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:,.2f}" if isinstance(value, float) else str(value))
    Console().print(table)
    if json_out:
        print(json.dumps(result), flush=True)
