"""Planning: the grid syntax, validation before anything runs, stable run ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.sweep import SweepError, parse_grid, plan_sweep, seed_list
from corridor.sweep.plan import split_values
from tests.sweep.conftest import SCENARIO, SHORT


def test_values_split_on_top_level_commas_only() -> None:
    assert split_values("1, 2,[a, b],{x: 1, y: 2},'c,d'") == [
        "1",
        "2",
        "[a, b]",
        "{x: 1, y: 2}",
        "'c,d'",
    ]


def test_grid_values_are_typed_like_set() -> None:
    grid = parse_grid(
        ["rails.cbdc.fee_bps=5,7.5", "stress.0.corridors=[HK-CN],[CN-HK, HK-CN]", "name=a,b"]
    )
    assert grid == {
        "rails.cbdc.fee_bps": [5, 7.5],
        "stress.0.corridors": [["HK-CN"], ["CN-HK", "HK-CN"]],
        "name": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("rails.cbdc.fee_bps", "expected KEY=V1,V2"),
        ("seed=1,2", "--seeds"),
        ("days=3,,4", "empty value"),
        ("days=3,3", "repeated"),
    ],
)
def test_bad_grid_syntax_names_the_entry(entry: str, says: str) -> None:
    with pytest.raises(SweepError) as err:
        parse_grid([entry])
    assert says in str(err.value)


def test_a_bad_key_is_refused_by_name() -> None:
    with pytest.raises(SweepError) as err:
        plan_sweep(SCENARIO, [1], {"rails.cbdc.fe_bps": [1, 2]}, SHORT, "model-only")
    text = str(err.value)
    assert "rails.cbdc.fe_bps" in text and "did you mean 'fee_bps'" in text


def test_a_bad_value_is_refused_naming_that_value() -> None:
    with pytest.raises(SweepError) as err:
        plan_sweep(SCENARIO, [1], {"rails.cbdc.fee_bps": [5, -3]}, SHORT)
    lines = str(err.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("--grid rails.cbdc.fee_bps=-3:") and ">= 0" in lines[0]


def test_a_bad_combination_names_the_combination() -> None:
    # Each value is fine alone; together the flight-to-safety event starts after the run ends.
    grid = {"days": [1, 3], "stress.0.at_hour": [16, 30]}
    with pytest.raises(SweepError) as err:
        plan_sweep("baseline", [1], grid, {"stress": [{"kind": "flight_to_safety", "at_hour": 2}]})
    assert "--grid combination days=1, stress.0.at_hour=30" in str(err.value)


def test_model_only_needs_a_stablecoin_model() -> None:
    with pytest.raises(SweepError, match="no stablecoin section"):
        plan_sweep("baseline", [1], {}, {}, "model-only")


def test_runs_are_the_grid_product_times_seeds_with_stable_distinct_ids() -> None:
    grid = {"rails.cbdc.fee_bps": [5, 10], "days": [3, 7]}
    plan = plan_sweep("baseline", seed_list(3), grid, {}, "services")
    assert len(plan.combos) == 4 and len(plan.runs) == 12
    assert len({r.run_id for r in plan.runs}) == 12
    assert plan.combos[3].params == {"rails.cbdc.fee_bps": 10, "days": 7}
    assert plan.combos[3].scenario.rails.cbdc.fee_bps == 10 and plan.combos[3].scenario.days == 7
    assert [r.seed for r in plan.runs[:4]] == [1, 2, 3, 1]
    # A grown grid keeps the ids of the runs it already had (resume across a larger sweep).
    grown = plan_sweep("baseline", seed_list(4), {**grid, "days": [3, 5, 7]}, {}, "services")
    assert {r.run_id for r in plan.runs} < {r.run_id for r in grown.runs}
    again = plan_sweep("baseline", seed_list(3), grid, {}, "services")
    assert [r.run_id for r in again.runs] == [r.run_id for r in plan.runs]


def test_a_stablecoin_parameter_reaches_the_model() -> None:
    plan = plan_sweep(SCENARIO, [1], {"stablecoin.shocks.1.share": [0.5, 1.0]}, SHORT, "model-only")
    assert [c.scenario.stablecoin_spec.shocks[1].share for c in plan.combos] == [0.5, 1.0]
    # The mode is part of what a run is.
    services = plan_sweep(
        SCENARIO, [1], {"stablecoin.shocks.1.share": [0.5, 1.0]}, SHORT, "services"
    )
    assert not {r.run_id for r in plan.runs} & {r.run_id for r in services.runs}


def test_cli_refuses_a_bad_grid_key_before_running_anything(tmp_path: Path) -> None:
    from corridor.cli import app

    out = tmp_path / "sweep"
    result = CliRunner().invoke(app, ["sweep", "--scenario", SCENARIO, "--seeds", "2", "--mode", "model-only",
                                      "--grid", "stablecoin.shocks.1.shar=0.5,1", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2
    assert "nothing was run" in result.output
    assert "stablecoin.shocks.1.shar" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_names_the_file_and_line_of_a_scenario_error(tmp_path: Path) -> None:
    from corridor.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: svb-2023\nname: bad\ndays: 3\nrails:\n  cbdc:\n    fee_bps: -1\n")
    result = CliRunner().invoke(
        app, ["sweep", "--scenario", str(bad), "--seeds", "1", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert f"{bad}:6: rails.cbdc.fee_bps" in result.output
    assert not (tmp_path / "o").exists()
