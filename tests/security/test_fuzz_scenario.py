"""Fuzz the scenario loader: any mutation of a preset (text or structure) and any override either
loads or raises ScenarioError naming the problem — never another exception."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from corridor.scenario import ScenarioError, load_scenario, load_scenario_text, parse_overrides

PRESETS_DIR = Path(__file__).resolve().parents[2] / "corridor" / "scenario" / "presets"
PRESETS = sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))
TEXTS = {name: (PRESETS_DIR / f"{name}.yaml").read_text() for name in PRESETS}
EXAMPLES = int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(),
    st.sampled_from([0, -1, 1, 2**63, -(2**63), 10**30, 7]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(["", "CN", "HKD", "2025-13-45", "1e309", "~", "-"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple, value: Any) -> None:  # type: ignore[type-arg]
    for p in path[:-1]:
        doc = doc[p]
    if value is _DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


_DELETE = object()


# Found by this fuzzer (now fixed): a non-printable character made PyYAML's reader raise before
# loader._parse_yaml's try block, so the user saw a traceback.
KNOWN_LOADER_BUGS: tuple[type[BaseException], ...] = ()


def test_non_printable_characters_are_a_scenario_error():
    with pytest.raises(ScenarioError):
        load_scenario_text("\x1f\nname: x\n", "bad.yaml")


def loads_or_says_why(text: str, overrides: dict[str, Any] | None = None) -> None:
    try:
        load_scenario_text(text, "fuzz.yaml", overrides)
    except KNOWN_LOADER_BUGS:
        assume(False)
    except ScenarioError as exc:
        assert str(exc).strip(), "a ScenarioError must say what is wrong"
        assert "Traceback" not in str(exc)


@FUZZ
@given(name=st.sampled_from(PRESETS), data=st.data())
def test_structural_mutations(name, data):
    doc = yaml.safe_load(TEXTS[name])
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        value = data.draw(st.one_of(values, st.just(_DELETE)))
        _set(doc, path, value)
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except (ValueError, yaml.YAMLError):
        return  # not representable as YAML: nothing to load
    loads_or_says_why(text)


@FUZZ
@given(name=st.sampled_from(PRESETS), data=st.data())
def test_text_mutations(name, data):
    lines = TEXTS[name].splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, max(0, len(lines) - 1)))
        op = data.draw(st.sampled_from(["drop", "dup", "garble", "indent", "insert", "truncate"]))
        if not lines:
            break
        if op == "drop":
            lines.pop(i)
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "garble":
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))] + data.draw(
                st.text(max_size=12)
            )
        elif op == "indent":
            lines[i] = " " * data.draw(st.integers(0, 7)) + lines[i].lstrip()
        elif op == "insert":
            lines.insert(i, data.draw(st.text(max_size=40)))
        else:
            lines = lines[:i]
    loads_or_says_why("\n".join(lines))


@FUZZ
@given(name=st.sampled_from(PRESETS), data=st.data())
def test_overrides(name, data):
    doc = yaml.safe_load(TEXTS[name])
    known = [".".join(str(p) for p in path) for path in _paths(doc)]
    key = data.draw(st.one_of(st.sampled_from(known), st.text(max_size=20)))
    raw = data.draw(
        st.one_of(st.text(max_size=20), st.sampled_from(["nan", "-1", "[1, 2", "{a: 1}", "1e400"]))
    )
    try:
        overrides = parse_overrides([f"{key}={raw}"])
        load_scenario(name, overrides)
    except ScenarioError as exc:
        assert str(exc).strip()


@pytest.mark.parametrize("name", PRESETS)
def test_presets_still_load(name):
    s = load_scenario(name)
    assert s is not None and not math.isnan(float(getattr(s, "seed", 0) or 0))
