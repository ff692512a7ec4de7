"""The single-run briefing: every section present with numbers taken from the data, and
every section saying "not in this run" when its file or block is missing."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from corridor.briefing import BriefingError, render_briefing, render_html
from tests.briefing.conftest import element, heading
from tests.briefing.results_fixture import FixtureRun, write_results_dir

ALL_FIGURES = (
    "fig-settlement",
    "fig-cost",
    "fig-peg",
    "fig-redemptions",
    "fig-throughput",
    "fig-rail-share",
    "fig-supervision",
    "fig-trace",
    "fig-bondmath",
)
ABSENT = "not in this run"


@pytest.fixture(scope="module")
def html(fixture_run: FixtureRun) -> str:
    return render_html(fixture_run.directory)


def test_every_figure_is_drawn_and_every_svg_is_well_formed(html: str) -> None:
    for fig in ALL_FIGURES:
        body = element(html, fig)
        assert "<svg" in body, fig
        assert ABSENT not in body, fig
    for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL):
        ET.fromstring(svg)


def test_page_is_self_contained(html: str) -> None:
    assert "Content-Security-Policy" in html
    assert "<script" not in html
    assert not re.search(r"\b(src|href)=", html)
    # The only URL is the SVG namespace.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_question_and_scenario_come_from_the_summary(html: str, fixture_run: FixtureRun) -> None:
    assert fixture_run.summary["question"].replace(">", "&gt;") in element(html, "question")
    assert "<h1>Dollar contagion</h1>" in html


def test_scorecard_rates_each_rail_from_its_payments(html: str, fixture_run: FixtureRun) -> None:
    card = element(html, "scorecard")
    p = fixture_run.payments
    for rail in ("cbdc", "stablecoin", "correspondent"):
        rows = p[p["rail"] == rail]
        within = ((rows["status"] == "settled") & (rows["settle_s"] <= 3600)).sum() / len(rows)
        row = re.search(rf'<tr data-rail="{rail}">(.*?)</tr>', card, re.DOTALL)
        assert row, rail
        cells = re.findall(r'<td class="cell ([a-z ]+)"><span class="v">([^<]*)</span>', row[1])
        speed_class, speed_text = cells[2]
        expected = "meets" if within >= 0.75 else "near" if within >= 0.5 else "misses"
        assert speed_class.strip() == expected, (rail, within, speed_class)
        assert speed_text.rstrip("%") in (f"{within * 100:.0f}", f"{within * 100:.1f}"), (
            rail,
            within,
            speed_text,
        )
    # Correspondent banking's remittance cost is far above 3%: rated a miss.
    corr = re.search(r'<tr data-rail="correspondent">(.*?)</tr>', card, re.DOTALL)[1]
    assert re.findall(r'<td class="cell ([a-z]+)', corr)[1] == "misses"


def test_takeaways_are_computed_from_the_data(html: str, fixture_run: FixtureRun) -> None:
    ts = fixture_run.timeseries
    low = ts["stablecoin_price"].min()
    t, v = ts["t_s"].to_numpy(), ts["stablecoin_price"].to_numpy()
    hours = np.diff(t)[v[:-1] < 0.99].sum() / 3600
    title = heading(html, "fig-peg")
    assert f"fell to {low:.3f}" in title
    assert re.search(r"below 0\.99 for ([\d.]+) h", title)
    shown = float(re.search(r"below 0\.99 for ([\d.]+) h", title)[1])
    assert shown == pytest.approx(hours, rel=0.05)
    peak = fixture_run.summary["throughput"]["cbdc_peak_tps"]
    assert f"{round(peak):,} payments/s" in heading(html, "fig-throughput")


def test_trace_waterfall_shows_the_example_payment(html: str, fixture_run: FixtureRun) -> None:
    example = fixture_run.summary["example_payment_id"]
    fig = element(html, "fig-trace")
    assert f"Payment {example}:" in heading(html, "fig-trace")
    for label in ("corridor-bridge · pvp.commit", "corridor-hk · ledger.post_pending"):
        assert label in fig
    assert " ms</text>" in fig


def test_assumptions_show_the_seed_claim_beside_bond_math(html: str) -> None:
    section = element(html, "assumptions")
    assert "seed-claim" in section
    assert "The seed&#x27;s 12% haircut is" in section
    assert "10-year Treasury note" in section
    assert element(html, "caveats").count("<li>") == 3


# Each case: what the run lacks, and which figures/sections must then say "not in this run".
MISSING_CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "timeseries": (
        ("timeseries.csv",),
        ("fig-peg", "fig-redemptions", "fig-throughput", "fig-rail-share"),
    ),
    "payments": (("payments.csv",), ("fig-settlement",)),
    "traces": (("traces.jsonl",), ("fig-trace",)),
    "supervision": (("summary.supervision",), ("fig-supervision",)),
    "assumptions": (("summary.assumptions", "summary.stablecoin.assumptions"), ("assumptions",)),
    "caveats": (("summary.caveats",), ("caveats",)),
    "question": (("summary.question",), ("question",)),
}


@pytest.mark.parametrize("case", sorted(MISSING_CASES))
def test_a_missing_file_or_block_says_not_in_this_run(tmp_path: Path, case: str) -> None:
    omit, absent = MISSING_CASES[case]
    run = write_results_dir(tmp_path / "run", omit=omit, n_payments=400)
    html = render_html(run.directory)
    for element_id in absent:
        assert ABSENT in element(html, element_id), (case, element_id)
    for fig in set(ALL_FIGURES) - set(absent):
        assert ABSENT not in element(html, fig), (case, fig)


def test_bond_math_uses_the_runs_own_pricing_when_reported(html: str, tmp_path: Path) -> None:
    fig = element(html, "fig-bondmath")
    assert "This run&#x27;s bills (WAM 41 days)" in fig
    assert "0.11%" in fig  # the run's portfolio loss, -0.1089%
    assert "stablecoin.bond_math" in fig
    run = write_results_dir(tmp_path / "run", omit=["summary.stablecoin.bond_math"], n_payments=300)
    fallback = element(render_html(run.directory), "fig-bondmath")
    assert "WAM 20–93 days" in fallback and "corridor.briefing.bondmath" in fallback


def test_stablecoin_model_assumptions_join_the_table_once(html: str) -> None:
    section = element(html, "assumptions")
    assert "Redemption desk hours" in section
    assert section.count("Ethereum finality") == 1


def test_without_payments_cost_falls_back_to_the_summary(tmp_path: Path) -> None:
    run = write_results_dir(tmp_path / "run", omit=["payments.csv"], n_payments=400)
    fig = element(render_html(run.directory), "fig-cost")
    assert "no per-kind split" in fig
    assert "All payments" in fig


def test_without_summary_blocks_figures_are_derived_from_the_files(tmp_path: Path) -> None:
    run = write_results_dir(
        tmp_path / "run",
        omit=[
            "summary.stablecoin",
            "summary.throughput",
            "summary.rails",
            "summary.example_payment_id",
        ],
        n_payments=400,
    )
    html = render_html(run.directory)
    assert f"fell to {run.timeseries['stablecoin_price'].min():.3f}" in heading(html, "fig-peg")
    assert f"{round(run.timeseries['cbdc_tps'].max()):,} payments/s" in heading(
        html, "fig-throughput"
    )
    assert "Payment pay-" in heading(html, "fig-trace")  # the first payment in the traces
    assert '<tr data-rail="cbdc">' in element(html, "scorecard")


def test_with_no_summary_at_all_the_page_still_renders(tmp_path: Path) -> None:
    run = write_results_dir(tmp_path / "run", omit=["summary.json"], n_payments=400)
    html = render_html(run.directory)
    assert ABSENT in element(html, "question")
    assert ABSENT in element(html, "assumptions")
    assert "<svg" in element(html, "fig-settlement")


def test_invariant_violation_is_the_first_finding(tmp_path: Path) -> None:
    run = write_results_dir(tmp_path / "run", n_payments=300)
    summary = run.directory / "summary.json"
    summary.write_text(summary.read_text().replace('"ok": true', '"ok": false'))
    html = render_html(run.directory)
    findings = element(html, "question")
    assert findings.index("invariants were violated") < findings.index("Delivered within 1 hour")
    assert "ledger invariants violated" in html


def test_bad_input_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(BriefingError, match="results directory not found"):
        render_html(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BriefingError, match="no results in"):
        render_html(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text('{\n  "scenario": "x",\n  oops\n}')
    with pytest.raises(BriefingError, match=r"summary\.json: line 3"):
        render_html(broken)


def test_render_briefing_writes_the_html_where_asked(
    fixture_run: FixtureRun, tmp_path: Path
) -> None:
    files = render_briefing(fixture_run.directory, out=tmp_path / "out" / "brief.html")
    assert files.html == tmp_path / "out" / "brief.html"
    assert files.pdf is None and not files.sweep
    assert files.html.read_text().startswith("<!DOCTYPE html>")


def test_payments_are_read_from_parquet_when_that_is_what_the_run_wrote(tmp_path: Path) -> None:
    run = write_results_dir(tmp_path / "run", n_payments=300)
    run.payments.to_parquet(run.directory / "payments.parquet")
    (run.directory / "payments.csv").unlink()
    html = render_html(run.directory)
    assert "<svg" in element(html, "fig-settlement")
    assert "Source: payments.parquet" in element(html, "fig-settlement")


def test_a_run_without_the_seed_claim_says_it_priced_reserves(tmp_path: Path) -> None:
    run = write_results_dir(tmp_path / "run", n_payments=300)
    summary_path = run.directory / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["assumptions"] = [a for a in summary["assumptions"] if a["kind"] != "seed-claim"]
    summary_path.write_text(json.dumps(summary))
    fig = element(render_html(run.directory), "fig-bondmath")
    assert "do not include the seed claim" in fig
    assert "The seed&#x27;s 12% haircut" in fig  # the comparison is still drawn


def test_the_seed_claim_value_is_read_as_stated(tmp_path: Path) -> None:
    run = write_results_dir(tmp_path / "run", n_payments=300)
    summary_path = run.directory / "summary.json"
    summary = json.loads(summary_path.read_text())
    for a in summary["assumptions"]:
        if a["kind"] == "seed-claim":
            a["value"] = "15%"
    summary_path.write_text(json.dumps(summary))
    assert "The seed&#x27;s 15% haircut" in element(render_html(run.directory), "fig-bondmath")


def test_scenario_slugs_become_titles() -> None:
    from corridor.briefing.run_page import scenario_title

    assert scenario_title("svb-2023") == "SVB 2023"
    assert scenario_title("aml-typologies") == "AML typologies"
    assert scenario_title("dollar-contagion") == "Dollar contagion"
    assert scenario_title("run_of_the_mill") == "Run of the mill"
