"""`corridor eval supervision --json`: a table for people, JSON as the last line for tools."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from services.supervision.cli import app


def test_eval_prints_table_then_json_last_line() -> None:
    result = CliRunner().invoke(app, ["eval", "--seed", "3", "--scale", "0.03", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any("precision" in line for line in lines[:-1])
    payload = json.loads(lines[-1])
    assert payload["seed"] == 3
    typologies = payload["rails"]["cbdc"]["typologies"]
    assert set(typologies["cycle"]) == {"precision", "recall", "f1", "detection_delay_s"}
    assert "penetration_rate" in payload["rails"]["stablecoin"]


def test_eval_rejects_a_bad_scale_without_a_traceback() -> None:
    result = CliRunner().invoke(app, ["eval", "--scale", "0"])
    assert result.exit_code != 0
    assert "scale" in result.output and "Traceback" not in result.output
