"""Model-only sweeps on the local cluster: rows, determinism, resume, the ensemble briefing."""

from __future__ import annotations

import _thread
import json
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from corridor.scenario import Scenario
from corridor.sweep import SweepOptions, comparable_figures, plan_sweep, run_sweep, seed_list
from tests.sweep.conftest import SCENARIO, SHORT, direct_stablecoin

GRID = {"stablecoin.shocks.1.share": [0.5, 1.0]}


def _stablecoin_block(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["mode"] == "model-only"
    block = dict(summary["stablecoin"])
    assert block.pop("model").startswith("in-process StablecoinWorld")
    return block


@pytest.fixture(scope="module")
def model_sweep(tmp_path_factory: pytest.TempPathFactory):
    plan = plan_sweep(SCENARIO, seed_list(3), GRID, SHORT, "model-only")
    out = tmp_path_factory.mktemp("model") / "sweep"
    outcome = run_sweep(plan, out, SweepOptions(workers=2, progress=False))
    return plan, outcome


def test_one_row_per_run_with_parameters_seed_mode_status_and_figures(model_sweep) -> None:
    plan, outcome = model_sweep
    runs = pd.read_parquet(outcome.out / "runs.parquet")
    assert list(runs["run_id"]) == [r.run_id for r in plan.runs]
    assert set(runs["status"]) == {"ok"} and set(runs["mode"]) == {"model-only"}
    assert sorted(runs["param.stablecoin.shocks.1.share"].unique()) == [0.5, 1.0]
    assert list(runs["seed"]) == [1, 2, 3, 1, 2, 3]
    for col in (
        "stablecoin.min_price",
        "stablecoin.hours_below_0_99",
        "stablecoin.net_redemptions_pct_4d",
    ):
        assert runs[col].notna().all()
    # Freezing less of the reserves is a milder run: the trough is never deeper.
    by_share = runs.groupby("param.stablecoin.shocks.1.share")["stablecoin.min_price"].min()
    assert by_share[0.5] >= by_share[1.0]
    for run in plan.runs:
        ts = pd.read_csv(outcome.out / "runs" / run.run_id / "timeseries.csv")
        assert {"t_s", "at", "stablecoin_price", "redemptions_cum_pct"} <= set(ts.columns)
        assert ts["t_s"].iloc[-1] == 3 * 86400


def test_each_run_equals_the_stablecoin_model_run_alone(model_sweep) -> None:
    plan, outcome = model_sweep
    for run in plan.runs:
        scenario: Scenario = plan.combos[run.combo].scenario
        swept = _stablecoin_block(outcome.out / "runs" / run.run_id)
        assert comparable_figures(swept) == comparable_figures(
            direct_stablecoin(scenario, run.seed)
        )
    a, b = (_stablecoin_block(outcome.out / "runs" / r.run_id) for r in plan.runs[:2])
    assert (
        a["min_price"] != b["min_price"] or a["hours_below_0_99"] != b["hours_below_0_99"]
    )  # seeds matter


def test_resume_runs_only_what_is_missing(
    model_sweep, tmp_path: Path, cluster_address: str
) -> None:
    plan, first = model_sweep
    out = tmp_path / "copy"
    shutil.copytree(first.out, out)
    (out / "runs.parquet").unlink()
    lost = [plan.runs[1].run_id, plan.runs[4].run_id]
    for run_id in lost:
        shutil.rmtree(out / "runs" / run_id)
    outcome = run_sweep(plan, out, SweepOptions(address=cluster_address, progress=False))
    assert (outcome.ran, outcome.skipped, outcome.failed) == (2, 4, 0)
    again = pd.read_parquet(out / "runs.parquet").drop(columns=["worker", "elapsed_s", "cpu_s"])
    before = pd.read_parquet(first.out / "runs.parquet").drop(
        columns=["worker", "elapsed_s", "cpu_s"]
    )
    pd.testing.assert_frame_equal(again, before)


def test_an_interrupted_sweep_resumes_where_it_stopped(
    short_scenario: Scenario, tmp_path: Path, cluster_address: str
) -> None:
    plan = plan_sweep(SCENARIO, seed_list(12), {}, SHORT, "model-only")
    out = tmp_path / "sweep"

    def interrupt_after_first_run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((out / "runs").glob("*/run.json")):
            time.sleep(0.01)
        _thread.interrupt_main()

    watcher = threading.Thread(target=interrupt_after_first_run)
    watcher.start()
    first = run_sweep(plan, out, SweepOptions(workers=1, batch_size=1, progress=False))
    watcher.join()
    assert first.interrupted and 0 < len(first.rows) < 12
    finished = len(list((out / "runs").glob("*/run.json")))
    second = run_sweep(plan, out, SweepOptions(address=cluster_address, progress=False))
    assert not second.interrupted
    assert second.skipped == finished and second.ran == 12 - finished
    rows = pd.read_parquet(out / "runs.parquet")
    assert list(rows["seed"]) == list(range(1, 13)) and set(rows["status"]) == {"ok"}
    for run in plan.runs[-2:]:
        swept = _stablecoin_block(out / "runs" / run.run_id)
        assert comparable_figures(swept) == comparable_figures(
            direct_stablecoin(short_scenario, run.seed)
        )


def test_a_failed_run_is_recorded_with_its_reason(tmp_path: Path, cluster_address: str) -> None:
    # The second combination's stablecoin spec cannot build a world (more tokens held than
    # issued): its runs are failed rows with the reason; the first combination's finish.
    plan = plan_sweep(SCENARIO, seed_list(2), GRID, SHORT, "model-only")
    combo = plan.combos[1]
    spec = combo.scenario.stablecoin_spec
    broken = combo.scenario.model_copy()
    broken._stablecoin_spec = spec.model_copy(
        update={"issuer": spec.issuer.model_copy(update={"supply_minor": 1})}
    )
    combo.scenario = broken
    opts = SweepOptions(address=cluster_address, progress=False)
    outcome = run_sweep(plan, tmp_path / "sweep", opts)
    rows = pd.read_parquet(tmp_path / "sweep" / "runs.parquet")
    assert list(rows["status"]) == ["ok", "ok", "failed", "failed"]
    assert rows["reason"].iloc[2].startswith("SpecError") and rows["reason"].iloc[0] == ""
    assert outcome.failed == 2 and len(outcome.rows) == 4
    assert (tmp_path / "sweep" / "runs" / plan.runs[2].run_id / "error.txt").is_file()
    # Failed runs are run again on resume; finished ones are not.
    again = run_sweep(plan, tmp_path / "sweep", opts)
    assert (again.skipped, again.ran, again.failed) == (2, 2, 2)


def test_the_sweep_directory_renders_an_ensemble_briefing(model_sweep) -> None:
    from corridor.briefing import render_html

    _, outcome = model_sweep
    html = render_html(outcome.out)
    assert "ensemble briefing" in html
    for fig in ("fig-peg-fan", "fig-redemptions-fan", "fig-depeg"):
        assert f'id="{fig}"' in html and f'missing" id="{fig}"' not in html
    assert "n = 6 completed runs" in html
    assert "model-only mode" in html
