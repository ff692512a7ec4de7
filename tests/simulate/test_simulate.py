"""`corridor simulate` end to end through the real services (small sizes), and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.usefixtures("default_security")  # what a user runs: mTLS + credentials

CLI = [sys.executable, "-c", "from corridor.cli import main; main()"]


def run_cli(
    args: list[str], env_home: Path, timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CORRIDOR_HOME=str(env_home), COLUMNS="120")
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def home() -> Path:
    # pgserver runs PostgreSQL as an unprivileged user when we are root: its data directory must
    # sit under world-traversable directories (pytest's tmp_path is mode 700), hence /tmp.
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="corridor-home-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    subprocess.run(CLI + ["down"], env=dict(os.environ, CORRIDOR_HOME=str(d)), capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("preset,days", [("baseline", "1"), ("dollar-contagion", "7")])
def test_simulate_writes_a_complete_results_directory(preset, days, home, tmp_path):
    out = tmp_path / preset
    p = run_cli(["simulate", "--scenario", preset, "--payments", "2500", "--days", days, "--out", str(out),
                 "--wallets-cap", "400"], home)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    for name in (
        "summary.json",
        "payments.parquet",
        "payments.csv",
        "timeseries.csv",
        "traces.jsonl",
        "briefing.html",
    ):
        assert (out / name).exists(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["invariants"]["ok"], [c for c in s["invariants"]["checks"] if not c["ok"]]
    assert s["payments"] == 2500
    rails = s["rails"]
    for name in ("cbdc", "stablecoin", "correspondent"):
        for key in ("payments", "settled", "failed", "cost_bps_mean", "share_within_1h", "share_within_1bd",
                    "p50_settle_s", "p99_settle_s", "liquidity_locked"):  # fmt: skip
            assert key in rails[name], (name, key)
    assert sum(r["payments"] for r in rails.values()) <= 2500
    df = pd.read_parquet(out / "payments.parquet")
    assert len(df) == 2500 and set(df.rail) <= {"cbdc", "stablecoin", "correspondent", "none"}
    # The CBDC rows are real payments: each CBDC payment id is a PvP payment in the bridge's log.
    assert df[df.rail == "cbdc"].payment_id.str.startswith("xb-").all()
    assert s["example_payment_id"]
    if preset == "dollar-contagion":
        assert "min_price" in s["stablecoin"] and s["stablecoin"]["min_price"] < 1.0
        ts = pd.read_csv(out / "timeseries.csv")
        assert {"stablecoin_price", "cbdc_payments", "cbdc_tps"} <= set(ts.columns)
    tr = run_cli(["trace", s["example_payment_id"], "--results", str(out)], home, 60)
    assert tr.returncode == 0 and "pvp.prepare" in tr.stdout, tr.stdout + tr.stderr


def test_a_bad_scenario_file_names_file_line_and_field(home, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: baseline\nname: broken\ncorridors:\n  - from: CN\n    to: HK\n    weight: -1\n"
    )
    p = run_cli(["simulate", "--scenario", str(bad), "--out", str(tmp_path / "o")], home, 60)
    assert p.returncode == 2
    assert "Traceback" not in p.stdout + p.stderr
    assert "bad.yaml:6" in p.stderr and "weight" in p.stderr, p.stderr
    assert not (tmp_path / "o" / "summary.json").exists()
