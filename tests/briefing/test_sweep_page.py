"""The ensemble briefing: depeg probability per shock size, fans across runs, settlement
quantiles, the number of runs behind each figure, and failed runs kept out."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridor.briefing import render_briefing, render_html
from corridor.briefing.sweep_page import param_label, wilson_interval
from tests.briefing.conftest import element, heading

SHOCK = "param.stablecoin.shocks.0.bp"


@pytest.fixture(scope="module")
def html(sweep_dir: Path) -> str:
    return render_html(sweep_dir)


def expected_depeg(runs: pd.DataFrame) -> dict[int, tuple[int, int]]:
    ok = runs[runs["status"] == "ok"]
    return {
        int(shock): (int((g["stablecoin.hours_below_0_99"] > 24).sum()), len(g))
        for shock, g in ok.groupby(SHOCK)
    }


def test_sweep_is_detected_and_every_svg_is_well_formed(sweep_dir: Path, html: str) -> None:
    assert "ensemble briefing" in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL):
        ET.fromstring(svg)
    files = render_briefing(sweep_dir, out=sweep_dir / "out.html")
    assert files.sweep


def test_depeg_probability_per_shock_with_runs_behind_each(sweep_dir: Path, html: str) -> None:
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    fig = element(html, "fig-depeg")
    for shock, (k, n) in expected_depeg(runs).items():
        assert f"{shock} bp" in fig
        assert f"{k} of {n} runs" in fig
    assert "n = 11 completed runs" in fig


def test_failed_runs_are_counted_listed_and_left_out(sweep_dir: Path, html: str) -> None:
    assert "1 did not complete" in html
    runs_section = element(html, "runs")
    assert "run-011" in runs_section and "did not start within 30 s" in runs_section
    assert "n = 11 completed runs" in element(html, "fig-peg-fan")


def test_fan_takeaway_is_the_median_trough_across_runs(sweep_dir: Path, html: str) -> None:
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    ok = runs[runs["status"] == "ok"]
    troughs = [
        pd.read_csv(sweep_dir / "runs" / rid / "timeseries.csv")["stablecoin_price"].min()
        for rid in ok["run_id"]
    ]
    # Resampling onto a common grid can shave a sample point off a trough: allow 0.01.
    shown = float(re.search(r"Median trough ([\d.]+)", heading(html, "fig-peg-fan"))[1])
    assert shown == pytest.approx(float(np.median(troughs)), abs=0.01)
    assert "<polygon" in element(html, "fig-peg-fan")  # the quantile bands
    assert "<polygon" in element(html, "fig-redemptions-fan")


def test_settlement_quantiles_per_rail(sweep_dir: Path, html: str) -> None:
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    fig = element(html, "fig-settlement-quantiles")
    for label in ("CBDC (mBridge) · median", "USD stablecoin · 99th pct", "Correspondent banks"):
        assert label in fig
    assert fig.count("n = 11") >= 6
    median_cbdc = runs["rails.cbdc.p50_settle_s"].dropna().median()
    assert f"CBDC {median_cbdc:.2g} s" in heading(html, "fig-settlement-quantiles")


def test_ensemble_scorecard_counts_runs_meeting_each_target(sweep_dir: Path, html: str) -> None:
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    ok = runs[runs["status"] == "ok"]
    met = int((ok["rails.stablecoin.share_within_1h"] >= 0.75).sum())
    card = element(html, "scorecard")
    assert f"met in {met} of {len(ok)} runs" in card


def test_hours_below_are_derived_from_timeseries_when_runs_parquet_lacks_them(
    sweep_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    runs = pd.read_parquet(copy / "runs.parquet")
    expected = expected_depeg(runs)
    runs.drop(columns=["stablecoin.hours_below_0_99"]).to_parquet(copy / "runs.parquet")
    fig = element(render_html(copy), "fig-depeg")
    for shock, (k, n) in expected.items():
        assert f"{k} of {n} runs" in fig, shock
    assert "Source: runs/*/timeseries.csv" in fig


def test_sweep_without_run_directories_keeps_what_runs_parquet_can_show(
    sweep_dir: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(sweep_dir / "runs.parquet", bare / "runs.parquet")
    html = render_html(bare)
    assert "not in this run" in element(html, "fig-peg-fan")
    assert "not in this run" in element(html, "assumptions")
    assert "<svg" in element(html, "fig-depeg")
    assert "<svg" in element(html, "fig-settlement-quantiles")


def test_wilson_interval_is_honest_at_the_edges() -> None:
    lo, hi = wilson_interval(0, 4)
    assert lo == 0.0 and hi == pytest.approx(3.8415 / (4 + 3.8415), abs=1e-3)
    lo, hi = wilson_interval(4, 4)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(4 / (4 + 3.8415), abs=1e-3)
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)


def test_param_labels_read_like_words() -> None:
    assert param_label(SHOCK) == "stablecoin shock (bp)"


def test_hours_below_per_shock_show_the_distribution_behind_the_probability(
    sweep_dir: Path, html: str
) -> None:
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    ok = runs[runs["status"] == "ok"]
    fig = element(html, "fig-hours-below")
    for shock, group in ok.groupby(SHOCK):
        median = float(group["stablecoin.hours_below_0_99"].median())
        assert f"n = {len(group)}" in fig
        assert f"median {median:.2g} h".replace(".0 h", " h") in fig or (
            f"median {round(median)} h" in fig
        ), (shock, median)
    assert "24 h" in fig
