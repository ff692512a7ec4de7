"""What a sweep will run, decided and validated before anything runs.

A sweep is the cartesian product of a parameter grid (dotted paths into the scenario schema,
the same paths `corridor simulate --set` takes) times a list of seeds. Each (parameters, seed)
is one *run*. Every grid value is validated first on its own (so a bad key or value names
itself), then every combination is loaded as the full scenario it makes; a problem in either
stops the sweep before a single run starts.

A run's id is a hash of what determines its result — the mode, the resolved scenario of its
combination and its seed — so re-running the same command finds the runs already finished,
and growing the grid later keeps the ids of the runs already made.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import yaml

from corridor.scenario.loader import ScenarioError, load_scenario, parse_overrides
from corridor.scenario.schema import Scenario
from corridor.sweep.runs import RunSpec, plain, show

MODES = ("services", "model-only")
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class SweepError(ValueError):
    """A sweep that cannot start; ``str()`` is one problem per line, each naming its input."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Combo:
    """One point of the grid: its overrides and the scenario they make (seed not yet applied)."""

    index: int
    params: dict[str, Any]
    scenario: Scenario
    data: dict[str, Any]  # the resolved scenario as plain data (what scenario.yaml records)

    def scenario_yaml(self, seed: int | None = None) -> str:
        """The resolved scenario as YAML, with ``seed`` set when given: loading it (plus
        ``--seed``) gives the scenario of the run."""
        data = self.data if seed is None else {**self.data, "seed": seed}
        return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class SweepPlan:
    scenario: str  # what the user named (a preset or a file)
    mode: str
    seeds: list[int]
    grid: dict[str, list[Any]]
    sets: dict[str, Any]
    combos: list[Combo] = field(default_factory=list)
    runs: list[RunSpec] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        """What sweep.json records: enough to read the results without the command line."""
        return {
            "scenario": self.scenario,
            "scenario_name": self.combos[0].scenario.name if self.combos else None,
            "mode": self.mode,
            "seeds": self.seeds,
            "grid": {k: [plain(v) for v in vs] for k, vs in self.grid.items()},
            "set": {k: plain(v) for k, v in self.sets.items()},
            "runs": len(self.runs),
            "combinations": [
                {
                    "index": c.index,
                    "params": {k: plain(v) for k, v in c.params.items()},
                    "scenario_file": f"scenarios/{c.index:04d}.yaml",
                }
                for c in self.combos
            ],
        }


# --------------------------------------------------------------------------- grid syntax


def split_values(raw: str) -> list[str]:
    """``"1,2,[a,b]"`` -> ``["1", "2", "[a,b]"]``: commas inside brackets, braces or quotes
    do not split, so a list-valued key can be swept too."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current = ""
    for ch in raw:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def parse_grid(entries: list[str]) -> dict[str, list[Any]]:
    """``["stablecoin.shocks.1.share=0.5,1.0", "days=3,7"]`` -> ``{key: [values]}``.

    Values are read as YAML scalars exactly as ``--set`` reads them."""
    grid: dict[str, list[Any]] = {}
    problems: list[str] = []
    for entry in entries:
        key, sep, raw = entry.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            problems.append(
                f"--grid {entry!r}: expected KEY=V1,V2,... e.g. rails.cbdc.fee_bps=5,10"
            )
            continue
        if key in grid:
            problems.append(f"--grid {key}: given twice; list all its values in one --grid")
            continue
        if key == "seed":
            problems.append("--grid seed: seeds are swept with --seeds N (and --seed-start)")
            continue
        values: list[Any] = []
        for piece in split_values(raw):
            if not piece:
                problems.append(f"--grid {key}={raw}: an empty value (two commas in a row?)")
                continue
            try:
                values.append(parse_overrides([f"{key}={piece}"])[key])
            except ScenarioError as exc:
                problems.append(f"--grid {key}={piece}: {exc}")
        if len({repr(v) for v in values}) != len(values):
            problems.append(f"--grid {key}={raw}: a value is repeated")
        grid[key] = values
    if problems:
        raise SweepError(problems)
    return grid


# --------------------------------------------------------------------------- planning


def plan_sweep(
    scenario: str,
    seeds: list[int],
    grid: dict[str, list[Any]],
    sets: dict[str, Any] | None = None,
    mode: str = "services",
) -> SweepPlan:
    """Validate everything and list the runs; raises SweepError naming every bad input."""
    sets = dict(sets or {})
    problems: list[str] = []
    if mode not in MODES:
        problems.append(f"--mode {mode}: unknown mode (known: {', '.join(MODES)})")
    if not seeds:
        problems.append("--seeds: at least one seed is needed")
    if len(set(seeds)) != len(seeds):
        problems.append("--seeds: a seed is repeated")
    for key in grid:
        if key in sets:
            problems.append(f"--grid {key}: also given with --set; sweep it or fix it, not both")
    if problems:
        raise SweepError(problems)
    loaded: dict[str, Scenario] = {}

    def load(overrides: dict[str, Any]) -> Scenario:
        # A one-key grid's combinations are its single values: load each scenario once.
        memo = repr(sorted(overrides.items(), key=lambda kv: kv[0]))
        if memo not in loaded:
            loaded[memo] = load_scenario(scenario, overrides or None)
        return loaded[memo]

    try:
        load(sets)
    except ScenarioError as exc:
        raise SweepError([str(exc)]) from None
    except FileNotFoundError as exc:
        raise SweepError([f"--scenario {scenario}: {exc}"]) from None
    # Each value alone first: an error then names the one value that causes it.
    for key, values in grid.items():
        for value in values:
            try:
                load({**sets, key: value})
            except ScenarioError as exc:
                problems += [f"--grid {key}={show(value)}: {p}" for p in exc.problems]
    if problems:
        raise SweepError(problems)
    plan = SweepPlan(scenario, mode, list(seeds), grid, sets)
    keys = list(grid)
    for index, point in enumerate(itertools.product(*(grid[k] for k in keys))):
        params = dict(zip(keys, point, strict=True))
        try:
            s = load({**sets, **params})
        except ScenarioError as exc:
            where = ", ".join(f"{k}={show(v)}" for k, v in params.items())
            problems += [f"--grid combination {where}: {p}" for p in exc.problems]
            continue
        if mode == "model-only" and not _has_stablecoin_model(s):
            problems.append(
                f"--mode model-only: scenario {s.name!r} has no stablecoin section (or the "
                "stablecoin model is not installed); model-only runs the stablecoin model alone"
            )
            break
        plan.combos.append(Combo(index, params, s, s.model_dump(mode="json", by_alias=True)))
    if problems:
        raise SweepError(problems)
    for combo in plan.combos:
        text = combo.scenario_yaml()
        for seed in seeds:
            digest = hashlib.sha256(f"{mode}\n{text}\nseed={seed}".encode()).hexdigest()[:10]
            plan.runs.append(
                RunSpec(f"s{seed}-{digest}", combo.index, seed, tuple(combo.params.items()))
            )
    return plan


def seed_list(count: int, start: int = 1) -> list[int]:
    return list(range(start, start + count))


def _has_stablecoin_model(s: Scenario) -> bool:
    spec = s.stablecoin_spec
    return spec is not None and not isinstance(spec, dict)
