"""The `supervision` block of a run whose scenario plants laundering typologies.

CBDC rail: scored on this run's OWN traffic. `corridor.scenario.injection` settles the planted
cases as real payments through the run's nodes and bridge, beside the run's own payments (the
normal background); the supervision service follows every ledger's posting feed and raises
alerts; here they are scored against the planted cases with the supervision team's scoring
(`services.supervision.evaluate.score`: case-level matching, alerts on the run's own payments
count as false alarms, alerts on a case of another typology are reported, not counted).

Detection delay runs from the business time at which the case's last pattern payment actually
SETTLED on the run's ledgers (a planted payment the ledger refused does not count) to the alert's
business time; 0 when the detector fired on arrival or before the pattern was complete (those
are counted in `detail.detected_before_end`, see services/supervision/evaluate.py).

Stablecoin rail: NOT this run's chain. The run's stablecoin rail settles its transfers on its own
chain model, which the supervision service does not follow, and planted cases cannot settle on
our ledgers. The stablecoin figures are the supervision team's offline model: a seeded week of
chain traffic (with confounders) plus planted cases, judged by the same streaming detectors fed
in perfect business-time order in one process (no feeds, no merge, no concurrency). Detection is
independent of the labels (the detectors never see them; only scoring does), but the injector
and the detectors were written from the same typology definitions, hence the near-perfect
scores. `source` and `independent_of_this_run` say so in summary.json.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from corridor.scenario.schema import Scenario

SOURCE = "this run's ledgers via the supervision service's live feeds"
STABLECOIN_SOURCE = (
    "seeded typology model of services/supervision (chain traffic with confounders + planted "
    "cases; a chain is not settled through this run's ledgers)"
)
STABLECOIN_CAVEAT = (
    "not measured on this run: the supervision service does not follow the run's chain; the "
    "seeded model's postings are fed to the detectors in perfect business-time order in one "
    "process, and its injector was written from the detectors' own typology definitions"
)
STABLECOIN_MODEL_SCALE = 0.25
STABLECOIN_CASES = 6


def supervision_block(
    s: Scenario, live: Any = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(summary block, alert rows) or (None, []) when the scenario injects no typologies.

    `live` is the `injection.LiveResult` of the run (None when the injection did not run)."""
    sup = s.supervision
    if sup is None or not sup.typologies:
        return None, []
    wanted = [t.name for t in sup.typologies]
    block: dict[str, Any] = {"typologies_requested": wanted, "source": SOURCE, "rails": {}}
    rows: list[dict[str, Any]] = []
    if live is None:
        block["source"] = "not run: the injection did not complete"
    else:
        cbdc, rows = _cbdc(s, live, wanted)
        block["rails"]["cbdc"] = cbdc
        block.update(_settlement(live))
    block["rails"]["stablecoin"] = _stablecoin_model(s, wanted)
    return block, rows


# ----------------------------------------------------------------------------- CBDC, live
def _settled_pattern_end(live: Any) -> dict[str, float]:
    """Per case, the business time its last pattern payment settled on the run's ledgers: the
    last settled payment at or before the planned pattern end (placement loads and the cash-out
    after it are not the pattern; a payment the ledger refused is not there to be detected)."""
    planned = {c.case_id: c.pattern_end_at for c in live.plan.cases}
    out: dict[str, float] = {}
    for e, o, at in live.outcomes:
        if o.ok and e.action == "pay" and e.case_id in planned and e.at <= planned[e.case_id]:
            out[e.case_id] = max(out.get(e.case_id, at), at)
    return out


def _real_cases(live: Any, shift: float) -> list[Any]:
    """The planted cases in the run's ids and business time (world time + `shift`)."""
    plan, real = live.plan, live.real
    settled_end = _settled_pattern_end(live)
    out = []
    for c in plan.cases:
        out.append(
            replace(
                c,
                wallets=frozenset(real[w] for w in c.wallets if w in real),
                transfer_ids=frozenset(live.case_transfers.get(c.case_id, ())),
                start_at=c.start_at + shift,
                end_at=c.end_at + shift,
                pattern_end_at=settled_end.get(c.case_id, c.pattern_end_at + shift),
                entry_accounts=tuple(real.get(a, a) for a in c.entry_accounts),
                exit_accounts=tuple(real.get(a, a) for a in c.exit_accounts),
            )
        )
    return out


def _resolver(live: Any) -> Any:
    """Identity as the feeds show it: every settled planted wallet appears with its KYC tier."""
    from services.supervision.identity import IdentityResolver
    from services.supervision.postings import Posting

    r = IdentityResolver()
    for e, out, at in live.outcomes:
        if not out.ok:
            continue
        for w in (e.payer, e.payee):
            if w is not None and w.id in live.real:
                rid = live.real[w.id]
                r.observe(Posting(w.jurisdiction, 0, "", "", rid, rid, 1, w.currency, e.kind, at,
                                  w.jurisdiction, w.jurisdiction, w.tier, w.tier))  # fmt: skip
    return r


def _cbdc(s: Scenario, live: Any, wanted: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from services.supervision.evaluate import GRACE_S, RunResult, _CaseIndex, score
    from services.supervision.typologies import WARMUP_S, SupervisionScenario

    start = s.start_epoch_s
    cases = _real_cases(live, start - live.plan.t0)
    scenario = SupervisionScenario(
        seed=s.seed, scale=1.0, start_at=start, end_at=start + s.horizon_s, warmup_s=WARMUP_S,
        postings=[], cases=cases, watch_list=frozenset(), known_services=frozenset(),
    )  # fmt: skip
    rail = score(RunResult(scenario, live.alerts, _resolver(live), 0.0, 0.0))["cbdc"]
    planted = [t for t in wanted if t not in live.plan.unsupported]
    rail["typologies"] = {k: v for k, v in rail["typologies"].items() if k in planted}
    rail["detail"] = {k: v for k, v in rail["detail"].items() if k in planted}
    index = _CaseIndex(cases, GRACE_S)
    warm = start + WARMUP_S
    rows = []
    for a in live.alerts:
        hits = index.overlapping(a)
        same = [c for c in hits if c.typology == a.typology]
        verdict = (
            "warm-up"
            if a.raised_at < warm
            else "hit"
            if same
            else "other case"
            if hits
            else "false alarm"
        )
        rows.append({
            "alert_id": a.alert_id, "typology": a.typology, "rail": a.rail, "score": round(a.score, 4),
            "raised_at": datetime.fromtimestamp(a.raised_at, tz=UTC).isoformat(),
            "raised_at_s": round(a.raised_at - start, 1), "verdict": verdict,
            "case_ids": " ".join(sorted(c.case_id for c in hits)), "subjects": " ".join(a.subjects[:5]),
        })  # fmt: skip
    verdicts = Counter(r["verdict"] for r in rows)
    rail["alerts"] = {"total": len(rows), **dict(sorted(verdicts.items())),
                      "by_typology": dict(sorted(Counter(a.typology for a in live.alerts).items()))}  # fmt: skip
    rail["unsupported_typologies"] = live.plan.unsupported
    rail["detection_delay_basis"] = (
        "alert business time - business time the case's last pattern payment settled, "
        "floored at 0 (detail.detected_before_end: cases caught before it)"
    )
    rail["source"] = SOURCE
    return rail, rows


def _settlement(live: Any) -> dict[str, Any]:
    """How the planted traffic went through the real services."""
    pays = [(e, o) for e, o, _ in live.outcomes if e.action == "pay"]
    failed = Counter(o.reason for e, o in pays if not o.ok)
    cross = sum(1 for e, o in pays if o.ok and e.payer.jurisdiction != e.payee.jurisdiction)
    return {
        "planted_cases": len(live.plan.cases),
        "planted_cases_by_typology": dict(
            sorted(Counter(c.typology for c in live.plan.cases).items())
        ),
        "planted_wallets": len(live.real),
        "planted_payments": len(pays),
        "planted_payments_settled": sum(1 for _, o in pays if o.ok),
        "planted_cross_border_settled": cross,
        "planted_payments_failed": dict(failed.most_common()),
        "planted_payments_failed_by_typology": _failed_by_typology(live),
        "planted_loads": sum(1 for e, o, _ in live.outcomes if e.action == "load" and o.ok),
        "topups": live.topups,
        "clipped_to_balance": live.clipped,
        "planted_payment_ids": sorted({p for ps in live.case_payments.values() for p in ps}),
        "feeds": live.feeds,
        "feeds_caught_up": live.caught_up,
        "alerts_truncated": live.alerts_truncated,
    }


def _failed_by_typology(live: Any) -> dict[str, dict[str, int]]:
    typ = {c.case_id: c.typology for c in live.plan.cases}
    out: dict[str, Counter[str]] = {}
    for e, o, _ in live.outcomes:
        if e.action == "pay" and not o.ok:
            out.setdefault(typ.get(e.case_id, "population"), Counter())[o.reason] += 1
    return {k: dict(v.most_common()) for k, v in sorted(out.items())}


# ----------------------------------------------------------------------------- stablecoin, model
def _stablecoin_model(s: Scenario, wanted: list[str]) -> dict[str, Any]:
    from services.supervision.evaluate import run_detection, score
    from services.supervision.typologies import STABLECOIN_TYPOLOGIES, build_scenario

    typs = [t for t in wanted if t in STABLECOIN_TYPOLOGIES]
    if not typs:
        return {"typologies": {}, "source": STABLECOIN_SOURCE, "independent_of_this_run": True}
    world = build_scenario(
        seed=s.seed, scale=STABLECOIN_MODEL_SCALE,
        cases_per_typology={f"stablecoin:{t}": STABLECOIN_CASES for t in typs},
    )  # fmt: skip
    rail = score(run_detection(world))["stablecoin"]
    rail["typologies"] = {k: v for k, v in rail["typologies"].items() if k in typs}
    rail["detail"] = {k: v for k, v in rail["detail"].items() if k in typs}
    rail["source"] = STABLECOIN_SOURCE
    rail["independent_of_this_run"] = True
    rail["caveat"] = STABLECOIN_CAVEAT
    rail["model_postings"] = len(world.postings)
    return rail
