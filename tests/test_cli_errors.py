"""Operator commands meet a bad environment with a reason and an exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

CLI = [sys.executable, "-c", "from corridor.cli import main; main()"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command", [["check-invariants"], ["audit", "verify"]])
def test_an_unreachable_database_server_is_named_not_a_traceback(command: list[str]) -> None:
    p = _run(*command, "--database-url", "postgresql://nobody@127.0.0.1:1/corridor")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr and "cannot reach the database server" in p.stderr


def test_a_refused_login_is_named_not_a_traceback(pg_server_url: str) -> None:
    bad = pg_server_url.replace("://postgres", "://no_such_role", 1)
    assert bad != pg_server_url  # the test server's URL names the postgres role
    p = _run("check-invariants", "--database-url", bad)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "no_such_role" in p.stderr


@pytest.mark.parametrize("bench", ["ledger", "pvp", "vouchers"])
def test_a_bench_refuses_a_phase_too_short_to_measure(bench: str) -> None:
    p = _run("bench", bench, "--seconds", "0")
    assert p.returncode == 2 and "--seconds" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("command", [["check-invariants"], ["audit", "verify"]])
def test_a_malformed_database_url_is_named_not_a_traceback(command: list[str]) -> None:
    p = _run(*command, "--database-url", "postgresql://h:notaport/x")
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "database URL" in p.stderr
