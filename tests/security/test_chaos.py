"""The short chaos soak (`make test`): services SIGKILLed every few seconds and PostgreSQL
crash-restarted while payments run; nothing acknowledged is lost, nothing is half-settled, every
invariant holds. The 10-minute soak is `corridor chaos --minutes 10` (and the slow test below)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-c", "from corridor.cli import main; main()", "chaos"]


def soak(*args: str, timeout: int) -> dict:
    p = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False)
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    result = json.loads(p.stdout.strip().splitlines()[-1])
    for key in ("acknowledged", "lost", "half_settled", "kills", "invariants_ok"):
        assert key in result, key
    assert p.returncode == (
        0 if result["lost"] == 0 and result["half_settled"] == 0 and result["invariants_ok"] else 1
    )
    return result


def test_short_chaos_soak_loses_nothing():
    r = soak("--minutes", "0.4", "--kill-every", "3", "--pg-restart-every", "12", "--workers", "6",
             timeout=300)  # fmt: skip
    assert r["kills"] >= 3 and r["pg_restarts"] >= 1, r
    # Nobody restarted the services after the database crash: they reconnected and went on.
    assert r["restarts_after_pg"] == 0 and r["acknowledged_since_last_pg_restart"] > 0, r
    assert r["acknowledged"] > 100 and r["acknowledged_cross_border"] > 10, r
    assert (r["lost"], r["half_settled"], r["invariants_ok"]) == (0, 0, True), r


@pytest.mark.slow
def test_ten_minute_chaos_soak():
    r = soak("--minutes", "10", "--kill-every", "3", "--pg-restart-every", "60", timeout=1800)
    assert (r["lost"], r["half_settled"], r["invariants_ok"]) == (0, 0, True), r
