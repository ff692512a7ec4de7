"""`corridor stablecoin ...` (the typer sub-app), driven in-process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from services.stablecoin.cli import app

runner = CliRunner()


def test_run_writes_summary_and_timeseries(tmp_path: Path) -> None:
    out = tmp_path / "svb"
    result = runner.invoke(app, ["run", "--preset", "svb-2023", "--seed", "2", "--days", "5",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())["stablecoin"]
    assert summary["seed"] == 2 and summary["days"] == 5
    assert [r["ok"] for r in summary["calibration"]] == [True, True, True]
    with (out / "stablecoin_timeseries.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 * 96 + 1
    assert {"t_s", "price", "supply_minor", "reserves_mtm_minor", "base_fee_ethereum"} <= set(
        rows[0]
    )
    assert "min_price" in result.output and "calibration" in result.output


def test_a_bad_file_exits_2_with_file_line_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: svb-2023\nstep_s: 5\n")
    result = runner.invoke(app, ["run", "--file", str(bad), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert f"{bad}:2: step_s:" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_validate_and_presets() -> None:
    assert "svb-2023" in runner.invoke(app, ["presets"]).output
    result = runner.invoke(app, ["run", "--preset", "svb-2023", "--file", "x.yaml"])
    assert result.exit_code == 2
