"""Corridor's scenario engine, the pure parts: scenario files, demand, rail choice, status quo.

    scenario = load_scenario("dollar-contagion", {"payments": 200_000})
    demand = DemandModel(scenario)
    choice = RailChoice(scenario)
    for batch in demand.iter_batches(chunk_s=3600):
        decision = choice.choose(batch, RailStress(peg_discount=0.02, news=0.5))
        ...

Nothing here reads the wall clock or does I/O beyond reading scenario files; every random
draw is seeded from the scenario's seed. See README.md in this directory.
"""

from corridor.scenario.correspondent import (
    CorrespondentModel,
    CorrespondentSettlement,
    SettlementStatus,
)
from corridor.scenario.demand import BUCKET_S, DemandModel, PaymentBatch
from corridor.scenario.loader import (
    ScenarioError,
    ScenarioProblem,
    apply_overrides,
    dump_scenario,
    list_presets,
    load_scenario,
    load_scenario_text,
    parse_overrides,
)
from corridor.scenario.rails import NO_RAIL, Rail, RailChoice, RailDecision, RailQuotes, RailStress
from corridor.scenario.schema import KIND_NAMES, RAIL_NAMES, Scenario
from corridor.scenario.stress import StressSchedule

__all__ = [
    "BUCKET_S",
    "KIND_NAMES",
    "NO_RAIL",
    "RAIL_NAMES",
    "CorrespondentModel",
    "CorrespondentSettlement",
    "DemandModel",
    "PaymentBatch",
    "Rail",
    "RailChoice",
    "RailDecision",
    "RailQuotes",
    "RailStress",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "SettlementStatus",
    "StressSchedule",
    "apply_overrides",
    "dump_scenario",
    "list_presets",
    "load_scenario",
    "load_scenario_text",
    "parse_overrides",
]
