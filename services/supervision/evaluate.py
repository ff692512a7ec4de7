"""Score the detectors on a seeded corridor with planted typologies, in time order.

Protocol (see README.md, "Metrics"):
1. `build_scenario(seed, scale)` writes a week of normal traffic on both rails and plants cases.
2. Postings are fed to one `DetectorSuite` strictly in business-time order (feed order within a
   ledger); the suite sees each posting once and never a later one. The identity resolver reads
   the same feed.
3. Alerts raised during the first day (the detectors' warm-up, no case starts in it) are dropped.
4. Matching is case-level. An alert *overlaps* a planted case when one of its subjects is a case
   wallet or one of its evidence transfers is a case transfer, and it was raised inside the case
   window [case start, case end + grace].
   - recall(typology) = planted cases of that typology overlapped by an alert of that typology
     / planted cases of that typology;
   - precision(typology) = alerts of that typology overlapping a case of that typology / (those
     + alerts of that typology overlapping no case at all). An alert that lands on a case of
     another typology (scatter-gather is also a fan-out and a fan-in) is real laundering, so it is
     neither a hit nor a false alarm for this typology; it is reported as `cross_typology_alerts`;
   - detection_delay_s = median over detected cases of max(0, first matching alert's raised_at -
     the time of the case's last planted pattern posting: the last structured payment, the last
     mule forward, the hop that closes the loop; placement before and cash-out after are not the
     pattern). A detector that fires on arrival scores ~0. An alert BEFORE the last pattern
     posting is real (a structuring payer is flagged at its third near-threshold payment of up to
     six) and counts 0 here; `detail.detected_before_end` counts those cases and
     `detail.median_lead_s` says how much earlier they were caught.
5. penetration_rate(rail) = laundered value of the rail's planted cases (detected or not) whose
   entry or exit account traces to a real identity / total laundered value (see identity.py).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

from services.supervision.detectors import Alert, DetectorPolicy, DetectorSuite
from services.supervision.identity import IdentityResolver
from services.supervision.postings import CBDC_RAIL, RAILS, STABLECOIN_RAIL
from services.supervision.typologies import (
    CBDC_TYPOLOGIES,
    STABLECOIN_TYPOLOGIES,
    PlantedCase,
    SupervisionScenario,
    build_scenario,
)

GRACE_S = 86_400.0  # an alert up to a day after the scheme's last posting still counts
RAIL_TYPOLOGIES = {CBDC_RAIL: CBDC_TYPOLOGIES, STABLECOIN_RAIL: STABLECOIN_TYPOLOGIES}


@dataclass
class RunResult:
    scenario: SupervisionScenario
    alerts: list[Alert]
    resolver: IdentityResolver
    detect_s: float  # wall-clock seconds in the detection loop
    detect_cpu_s: float  # CPU seconds of this process in it (steady under a busy machine)


def run_detection(scenario: SupervisionScenario, policy: DetectorPolicy | None = None) -> RunResult:
    """Feed the scenario's postings to a fresh suite in order; collect every alert."""
    suite = DetectorSuite(scenario.policy(policy))
    resolver = IdentityResolver()
    alerts: list[Alert] = []
    observe = suite.observe
    started, cpu_started = time.perf_counter(), time.process_time()
    for p in scenario.postings:
        found = observe(p)
        if found:
            alerts.extend(found)
    alerts.extend(suite.flush())
    detect_s = time.perf_counter() - started
    detect_cpu_s = time.process_time() - cpu_started
    for p in scenario.postings:
        resolver.observe(p)
    return RunResult(scenario, alerts, resolver, detect_s, detect_cpu_s)


class _CaseIndex:
    def __init__(self, cases: list[PlantedCase], grace_s: float) -> None:
        self.grace_s = grace_s
        self.by_account: dict[str, list[PlantedCase]] = defaultdict(list)
        self.by_transfer: dict[str, list[PlantedCase]] = defaultdict(list)
        for c in cases:
            for w in c.wallets:
                self.by_account[w].append(c)
            for t in c.transfer_ids:
                self.by_transfer[t].append(c)

    def overlapping(self, a: Alert) -> list[PlantedCase]:
        found: dict[str, PlantedCase] = {}
        for s in a.subjects:
            for c in self.by_account.get(s, ()):
                found[c.case_id] = c
        for t in a.evidence:
            for c in self.by_transfer.get(t, ()):
                found[c.case_id] = c
        return [c for c in found.values() if c.start_at <= a.raised_at <= c.end_at + self.grace_s]


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def score(result: RunResult, grace_s: float = GRACE_S) -> dict:
    """Per-rail, per-typology precision/recall/F1/delay, penetration, and counts."""
    scenario = result.scenario
    index = _CaseIndex(scenario.cases, grace_s)
    warm_at = scenario.start_at + scenario.warmup_s
    alerts = [a for a in result.alerts if a.raised_at >= warm_at]
    rails: dict[str, dict] = {}
    for rail in RAILS:
        cases = [c for c in scenario.cases if c.rail == rail]
        typologies: dict[str, dict] = {}
        detail: dict[str, dict] = {}
        for typology in RAIL_TYPOLOGIES[rail]:
            mine = [c for c in cases if c.typology == typology]
            first_hit: dict[str, float] = {}
            true_alerts = false_alerts = cross = 0
            for a in alerts:
                if a.typology != typology or a.rail != rail:
                    continue
                hits = index.overlapping(a)
                same = [c for c in hits if c.typology == typology and c.rail == rail]
                if same:
                    true_alerts += 1
                    for c in same:
                        if c.case_id not in first_hit or a.raised_at < first_hit[c.case_id]:
                            first_hit[c.case_id] = a.raised_at
                elif hits:
                    cross += 1
                else:
                    false_alerts += 1
            judged = true_alerts + false_alerts
            precision = true_alerts / judged if judged else 0.0
            recall = len(first_hit) / len(mine) if mine else 0.0
            raw = [first_hit[c.case_id] - c.pattern_end_at for c in mine if c.case_id in first_hit]
            leads = [-d for d in raw if d < 0]
            typologies[typology] = {
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(_f1(precision, recall), 4),
                "detection_delay_s": (
                    round(statistics.median(max(0.0, d) for d in raw), 1) if raw else None
                ),
            }
            detail[typology] = {
                "cases": len(mine),
                "detected": len(first_hit),
                "alerts": true_alerts + false_alerts + cross,
                "true_alerts": true_alerts,
                "false_alerts": false_alerts,
                "cross_typology_alerts": cross,
                "detected_before_end": len(leads),
                "median_lead_s": round(statistics.median(leads), 1) if leads else None,
            }
        rails[rail] = {
            "typologies": typologies,
            "penetration_rate": round(_penetration(cases, result.resolver)["either_end"], 4),
            "penetration": _penetration(cases, result.resolver),
            "detail": detail,
        }
    return rails


def _penetration(cases: list[PlantedCase], resolver: IdentityResolver) -> dict:
    total = either = both = 0.0
    for c in cases:
        entry = any(resolver.identified(a) for a in c.entry_accounts)
        leave = any(resolver.identified(a) for a in c.exit_accounts)
        total += c.laundered_value_cny
        if entry or leave:
            either += c.laundered_value_cny
        if entry and leave:
            both += c.laundered_value_cny
    return {
        "either_end": either / total if total else 0.0,
        "both_ends": round(both / total, 4) if total else 0.0,
        "laundered_value_cny": round(total, 2),
    }


def run_evaluation(seed: int = 7, scale: float = 1.0, policy: DetectorPolicy | None = None) -> dict:
    """Build the seeded scenario, run every detector in time order, score both rails.

    Returns {"rails": {"cbdc": {"typologies": {name: {precision, recall, f1,
    detection_delay_s}}, "penetration_rate": r, ...}, "stablecoin": {...}}, ...}."""
    scenario = build_scenario(seed=seed, scale=scale)
    result = run_detection(scenario, policy)
    rails = score(result)
    cbdc = rails[CBDC_RAIL]["typologies"]
    n = len(scenario.postings)
    return {
        "seed": seed,
        "scale": scale,
        "postings": n,
        "cases": len(scenario.cases),
        "alerts": len(result.alerts),
        "detector_postings_per_s": round(n / result.detect_s) if result.detect_s else None,
        "detector_postings_per_cpu_s": round(n / result.detect_cpu_s)
        if result.detect_cpu_s
        else None,
        "rails": rails,
        "goals": {
            "cbdc_recall_ge_0_9": all(t["recall"] >= 0.9 for t in cbdc.values()),
            "cbdc_precision_ge_0_8": all(t["precision"] >= 0.8 for t in cbdc.values()),
            "throughput_ge_10k_postings_per_s": n / result.detect_s >= 10_000
            if result.detect_s
            else True,
        },
    }
