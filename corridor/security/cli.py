"""CLI: `corridor certs`, `corridor audit verify`, `corridor chaos`, `corridor bench security`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)
out = Console()

certs_app = typer.Typer(
    help="The development CA, per-service certificates and credential keys (mTLS + credentials).",
    invoke_without_command=True,
    no_args_is_help=False,
)
audit_app = typer.Typer(help="The hash-chained audit log of privileged actions.")


def _dir(directory: Path | None) -> Path:
    from corridor.security.config import default_directory

    return (directory or default_directory()).resolve()


DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir", help="Security directory [default: $CORRIDOR_SECURITY_DIR or <state>/security]"
    ),
]


@certs_app.callback()
def certs(
    ctx: typer.Context,
    directory: DirOpt = None,
    service_credentials: Annotated[
        bool,
        typer.Option(
            "--service-credentials",
            help="Also write each service's own credential to credentials/<service>.jwt "
            "(containers: infra/compose.yaml's `certs` job; `corridor up` needs none)",
        ),
    ] = False,
    ttl_days: Annotated[
        float, typer.Option(min=0.01, help="Lifetime of the service credentials in days")
    ] = 30.0,
) -> None:
    """Make the development CA, a certificate per service and the credential issuer's keys (only
    what is missing), then list them. Services find them here (security is on by default)."""
    if ctx.invoked_subcommand is not None:
        return
    from corridor.config import SERVICE_PORTS
    from corridor.security.fleet import write_service_credentials
    from corridor.security.pki import describe, ensure_dev_pki

    d = _dir(directory)
    made = ensure_dev_pki(d)
    if service_credentials:
        paths = write_service_credentials(d, SERVICE_PORTS, ttl_days * 86400)
        made.append(f"{len(paths)} service credentials ({ttl_days:g} days)")
    t = Table(title=f"Corridor development PKI in {d}")
    for col in ("name", "subject", "valid until", "subject alternative names"):
        t.add_column(col)
    for row in describe(d):
        t.add_row(row["name"], row["subject"], row["not_after"], row["sans"])
    out.print(t)
    console.print(f"created: {', '.join(made)}" if made else "nothing to create (all present)")
    console.print(
        "[dim]grpcurl: -cacert ca.pem -cert certs/client.pem -key certs/client.key;"
        " credentials: `corridor certs token --role ... --subject ...`[/]"
    )


@certs_app.command("token")
def token(
    role: Annotated[
        str,
        typer.Option(
            help="central_bank, operator, holder, liquidity_provider, supervisor, authority, admin, ..."
        ),
    ],
    subject: Annotated[
        str, typer.Option(help="Who: operator id, holder pseudonym, CN/alice for a supervisor...")
    ],
    jurisdiction: Annotated[
        str, typer.Option(help="CN, HK, ... (comma-separated for a bank group)")
    ] = "",
    wallet: Annotated[
        list[str] | None, typer.Option(help="A wallet the holder holds (repeatable)")
    ] = None,
    ttl_s: Annotated[float, typer.Option(min=1, help="Lifetime in seconds")] = 900.0,
    directory: DirOpt = None,
) -> None:
    """Mint a credential and print it (for grpcurl `-H "authorization: Bearer <token>"`, Locust,
    or CORRIDOR_CREDENTIAL). Needs the issuer's private key."""
    from corridor.security.credentials import issue

    try:
        print(issue(role, subject, jurisdiction=jurisdiction, wallets=wallet or (), ttl_s=ttl_s,
                    directory=_dir(directory)))  # fmt: skip
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@certs_app.command("rules")
def rules() -> None:
    """The authorisation table: who may call each RPC, and which calls are audited."""
    from corridor.security.authz import table

    t = Table(title="Authorisation rules (default deny)")
    for col in ("method", "callers", "request checked", "audited as"):
        t.add_column(col)
    for r in table():
        t.add_row(r.method, ", ".join(r.callers), "yes" if r.checked else "", r.audit)
    out.print(t)


@audit_app.command("verify")
def verify(
    database_url: Annotated[
        str, typer.Option(help="PostgreSQL server holding the corridor_* databases")
    ] = "",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="State directory [default: .corridor]")
    ] = None,
    anchors: Annotated[
        Path | None, typer.Option(help="Anchor file [default: <security dir>/audit-anchors.json]")
    ] = None,
    only: Annotated[str, typer.Option(help="Only databases whose name contains this")] = "",
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON report")] = False,
) -> None:
    """Recompute every audit hash chain: report the first edited, removed or reordered entry.
    Exits 0 only when every log verifies. Each clean run records anchors, so a later rewrite of
    a whole chain is found too."""
    import os

    from corridor import pg
    from corridor.security import audit

    if data_dir:
        os.environ["CORRIDOR_HOME"] = str(data_dir)
    url = database_url or pg.server_url()
    anchor_file = anchors or (_dir(None) / "audit-anchors.json")
    try:
        reports = pg.run_against_server(url, audit.verify_server(url, anchor_file, only))
    except pg.DatabaseServerError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    ok = all(r.ok for r in reports)
    t = Table(title="Audit logs")
    for col in ("database", "entries", "result", "first broken entry", "problem"):
        t.add_column(col)
    for r in reports:
        t.add_row(r.database, str(r.entries), "[green]ok[/]" if r.ok else "[red]BROKEN[/]",
                  str(r.broken_at or ""), r.problem)  # fmt: skip
    (console if json_out else out).print(t)
    if not reports:
        console.print("[yellow]no audit logs found[/] (start services with `corridor up` first)")
    if json_out:
        print(json.dumps({"ok": ok, "logs": [dataclasses.asdict(r) for r in reports]}), flush=True)
    raise typer.Exit(0 if ok else 1)


def chaos_command(
    minutes: Annotated[float, typer.Option(min=0.1, help="How long the faulty load runs")] = 10.0,
    kill_every: Annotated[float, typer.Option(min=0.5, help="Mean seconds between SIGKILLs")] = 3.0,
    pg_restart_every: Annotated[
        float, typer.Option(help="Seconds between PostgreSQL crash-restarts (0 = never)")
    ] = 60.0,
    services: Annotated[str, typer.Option(help="Services to run and kill")] = "cn,hk,bridge",
    workers: Annotated[int, typer.Option(min=1, help="Concurrent paying clients")] = 12,
    seed: Annotated[int, typer.Option(help="Seed for the load and the faults")] = 1,
    insecure: Annotated[bool, typer.Option("--insecure", help="Plaintext, no credentials")] = False,
    restart_after_pg: Annotated[
        bool,
        typer.Option(
            "--restart-after-pg",
            help="Restart every service after each PostgreSQL restart (a liveness probe); by "
            "default they must reconnect on their own",
        ),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Keep state here [default: a temp dir, removed]"),
    ] = None,
) -> None:
    """Soak under faults: mixed domestic and cross-border payments while random services are
    SIGKILLed and PostgreSQL is crash-restarted; then count acknowledged payments lost (must be
    0), half-settled cross-border payments (must be 0) and check every invariant. The last line
    is JSON. Exits 0 only when nothing was lost, nothing half-settled and invariants hold."""
    from corridor.security.chaos import ChaosOptions, run_chaos
    from corridor.security.config import SecurityConfig

    # Secure unless this command's --insecure or the global one (CORRIDOR_INSECURE) says not.
    secure = not insecure and SecurityConfig.from_env().enabled
    names = tuple(n.strip().lower() for n in services.split(",") if n.strip())
    opts = ChaosOptions(
        minutes=minutes, kill_every_s=kill_every, pg_restart_every_s=pg_restart_every,
        services=names, workers=workers, seed=seed, secure=secure, state=data_dir,
        keep=data_dir is not None, restart_after_pg=restart_after_pg,
    )  # fmt: skip
    result = run_chaos(opts, say=lambda m: console.print(m))
    t = Table(title="chaos soak")
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k in ("acknowledged", "lost", "half_settled", "kills", "pg_restarts", "invariants_ok",
              "attempted", "retries", "unresolved", "wall_s"):  # fmt: skip
        t.add_row(k, str(result[k]))
    console.print(t)
    for line in result["invariants_failed"]:
        console.print(f"[red]invariant:[/] {line}")
    print(json.dumps(result), flush=True)
    ok = result["lost"] == 0 and result["half_settled"] == 0 and result["invariants_ok"]
    raise typer.Exit(0 if ok else 1)


def bench_command(
    seconds: Annotated[float, typer.Option(help="Seconds per phase per mode per round")] = 3.0,
    rounds: Annotated[int, typer.Option(help="Interleaved rounds over the four modes")] = 2,
    batch_size: Annotated[int, typer.Option(help="Transfers per batch RPC")] = 1000,
    clients: Annotated[int, typer.Option(help="Concurrent clients for the unary phases")] = 32,
    json_out: Annotated[bool, typer.Option("--json", help="Last line is the JSON summary")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="State directory [default: .corridor]")
    ] = None,
) -> None:
    """What mTLS and authorisation cost: the ledger's echo, unary and batch phases with security
    off, tls only, auth only and on, in one run (medians of interleaved rounds, ratios to off),
    plus microseconds for a signature check, a cached check and a rule decision."""
    import os

    from corridor.config import state_dir
    from corridor.security.bench import run_security_bench

    if data_dir:
        os.environ["CORRIDOR_HOME"] = str(data_dir)
    result = run_security_bench(state_dir(), seconds, batch_size, clients, rounds, console)
    t = Table(title=result.pop("title"))
    t.add_column("figure")
    t.add_column("value", justify="right")
    for k, v in result.items():
        t.add_row(k, f"{v:,.3f}" if isinstance(v, float) else str(v))
    out.print(t)
    if json_out:
        print(json.dumps(result), flush=True)
