"""Shared fixtures: a real PostgreSQL (embedded via pgserver, or CORRIDOR_DATABASE_URL) for the
whole session, a fresh database per test, and real gRPC servers on port 0.

Security: Corridor runs with mTLS + signed credentials by default. Tests of business behaviour
(in-process servers called with `x-corridor-caller` headers) run with the explicit plaintext flag
set here; tests of what a user runs (`corridor simulate`, `up`, the load generator, traces, the
process-kill tests) take `default_security`, which removes the flag so those paths run exactly as
a user's do; tests/security turns it on explicitly (its `secure` fixture)."""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from pathlib import Path

import pytest

from corridor import pg

_counter = itertools.count()

os.environ["CORRIDOR_INSECURE"] = "1"

# Once every test has run and the outcome is known, the process must end. grpc.aio shuts its
# shared completion queue down when its last object is garbage-collected, and joins its poller
# thread; when that collection happens after the event loops that read the poller's wake-up
# socket are gone, the poller can block on a full socket and the join never returns
# (grpc/grpc#40989). Seen here twice, at the terminal summary, after all tests had passed. The
# watchdog ends such a process with the outcome pytest already decided.
TEARDOWN_GRACE_S = 120.0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import sys
    import threading

    def end() -> None:
        sys.stderr.write(
            f"\npytest did not exit {TEARDOWN_GRACE_S:.0f} s after the last test (grpc.aio "
            f"shutdown at garbage collection, grpc/grpc#40989); exiting with status {exitstatus}\n"
        )
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(int(exitstatus))

    watchdog = threading.Timer(TEARDOWN_GRACE_S, end)
    watchdog.daemon = True
    watchdog.start()


@pytest.fixture(scope="module", autouse=True)
async def collect_grpc_garbage_in_the_loop():
    """After each module, collect its garbage while the session's event loop runs: grpc.aio
    objects left in reference cycles are then finalised where their loop can still read the
    poller's wake-ups, not at some later collection outside any loop (see TEARDOWN_GRACE_S)."""
    yield
    import gc

    gc.collect()
    await asyncio.sleep(0)


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
