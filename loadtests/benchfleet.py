"""A corridor of its own for a benchmark or a test: every service its own OS process (the
`corridor up` Fleet) on free ports, each ledger a fresh database named for the run, dropped after.

Nothing here touches a running `corridor up`: the ports are free ones and the databases are
`corridor_<tag>_<ledger>` on the same PostgreSQL server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from corridor import pg
from corridor.bench import free_port
from corridor.config import JURISDICTIONS
from corridor.fleet import Fleet
from loadtests.targets import Targets


def ledger_urls(server_url: str, tag: str, names: list[str]) -> dict[str, str]:
    """Per-service database URLs (nodes, bridge, vouchers, supervision; the stablecoin rail keeps
    no database)."""
    return {
        n: pg.with_database(server_url, f"corridor_{tag}_{n}")
        for n in names
        if n.upper() in JURISDICTIONS or n in ("bridge", "vouchers", "supervision")
    }


async def _recreate(urls: list[str], settings: dict[str, str]) -> None:
    for url in urls:
        await pg.drop_database(url)
        await pg.ensure_database(url)
        if settings:
            conn = await asyncpg.connect(url)
            try:
                name = urlsplit(url).path.lstrip("/")
                for key, value in settings.items():
                    await conn.execute(f'ALTER DATABASE "{name}" SET {key} = {value}')
            finally:
                await conn.close()


async def _drop(urls: list[str]) -> None:
    # Concurrently: each DROP DATABASE waits for a checkpoint, and waiting for them one after
    # another costs seconds on a busy server.
    await asyncio.gather(*(pg.drop_database(url) for url in urls))


@contextmanager
def bench_corridor(
    state: Path,
    server_url: str,
    tag: str,
    names: list[str],
    extra_env: dict[str, str] | None = None,
    keep_databases: bool = False,
    database_settings: dict[str, str] | None = None,
) -> Iterator[tuple[Fleet, Targets, dict[str, str]]]:
    """Start `names` (e.g. ["cn", "hk", "bridge"]) and yield (fleet, targets, ledger urls).

    `database_settings` are set on each bench database (`ALTER DATABASE ... SET`) before the
    services connect, e.g. {"plan_cache_mode": "force_custom_plan"}."""
    urls = ledger_urls(server_url, tag, names)
    asyncio.run(_recreate(list(urls.values()), database_settings or {}))
    fleet = Fleet.plan(state, server_url, names, {n: free_port() for n in names})
    fleet.extra_env = {
        **{f"CORRIDOR_DATABASE_URL_{n.upper()}": u for n, u in urls.items()},
        **(extra_env or {}),
    }
    try:
        fleet.start()
        yield fleet, Targets.from_endpoints(fleet.endpoints()), urls
    finally:
        fleet.stop()
        if not keep_databases:
            asyncio.run(_drop(list(urls.values())))
