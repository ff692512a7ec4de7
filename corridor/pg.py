"""PostgreSQL: embedded by default (the `pgserver` wheel), any PostgreSQL by URL.

Resolution for a ledger named e.g. "cn", "bridge", "vouchers":
1. `CORRIDOR_DATABASE_URL_CN` (per-ledger override): used as is.
2. `CORRIDOR_DATABASE_URL`: a server; the ledger gets its own database `corridor_cn` on it
   (created if missing) — data sovereignty: one database per jurisdiction.
3. Otherwise an embedded PostgreSQL 16 in `<data_dir>/pg` (default `.corridor/pg`).
"""

from __future__ import annotations

import asyncio
import os
import re
import warnings
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

T = TypeVar("T")

_EMBEDDED: dict[str, object] = {}


# What a lost or unreachable database server raises (a crash, a restart, a network cut): worth
# retrying, unlike a bug. Services answer these UNAVAILABLE with a retry hint, never INTERNAL.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    # Class 57: admin/crash shutdown, cannot connect now (starting up), query cancelled.
    asyncpg.exceptions.OperatorInterventionError,
    ConnectionError,
    OSError,
)


class DatabaseServerError(Exception):
    """The database server could not be used at all (unreachable, login refused, bad URL): a
    command reports this message and stops, nothing to retry inside."""


def run_against_server(url: str, work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(work)`, with the ways a server URL fails turned into DatabaseServerError."""
    try:
        return asyncio.run(work)
    except (OSError, ConnectionError, asyncpg.PostgresError) as exc:
        raise DatabaseServerError(f"cannot reach the database server: {exc}") from None
    except ValueError as exc:  # asyncpg could not parse the URL
        raise DatabaseServerError(f"bad database URL {url!r}: {exc}") from None


def embedded_server_url(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL in data_dir/pg; returns its server URL."""
    pgdir = (Path(data_dir) / "pg").resolve()
    key = str(pgdir)
    if key not in _EMBEDDED:
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
        import pgserver

        pgdir.mkdir(parents=True, exist_ok=True)
        _EMBEDDED[key] = pgserver.get_server(pgdir, cleanup_mode="stop")
    return _EMBEDDED[key].get_uri()  # type: ignore[attr-defined]


def stop_embedded() -> None:
    for srv in _EMBEDDED.values():
        srv.cleanup()  # type: ignore[attr-defined]
    _EMBEDDED.clear()


def with_database(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def database_name(ledger: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]{1,40}", ledger):
        raise ValueError(f"bad ledger name {ledger!r}")
    return f"corridor_{ledger}"


def server_url(data_dir: Path | None = None) -> str:
    url = os.environ.get("CORRIDOR_DATABASE_URL")
    if url:
        return url
    from corridor.config import state_dir

    return embedded_server_url(data_dir or state_dir())


def ledger_url(ledger: str, data_dir: Path | None = None) -> str:
    """The database URL of one ledger (see module doc). Does not create the database."""
    override = os.environ.get(f"CORRIDOR_DATABASE_URL_{ledger.upper()}")
    if override:
        return override
    return with_database(server_url(data_dir), database_name(ledger))


async def ensure_database(url: str) -> None:
    """Create the database named in url if it does not exist (connecting to `postgres`)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
