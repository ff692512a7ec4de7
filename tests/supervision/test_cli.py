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


def test_corridor_mounts_the_service_and_the_evaluation() -> None:
    from corridor.cli import app as corridor_app

    serve = CliRunner().invoke(corridor_app, ["supervision", "--help"])
    assert serve.exit_code == 0, serve.output
    assert "--bind" in serve.output and "--database-url" in serve.output
    evaluation = CliRunner().invoke(corridor_app, ["eval", "supervision", "--help"])
    assert evaluation.exit_code == 0 and "--scale" in evaluation.output


def test_node_addresses_come_from_the_fleet_environment(monkeypatch) -> None:
    import pytest

    from services.supervision.server import node_targets_from_env

    monkeypatch.setenv("CORRIDOR_NODES", "CN=127.0.0.1:1,hk=127.0.0.1:2")
    assert node_targets_from_env() == {"CN": "127.0.0.1:1", "HK": "127.0.0.1:2"}
    monkeypatch.delenv("CORRIDOR_NODES")
    assert set(node_targets_from_env()) == {"CN", "HK", "TH", "AE", "SA"}
    monkeypatch.setenv("CORRIDOR_NODES", "XX=host:1")
    with pytest.raises(ValueError, match="CORRIDOR_NODES"):
        node_targets_from_env()
