"""Shared fixtures: a real PostgreSQL (embedded via pgserver, or CORRIDOR_DATABASE_URL) for the
whole session, a fresh database per test, and real gRPC servers on port 0.

Security: Corridor runs with mTLS + signed credentials by default. Tests of business behaviour
(in-process servers called with `x-corridor-caller` headers) run with the explicit plaintext flag
set here; tests of what a user runs (`corridor simulate`, `up`, the load generator, traces, the
process-kill tests) take `default_security`, which removes the flag so those paths run exactly as
a user's do; tests/security turns it on explicitly (its `secure` fixture)."""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

import pytest

from corridor import pg

_counter = itertools.count()

os.environ["CORRIDOR_INSECURE"] = "1"


@pytest.fixture(scope="session")
def security_dir() -> Path:
    """One development PKI for the session (CA, certificates, issuer keys), outside the repo."""
    from corridor.security.pki import ensure_dev_pki

    d = Path(tempfile.mkdtemp(prefix="corridor-security-"))
    ensure_dev_pki(d)
    return d


def use_default_security(monkeypatch: pytest.MonkeyPatch, security_dir: Path) -> Path:
    """Corridor's defaults for this process and what it starts: no plaintext flag, so mTLS +
    credentials (certificates from the session's PKI)."""
    for name in ("CORRIDOR_INSECURE", "CORRIDOR_SECURE", "CORRIDOR_CREDENTIAL",
                 "CORRIDOR_IDENTITY", "CORRIDOR_SERVICE_IDENTITY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(security_dir))
    return security_dir


@pytest.fixture
def default_security(monkeypatch: pytest.MonkeyPatch, security_dir: Path) -> Path:
    """This test runs with Corridor's defaults: no plaintext flag, so mTLS + credentials."""
    return use_default_security(monkeypatch, security_dir)


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
