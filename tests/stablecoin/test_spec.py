"""Specs: presets load, and every bad input is rejected naming its field (and line)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.stablecoin.spec import (
    PRESETS_DIR,
    SpecError,
    list_presets,
    load_preset,
    load_spec_file,
    load_stablecoin_spec,
)


def _data(name: str = "svb-2023") -> dict[str, Any]:
    return yaml.safe_load((PRESETS_DIR / f"{name}.yaml").read_text())


def _reject(data: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_stablecoin_spec(data, "test.yaml")
    return info.value


def test_all_presets_load_and_state_their_sources() -> None:
    assert set(list_presets()) == {"svb-2023", "dollar-contagion", "seed-haircut"}
    for name in list_presets():
        spec = load_preset(name)
        assert spec.name == name
        assert spec.references, f"{name} states no reference figures"
        assert all(r.source for r in spec.references)


def test_dollar_contagion_states_the_design_reference_figures(contagion) -> None:
    assert contagion.issuer.supply_minor == 17_450_000_000_000
    reserves = sum(getattr(i, "value_minor", 0) for i in contagion.reserves.instruments)
    assert reserves == 18_120_000_000_000  # $181.2B
    kinds = {i.kind: getattr(i, "value_minor", 0) for i in contagion.reserves.instruments}
    assert kinds["gold"] == 1_290_000_000_000 and kinds["bitcoin"] == 990_000_000_000
    assert kinds["tbill_ladder"] == 13_500_000_000_000
    ladder = next(i for i in contagion.reserves.instruments if i.kind == "tbill_ladder")
    assert ladder.max_days <= 93  # GENIUS Act
    yields = [s for s in contagion.shocks if s.kind == "yield_shift"]
    assert yields and yields[0].bp == 150


def test_seed_haircut_is_the_contagion_episode_plus_a_labelled_assumption(
    seed_haircut, contagion
) -> None:
    haircuts = [s for s in seed_haircut.shocks if s.kind == "assumed_reserve_haircut"]
    assert (
        len(haircuts) == 1 and haircuts[0].pct == 12 and "assumption" in haircuts[0].label.lower()
    )
    assert seed_haircut.issuer == contagion.issuer
    assert seed_haircut.reserves == contagion.reserves
    assert [s for s in seed_haircut.shocks if s.kind != "assumed_reserve_haircut"] == list(
        contagion.shocks
    )


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d["shocks"][1].update(bp=5000), "shocks[1].bp", "unknown field"),
        (
            lambda d: d["shocks"].append({"kind": "yield_shift", "at_h": 1, "bp": 5000}),
            "shocks[5].bp",
            "less than or equal",
        ),
        (lambda d: d["shocks"][1].update(bank="Lehman"), "shocks[1].bank", "unknown bank"),
        (lambda d: d["shocks"][0].update(kind="meteor"), "shocks[0]", "kind"),
        (lambda d: d["shocks"][2].pop("at_h"), "shocks[2]", "exactly one of at_h"),
        (lambda d: d["shocks"][2].update(at_h=500), "shocks[2].at_h", "after the run ends"),
        (lambda d: d["issuer"].update(supply_minr=1), "issuer.supply_minr", "unknown field"),
        (lambda d: d["issuer"].pop("supply_minor"), "issuer.supply_minor", "missing"),
        (
            lambda d: d["issuer"]["bank_hours"].update(close="08:00"),
            "issuer.bank_hours",
            "after open",
        ),
        (
            lambda d: d["issuer"]["bank_hours"].update(timezone="Mars/Olympus"),
            "issuer.bank_hours.timezone",
            "time zone",
        ),
        (
            lambda d: d["holders"][0].update(run_share=1.5),
            "holders[0].run_share",
            "less than or equal",
        ),
        (lambda d: d["holders"][0].update(flight={"cbdc": 0.5}), "holders[0].flight", "sum to 1"),
        (lambda d: d["holders"][0].update(chain="solana"), "holders[0].chain", "unknown chain"),
        (lambda d: d["holders"][0].update(balance_minor=10**15), "holders", "exceed"),
        (
            lambda d: d["market"]["venues"][0]["positions"][0].update(price_low=1.2),
            "market.venues[0].positions[0]",
            "straddle par",
        ),
        (
            lambda d: d["chains"]["ethereum"].update(tip_shares={"low": 1.0}),
            "chains.ethereum",
            "tiers",
        ),
        (lambda d: d["ramps"].update(China={}), "ramps", "two-letter"),
        (
            lambda d: d["reserves"]["curve"]["yields_pct"].update({"3q": 4.0}),
            "reserves.curve.yields_pct",
            "tenor",
        ),
        (
            lambda d: d["issuer"]["liquidity"].update(settlement_bank="Nowhere"),
            "issuer.liquidity.settlement_bank",
            "unknown bank",
        ),
    ],
)
def test_bad_specs_are_rejected_naming_the_field(mutate, field: str, words: str) -> None:
    data = copy.deepcopy(_data())
    mutate(data)
    err = _reject(data)
    assert err.field == field, str(err)
    assert words.lower() in err.message.lower(), str(err)
    assert str(err).startswith("test.yaml: ")


def test_a_bad_file_names_file_line_and_field(tmp_path: Path) -> None:
    text = (PRESETS_DIR / "svb-2023.yaml").read_text()
    text = text.replace("    bank: SVB\n", "    bank: SVBX\n", 1)
    bad = tmp_path / "episode.yaml"
    bad.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec_file(bad)
    err = info.value
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "bank: SVBX" in row)
    assert err.line == line
    assert str(err).startswith(f"{bad}:{line}: shocks[1].bank: unknown bank 'SVBX'")


def test_a_scenario_file_with_a_stablecoin_section_reports_the_prefixed_field(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "name: mine\nquestion: what if?\nstablecoin:\n  preset: svb-2023\n  step_s: 5\n"
    )
    with pytest.raises(SpecError) as info:
        load_spec_file(scenario)
    assert info.value.field == "stablecoin.step_s"
    assert info.value.line == 5


def test_preset_key_lays_changes_over_a_preset() -> None:
    spec = load_stablecoin_spec({"preset": "svb-2023", "days": 3, "issuer": {"token": "USDX"}})
    assert spec.days == 3 and spec.issuer.token == "USDX"
    assert spec.issuer.supply_minor == load_preset("svb-2023").issuer.supply_minor
    with pytest.raises(SpecError, match="unknown preset"):
        load_stablecoin_spec({"preset": "nope"})


def test_times_of_day_are_text_not_sexagesimal(svb) -> None:
    # YAML 1.1 would read 17:00 as 1020; the spec loader keeps it a time of day.
    assert svb.issuer.bank_hours.close.hour == 17


def test_chain_presets_fill_design_figures(svb) -> None:
    tron = svb.chains["tron"]
    assert (
        tron.block_time_s == 3.0 and tron.finality_blocks == 19 and tron.fee_market == "tron_energy"
    )
    eth = load_preset("dollar-contagion").chains["ethereum"]
    assert eth.block_time_s == 12.0 and eth.finality_blocks * eth.block_time_s == pytest.approx(
        768.0
    )


def test_presets_that_build_on_presets_resolve_fully() -> None:
    from services.stablecoin.spec import read_preset_data

    data = read_preset_data("seed-haircut")
    assert "preset" not in data and data["issuer"]["supply_minor"] == 17_450_000_000_000
    spec = load_stablecoin_spec({"preset": "seed-haircut", "days": 2})
    assert spec.name == "seed-haircut" and spec.days == 2
