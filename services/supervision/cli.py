"""`corridor supervision` (serve) and `corridor eval supervision` (score the AML detectors).

The corridor CLI mounts `serve_command` as `corridor supervision` and `eval_command` as
`corridor eval supervision`; `app` here offers both as `python -m services.supervision.cli`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corridor.config import SERVICE_PORTS
from services.supervision.evaluate import run_evaluation

app = typer.Typer(help="Penetrating supervision: AML typology detection on both rails.")


@app.callback()
def supervision() -> None:
    """Penetrating supervision: AML typology detection on both rails."""


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render(result: dict, console: Console) -> None:
    """One table per rail: precision, recall, F1, delay and alert counts per typology."""
    for rail, body in result["rails"].items():
        pen = body["penetration"]
        table = Table(
            title=f"{rail}: penetration {body['penetration_rate']:.1%} of laundered value "
            f"(both ends {pen['both_ends']:.1%})",
        )
        for column in ("typology", "precision", "recall", "F1", "delay s", "cases", "alerts", "FP"):
            table.add_column(column, justify="left" if column == "typology" else "right")
        for name, m in body["typologies"].items():
            d = body["detail"][name]
            table.add_row(
                name, _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]),
                _fmt(m["detection_delay_s"], 0), str(d["cases"]), str(d["alerts"]),
                str(d["false_alerts"]),
            )  # fmt: skip
        console.print(table)
    console.print(
        f"{result['postings']:,} postings, {result['cases']} planted cases, "
        f"detectors at {result['detector_postings_per_s']:,} postings/s; goals {result['goals']}"
    )


@app.command("eval")
def eval_command(
    seed: int = typer.Option(7, help="Seed of the traffic generator and typology injector."),
    scale: float = typer.Option(1.0, min=0.01, help="Population and case-count multiplier."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON, last line."),
) -> None:
    """Plant typologies into a week of corridor traffic, detect them in time order, score."""
    result = run_evaluation(seed=seed, scale=scale)
    render(result, Console(stderr=False, width=120))
    if json_out:
        print(json.dumps(result, separators=(",", ":")))


@app.command("serve")
def serve_command(
    bind: Annotated[str, typer.Option(help="host:port")] = (
        f"127.0.0.1:{SERVICE_PORTS['supervision']}"
    ),
    database_url: Annotated[
        str, typer.Option(help="PostgreSQL URL of the supervision database")
    ] = "",
) -> None:
    """Run the supervision service: follow every ledger's posting feed, detect, and answer
    supervisors. Nodes come from CORRIDOR_NODES="CN=host:port,HK=..." (default: all five at
    their standard local ports), the bridge from CORRIDOR_BRIDGE_TARGET."""
    from services.supervision.server import main

    main(["--bind", bind] + (["--database-url", database_url] if database_url else []))


if __name__ == "__main__":
    app()
