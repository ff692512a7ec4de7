"""Scenario files: presets load, bad files say file:line: field: reason, overrides validate."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from corridor.scenario import (
    ScenarioError,
    apply_overrides,
    dump_scenario,
    list_presets,
    load_scenario,
    load_scenario_text,
    parse_overrides,
)
from corridor.scenario.schema import Scenario, ScenarioModel

PRESETS = ["baseline", "dollar-contagion", "svb-2023", "seed-haircut", "aml-typologies"]
README = Path(__file__).resolve().parents[2] / "corridor" / "scenario" / "README.md"


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(path_or_name: str, overrides: dict | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path_or_name, overrides)
    return info.value


# ---------------------------------------------------------------- presets


def test_every_issue_preset_is_shipped() -> None:
    assert set(PRESETS) <= set(list_presets())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_states_its_question(name: str) -> None:
    s = load_scenario(name)
    assert s.name == name
    assert s.question.strip().endswith("?")
    assert s.source.endswith(f"presets/{name}.yaml")
    assert s.assumptions, "a preset must state what it rests on"
    assert len(s.directed_corridors) == 20


def test_stress_presets_name_the_stablecoin_preset() -> None:
    for name in ("dollar-contagion", "svb-2023", "seed-haircut"):
        assert load_scenario(name).stablecoin == {"preset": name}


def test_seed_haircut_labels_the_twelve_percent_as_a_seed_claim() -> None:
    s = load_scenario("seed-haircut")
    claims = [a for a in s.assumptions if a.kind == "seed-claim"]
    assert claims and any("12%" in str(a.value) for a in claims)
    assert any(a.kind == "fact" and "7.7%" in str(a.value) for a in s.assumptions)


def test_dollar_contagion_cites_the_reference_figures_and_surges_tenfold() -> None:
    s = load_scenario("dollar-contagion")
    text = " ".join(f"{a.name} {a.value} {a.source}" for a in s.assumptions)
    for figure in ("181.2", "174.5", "3.9%", "9.9", "12.9", "93 days", "1270", "838"):
        assert figure in text, figure
    assert any(ev.volume_multiplier == 10 for ev in s.stress)
    assert any(ev.kind == "flight_to_safety" for ev in s.stress)


def test_extends_inherits_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: baseline\nname: mine\nquestion: Why?\ndays: 2\n")
    s = load_scenario(path)
    base = load_scenario("baseline")
    assert (s.name, s.days, s.seed) == ("mine", 2, base.seed)
    assert s.assumptions == base.assumptions


def test_defaults_fill_partial_sections(tmp_path: Path) -> None:
    s = load_scenario(
        write(
            tmp_path,
            "name: p\nquestion: q?\nkinds: {trade: {share: 0.5}}\nfx: {CNY: 7.2}\n"
            "jurisdictions: [{code: CN}, {code: SA}]\ncorridors: [{from: CN, to: SA, weight: 1}]\n",
        )
    )
    assert s.kinds.trade.share == 0.5
    assert s.kinds.trade.size.median_usd == 20_000  # the trade default survives
    assert s.fx["CNY"] == Fraction(36, 5) and s.fx["SAR"] == Fraction(15, 4)
    assert s.jurisdictions[1].weekend == ["fri", "sat"]


def test_yaml_one_one_surprises_are_avoided(tmp_path: Path) -> None:
    s = load_scenario(
        write(
            tmp_path,
            "name: t\nquestion: q?\njurisdictions:\n  - {code: CN, cutoff: 16:30}\n"
            "  - {code: HK, utc_offset: '+08:00'}\ncorridors: [{from: CN, to: HK, weight: 1e1}]\n",
        )
    )
    assert s.jurisdictions[0].cutoff == 16.5  # not 990 (YAML 1.1 base-60)
    assert s.corridors[0].weight == 10.0


@pytest.mark.parametrize("name", ["aml-typologies", "svb-2023"])
def test_dump_round_trips(tmp_path: Path, name: str) -> None:
    s = load_scenario(name)
    again = load_scenario(write(tmp_path, dump_scenario(s), "dump.yaml"))
    assert again.model_dump() == s.model_dump()


# ---------------------------------------------------------------- bad files


def test_out_of_range_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: bad\nquestion: q?\ncorridors:\n  - {from: CN, to: HK, weight: 1}\n"
        "  - from: CN\n    to: TH\n    weight: -1\n",
    )
    assert str(error_of(path)) == f"{path}:7: corridors[1].weight: must be > 0 (got -1)"


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "name: bad\nquestion: q?\nrails:\n  cbdc:\n    fee_bp: 3\n")
    err = error_of(path)
    assert (
        str(err) == f"{path}:5: rails.cbdc.fee_bp: unknown key 'fee_bp' (did you mean 'fee_bps'?)"
    )
    assert err.problems[0].line == 5 and err.problems[0].field == "rails.cbdc.fee_bp"


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "name: bad\nquestion: q?\ndays: seven\n")
    assert str(error_of(path)) == f"{path}:3: days: expected a number (got 'seven')"


def test_wrong_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "name: bad\nquestion: q?\n\ncorridors:\n  CN: HK\n")
    assert str(error_of(path)) == f"{path}:4: corridors: expected a list (got a mapping)"


def test_missing_key_points_at_the_parent_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: bad\nquestion: q?\ncorridors:\n  - {from: CN, to: HK, weight: 1}\n"
        "  - from: CN\n    weight: 2\n",
    )
    assert str(error_of(path)) == f"{path}:5: corridors[1].to: required field is missing"


def test_missing_question_is_reported_at_the_top(tmp_path: Path) -> None:
    path = write(tmp_path, "name: bad\n")
    assert str(error_of(path)) == f"{path}:1: question: required field is missing"


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: bad\nquestion: q?\ncorridors: [{from: CN, to: HK\ndays: 3\n")
    text = str(error_of(path))
    assert re.match(rf"{re.escape(path)}:\d+:\d+: YAML syntax error: ", text), text


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nquestion: q?\nseed: 1\nseed: 2\n")
    assert str(error_of(path)) == f"{path}:4: seed: duplicate key 'seed' (first given at line 3)"


def test_cross_field_problem_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: a\nquestion: q?\njurisdictions: [{code: CN}, {code: HK}]\ncorridors:\n"
        "  - {from: CN, to: HK, weight: 1}\n  - {from: CN, to: HX, weight: 1}\n",
    )
    assert str(error_of(path)) == (
        f"{path}:6: corridors[1].to: unknown jurisdiction 'HX' (did you mean 'HK'?)"
    )


def test_several_problems_are_all_reported_in_line_order(tmp_path: Path) -> None:
    path = write(tmp_path, "name: Bad Name\nquestion: q?\ndays: 0\nseed: -3\n")
    lines = str(error_of(path)).splitlines()
    assert [ln.split(":")[1] for ln in lines] == ["1", "3", "4"]


def test_error_inside_an_extended_file_names_that_file(tmp_path: Path) -> None:
    write(
        tmp_path, "name: base\nquestion: q?\nstress:\n  - {kind: panic, at_hour: 1}\n", "base.yaml"
    )
    child = write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    err = error_of(child)
    assert err.problems[0].source.endswith("base.yaml") and err.problems[0].line == 4
    assert "stress[0].kind" in str(err)


def test_unknown_preset_suggests_one() -> None:
    assert "did you mean 'baseline'?" in str(error_of("baselin"))


def test_empty_file(tmp_path: Path) -> None:
    assert ":1: the file is empty" in str(error_of(write(tmp_path, "")))


# ---------------------------------------------------------------- overrides


def test_overrides_apply_and_validate() -> None:
    s = load_scenario(
        "baseline", {"rails.cbdc.fee_bps": 5, "payments": 1234, "kinds.trade.share": 0}
    )
    assert (s.rails.cbdc.fee_bps, s.payments, s.kinds.trade.share) == (5, 1234, 0)


def test_override_with_a_bad_value_names_the_override() -> None:
    err = error_of("baseline", {"rails.cbdc.fee_bps": -1})
    assert str(err) == "overrides: rails.cbdc.fee_bps: must be >= 0 (got -1)"


def test_override_with_a_bad_key_names_itself() -> None:
    err = error_of("baseline", {"rails.cbdc.fe_bps": 1})
    assert (
        str(err) == "overrides: rails.cbdc.fe_bps: unknown key 'fe_bps' (did you mean 'fee_bps'?)"
    )


def test_override_list_index_is_checked() -> None:
    data = {"stress": [{"kind": "volume_surge", "at_hour": 1}]}
    assert apply_overrides(data, {"stress.0.at_hour": 5})["stress"][0]["at_hour"] == 5
    assert data["stress"][0]["at_hour"] == 1  # the input is not mutated
    with pytest.raises(ScenarioError, match=r"overrides: stress\.3: '3' is not an index"):
        apply_overrides(data, {"stress.3.at_hour": 5})


def test_override_into_the_free_form_stablecoin_section() -> None:
    data = apply_overrides({"stablecoin": {"chains": {}}}, {"stablecoin.chains.tron.fee": 3})
    assert data["stablecoin"]["chains"] == {"tron": {"fee": 3}}
    with pytest.raises(ScenarioError, match=r"overrides: stablecoin\.nope: is not set here"):
        apply_overrides({"stablecoin": {}}, {"stablecoin.nope.0.bp": 200})


def test_override_reaches_into_the_stablecoin_preset() -> None:
    spec = pytest.importorskip("services.stablecoin.spec")
    if "dollar-contagion" not in spec.list_presets():
        pytest.skip("the stablecoin team's dollar-contagion preset has not shipped yet")
    data = load_scenario("dollar-contagion").model_dump(mode="json", by_alias=True)
    shocks = apply_overrides(data, {})["stablecoin"].get("shocks")
    assert shocks is None  # the dump keeps the preset reference, not its content
    out = apply_overrides(data, {"stablecoin.shocks.0.note": "changed"})
    assert out["stablecoin"]["preset"] == "dollar-contagion"
    assert out["stablecoin"]["shocks"][0]["note"] == "changed"


def test_parse_overrides_reads_yaml_scalars() -> None:
    assert parse_overrides(["days=3", "rails.cbdc.available_24_7=false", "name=x"]) == {
        "days": 3,
        "rails.cbdc.available_24_7": False,
        "name": "x",
    }
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        parse_overrides(["days"])


def test_building_a_scenario_in_python_still_cross_checks() -> None:
    with pytest.raises(ValueError, match="unknown jurisdiction 'XX'"):
        Scenario.model_validate(
            {"name": "x", "question": "q", "corridors": [{"from": "CN", "to": "XX", "weight": 1}]}
        )


def test_bad_text_source_name_is_used() -> None:
    with pytest.raises(ScenarioError, match=r"^inline\.yaml:2: days: "):
        load_scenario_text("name: a\ndays: -1\nquestion: q?\n", "inline.yaml")


# ---------------------------------------------------------------- the README documents the schema


def _field_names(model: type[ScenarioModel], seen: set[type]) -> set[str]:
    names: set[str] = set()
    if model in seen:
        return names
    seen.add(model)
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for sub in _submodels(info.annotation):
            names |= _field_names(sub, seen)
    return names


def _submodels(annotation: object) -> list[type[ScenarioModel]]:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, ScenarioModel):
        return [annotation]
    out: list[type[ScenarioModel]] = []
    for arg in get_args(annotation):
        out += _submodels(arg)
    return out


def test_readme_documents_every_field() -> None:
    text = README.read_text(encoding="utf-8")
    missing = sorted(n for n in _field_names(Scenario, set()) if f"`{n}`" not in text)
    assert not missing, f"README.md does not document: {missing}"


# ---------------------------------------------------------------- the stablecoin section


def test_stablecoin_section_is_validated_by_the_stablecoin_loader(tmp_path: Path) -> None:
    pytest.importorskip("services.stablecoin.spec")
    path = write(tmp_path, "name: s\nquestion: q?\nstablecoin:\n  name: coin\n  bogus: 1\n")
    problem = error_of(path).problems[0]
    assert problem.source == path and problem.line in (3, 5)  # issuer missing, or bogus
    assert problem.field.startswith("stablecoin")


def test_stablecoin_clock_must_be_the_scenarios(tmp_path: Path) -> None:
    pytest.importorskip("services.stablecoin.spec")
    path = write(
        tmp_path,
        "name: s\nquestion: q?\nstart_at: 2025-03-10T00:00:00Z\nstablecoin:\n"
        "  name: coin\n  start_at: 2024-01-01T00:00:00Z\n",
    )
    assert str(error_of(path)).startswith(
        f"{path}:6: stablecoin.start_at: the stablecoin episode (the section) starts at "
        "2024-01-01T00:00:00+00:00 but the scenario at 2025-03-10T00:00:00+00:00"
    )


def test_the_svb_preset_shares_the_stablecoin_episode_clock() -> None:
    spec = pytest.importorskip("services.stablecoin.spec")
    if "svb-2023" not in spec.list_presets():
        pytest.skip("the stablecoin team's svb-2023 preset has not shipped yet")
    s = load_scenario("svb-2023")
    assert s.stablecoin_spec.start_at == s.start_at
    err = error_of("svb-2023", {"start_at": "2023-03-06T00:00:00Z"})
    assert "preset 'svb-2023') starts at 2023-03-10" in str(err)
