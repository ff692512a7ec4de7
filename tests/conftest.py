"""Shared fixtures: a real PostgreSQL (embedded via pgserver, or CORRIDOR_DATABASE_URL) for the
whole session, a fresh database per test, and real gRPC servers on port 0."""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

import pytest

from corridor import pg

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("CORRIDOR_DATABASE_URL")
    if url:
        return url
    root = Path(os.environ.get("CORRIDOR_TEST_PGDIR", tempfile.gettempdir())) / "corridor-test-pg"
    return pg.embedded_server_url(root)


@pytest.fixture
async def fresh_db(pg_server_url: str):
    """URL of a new, empty database (dropped afterwards)."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    url = pg.with_database(pg_server_url, name)
    await pg.drop_database(url)
    await pg.ensure_database(url)
    yield url
    try:
        await pg.drop_database(url)
    except Exception:  # noqa: BLE001 - best effort cleanup
        pass


@pytest.fixture
async def make_db(pg_server_url: str):
    """Factory of fresh databases (all dropped afterwards)."""
    made: list[str] = []

    async def make() -> str:
        name = f"t_{os.getpid()}_{next(_counter)}"
        url = pg.with_database(pg_server_url, name)
        await pg.drop_database(url)
        await pg.ensure_database(url)
        made.append(url)
        return url

    yield make
    for url in made:
        try:
            await pg.drop_database(url)
        except Exception:  # noqa: BLE001
            pass
