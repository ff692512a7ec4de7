"""The `supervision` block of a run whose scenario injects typologies.

What runs: the supervision service's seeded typology world (services/supervision: normal corridor
traffic with confounders on both rails, planted laundering cases, every detector fed postings in
business-time order, scored per typology and rail). It is seeded from the scenario's seed, so a
run is reproducible. It is NOT yet this run's own payments: planted cases are not settled through
the run's ledgers. The block says so in `source`, and the briefing prints it.
"""

from __future__ import annotations

from typing import Any

from corridor.scenario.schema import Scenario

SOURCE = (
    "seeded typology world of services/supervision (normal traffic with confounders + planted "
    "cases, both rails), seeded from the scenario; not settled through this run's ledgers"
)


def supervision_block(s: Scenario) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(summary block, alert rows) or (None, []) when the scenario injects no typologies."""
    sup = s.supervision
    if sup is None or not sup.typologies:
        return None, []
    from services.supervision.evaluate import build_scenario, run_detection, score

    world = build_scenario(seed=s.seed, scale=1.0)
    result = run_detection(world)
    rails = score(result)
    wanted = {t.name for t in sup.typologies}
    for rail in rails.values():
        typ = rail.get("typologies", {})
        rail["typologies"] = {k: v for k, v in typ.items() if k in wanted} or typ
    block = {
        "rails": rails,
        "typologies_requested": sorted(wanted),
        "postings": len(world.postings),
        "planted_cases": len(world.cases),
        "alerts": len(result.alerts),
        "source": SOURCE,
    }
    alerts = [
        {"alert_id": a.alert_id, "typology": a.typology, "rail": a.rail, "score": round(a.score, 4),
         "raised_at_s": a.raised_at - world.start_at, "subjects": " ".join(a.subjects[:5])}
        for a in result.alerts
    ]  # fmt: skip
    return block, alerts
