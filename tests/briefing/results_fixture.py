"""FIXTURE for the briefing renderer tests: writes a small but realistic results directory
(and a sweep directory) in the shape ``corridor simulate`` writes, from a toy stochastic
story — NOT the project's model. Its only job is to give the renderer plausible data:
a Thursday start, a reserve bank failing on Friday, a weekend with redemptions paused,
the stablecoin dipping to the high 0.8s, CBDC taking the surge, correspondent banks
settling T+1.

``omit`` removes files (``"timeseries.csv"``) or summary blocks (``"summary.stablecoin"``,
``"summary.rails.cbdc"``) so tests can check each section's "not in this run" path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2023-03-09T00:00:00Z")  # a Thursday, as in the SVB episode
DAYS = 7.0
CORRIDORS = ("CN-HK", "HK-CN", "CN-TH", "CN-AE", "HK-SA")
KINDS = ("retail", "remittance", "trade")
QUESTION = (
    "What happens to HK→CN trade payments, and to a USD-stablecoin rail, when Treasury yields "
    "jump 150 bp and a reserve bank fails?"
)
# Median cost (bp) per rail and kind, and the spread of a lognormal around it.
COST_BPS = {
    "cbdc": {"retail": 22, "remittance": 35, "trade": 6},
    "stablecoin": {"retail": 70, "remittance": 140, "trade": 25},
    "correspondent": {"retail": 310, "remittance": 640, "trade": 95},
}
SERVICES_FOR_TRACE = (
    ("corridor-cn", "corridor.v1.Wallets/Transfer", None, 0.0, 1.0),
    ("corridor-bridge", "bridge.pay", 0, 0.06, 0.95),
    ("corridor-bridge", "fx.quote", 1, 0.08, 0.16),
    ("corridor-bridge", "pvp.prepare", 1, 0.17, 0.55),
    ("corridor-cn", "ledger.create_transfers pending", 3, 0.19, 0.40),
    ("corridor-hk", "ledger.create_transfers pending", 3, 0.21, 0.52),
    ("corridor-bridge", "pvp.decide (durable log)", 1, 0.56, 0.63),
    ("corridor-bridge", "pvp.commit", 1, 0.64, 0.93),
    ("corridor-cn", "ledger.post_pending", 7, 0.66, 0.80),
    ("corridor-hk", "ledger.post_pending", 7, 0.67, 0.90),
    ("corridor-supervision", "feed.ingest", 0, 0.95, 0.99),
)


@dataclass(frozen=True)
class FixtureRun:
    directory: Path
    summary: dict
    payments: pd.DataFrame
    timeseries: pd.DataFrame


def _price_path(rng: np.random.Generator, hours: np.ndarray, trough: float) -> np.ndarray:
    """Par until Friday morning, a slide to ``trough`` by Saturday noon, recovery Monday."""
    fall_start, bottom, recovered = 34.0, 60.0, 100.0
    dip = np.where(
        hours < fall_start,
        0.0,
        np.where(
            hours < bottom,
            (hours - fall_start) / (bottom - fall_start),
            np.clip(1 - (hours - bottom) / (recovered - bottom), 0, 1) ** 1.6,
        ),
    )
    noise = rng.normal(0, 0.0015, len(hours)) * (dip > 0.05)
    return np.clip(1.0 - (1.0 - trough) * dip + noise, 0.5, 1.002)


def _timeseries(rng: np.random.Generator, trough: float, step_s: int = 3600) -> pd.DataFrame:
    t_s = np.arange(0, DAYS * 86400 + 1, step_s, dtype=float)
    hours = t_s / 3600
    price = _price_path(rng, hours, trough)
    stress = np.clip((1.0 - price) / 0.01, 0, None)
    weekend = (hours >= 48) & (hours < 96)
    # Redemptions accelerate below 0.99 and pause at the issuer over the weekend.
    rate = 0.02 + 0.35 * np.minimum(stress, 12) / 12
    rate = np.where(weekend, rate * 0.15, rate)
    depth = (1.0 - trough) / 0.13
    redemptions = np.cumsum(rate) * depth * 0.9
    daily = 1 + 0.35 * np.sin(2 * np.pi * (hours - 8) / 24)
    cbdc = np.round(rng.poisson(30 * daily * (1 + 2.2 * np.minimum(stress, 8) / 8)))
    stable = np.round(
        rng.poisson(22 * daily * np.clip(1 - 0.7 * np.minimum(stress, 8) / 8, 0.1, 1))
    )
    corr = np.round(rng.poisson(18 * daily))
    tps = cbdc * 4.1 + rng.normal(0, 6, len(hours))
    at = [(START + pd.Timedelta(seconds=float(s))).isoformat() for s in t_s]
    return pd.DataFrame(
        {
            "t_s": t_s,
            "at": at,
            "stablecoin_price": np.round(price, 5),
            "stablecoin_supply_minor": (4_100_000_000_000 * (1 - redemptions / 100)).astype(
                np.int64
            ),
            "redemptions_cum_pct": np.round(redemptions, 3),
            "cbdc_payments": cbdc.astype(int),
            "stablecoin_payments": stable.astype(int),
            "correspondent_payments": corr.astype(int),
            "cbdc_tps": np.round(np.clip(tps, 0, None), 1),
            "cbdc_share": np.round(cbdc / np.maximum(cbdc + stable + corr, 1), 4),
        }
    )


def _settle_times(rng: np.random.Generator, rail: str, n: int) -> np.ndarray:
    if rail == "cbdc":
        return rng.lognormal(np.log(3.0), 0.6, n)
    if rail == "stablecoin":
        chain = np.where(rng.random(n) < 0.5, rng.normal(780, 60, n), rng.normal(60, 8, n))
        ramp = np.where(rng.random(n) < 0.3, rng.exponential(5 * 3600, n), 0.0)
        return np.clip(chain, 5, None) + ramp
    days = rng.choice([0.02, 1, 1, 2], size=n, p=[0.05, 0.55, 0.25, 0.15])
    return days * 86400 * rng.uniform(0.6, 1.0, n) + rng.exponential(1800, n)


def _payments(rng: np.random.Generator, ts: pd.DataFrame, n: int) -> pd.DataFrame:
    rails = rng.choice(["cbdc", "stablecoin", "correspondent"], size=n, p=[0.45, 0.3, 0.25])
    kinds = rng.choice(KINDS, size=n, p=[0.45, 0.35, 0.2])
    corridors = rng.choice(CORRIDORS, size=n)
    created = np.sort(rng.uniform(0, DAYS * 86400, n))
    amount_usd = np.where(
        kinds == "trade",
        rng.lognormal(np.log(250_000_00), 1.0, n),
        np.where(
            kinds == "remittance",
            rng.lognormal(np.log(200_00), 0.5, n),
            rng.lognormal(np.log(80_00), 0.9, n),
        ),
    ).astype(np.int64)
    median = np.array([COST_BPS[r][k] for r, k in zip(rails, kinds, strict=True)], dtype=float)
    corridor_bump = np.array([1.0 + 0.12 * CORRIDORS.index(c) for c in corridors])
    cost_bps = np.round(median * corridor_bump * rng.lognormal(0, 0.25, n), 2)
    settle = np.concatenate([np.zeros(0)])
    settle = np.empty(n)
    for rail in ("cbdc", "stablecoin", "correspondent"):
        mask = rails == rail
        settle[mask] = _settle_times(rng, rail, int(mask.sum()))
    fail_p = np.select([rails == "cbdc", rails == "stablecoin"], [0.004, 0.03], 0.01)
    failed = rng.random(n) < fail_p
    ids = [f"pay-{i:06d}" for i in range(n)]
    return pd.DataFrame(
        {
            "payment_id": ids,
            "created_at_s": np.round(created, 3),
            "corridor": corridors,
            "kind": kinds,
            "rail": rails,
            "amount_minor": amount_usd * 7,
            "currency": np.where(np.char.startswith(corridors.astype(str), "CN"), "CNY", "HKD"),
            "amount_usd_minor": amount_usd,
            "cost_usd_minor": np.round(amount_usd * cost_bps / 10_000).astype(np.int64),
            "cost_bps": cost_bps,
            "settle_s": np.where(failed, np.nan, np.round(settle, 3)),
            "status": np.where(failed, "failed", "settled"),
            "trace_id": [f"{rng.integers(0, 2**63):016x}{i:016x}" for i in range(n)],
        }
    )


def rail_summary(payments: pd.DataFrame, rail: str) -> dict:
    rows = payments[payments["rail"] == rail]
    settled = rows[rows["status"] == "settled"]
    n = len(rows)
    return {
        "payments": n,
        "settled": len(settled),
        "failed": n - len(settled),
        "cost_bps_mean": round(float(settled["cost_bps"].mean()), 2),
        "share_within_1h": round(float((settled["settle_s"] <= 3600).sum() / n), 4),
        "share_within_1bd": round(float((settled["settle_s"] <= 86400).sum() / n), 4),
        "p50_settle_s": round(float(settled["settle_s"].quantile(0.5)), 3),
        "p99_settle_s": round(float(settled["settle_s"].quantile(0.99)), 3),
        "liquidity_locked": {"cbdc": 0, "stablecoin": 0, "correspondent": 2_400_000_000}[rail],
        "status_visible": rail != "correspondent",
        "access": {
            "cbdc": "e-CNY / e-HKD wallet via an operator bank",
            "stablecoin": "any self-hosted wallet; cash-out via licensed ramps",
            "correspondent": "a bank account at a correspondent-connected bank",
        }[rail],
    }


def _hours_below(ts: pd.DataFrame) -> float:
    below = ts["stablecoin_price"].to_numpy()[:-1] < 0.99
    return float(np.diff(ts["t_s"].to_numpy())[below].sum() / 3600)


def _stablecoin_block(ts: pd.DataFrame) -> dict:
    red = ts["redemptions_cum_pct"].to_numpy()
    days = ts["t_s"].to_numpy() / 86400
    by_day = [round(float(red[days <= d].max()), 3) for d in range(1, int(DAYS) + 1)]
    return {
        "min_price": round(float(ts["stablecoin_price"].min()), 5),
        "hours_below_0_99": round(_hours_below(ts), 2),
        "net_redemptions_pct_4d": by_day[3],
        "net_redemptions_pct_by_day": by_day,
        "final_price": round(float(ts["stablecoin_price"].iloc[-1]), 5),
        "min_venue_price": round(float(ts["stablecoin_price"].min()) - 0.04, 5),
        # As the stablecoin model reports it: percent price changes, negative for a loss.
        "bond_math": {
            "shift_bp": 100.0,
            "tbill_3m_pct": -0.2377,
            "note_10y_pct": -7.7033,
            "bill_portfolio_wam_days": 41.3,
            "bill_portfolio_pct": -0.1089,
            "seed_claim_pct": -12.0,
        },
        "assumptions": [
            {
                "name": "Ethereum finality",
                "value": "12.8 min",
                "kind": "fact",
                "source": "duplicate of a scenario entry: shown once",
            },
            {
                "name": "Redemption desk hours",
                "value": "Mon–Fri 09:00–17:00 ET",
                "kind": "fact",
                "source": "issuer terms",
            },
        ],
    }


def _assumptions(shock_bp: int) -> list[dict]:
    return [
        {
            "name": "Treasury yield shock",
            "value": f"+{shock_bp} bp",
            "kind": "assumption",
            "source": "scenario dollar-contagion",
        },
        {
            "name": "Reserve deposits frozen at failed bank",
            "value": "8.25% of reserves",
            "kind": "fact",
            "source": "USDC/SVB, March 2023",
        },
        {
            "name": "Reserve haircut for +1 pp in 10-year yields",
            "value": 0.12,
            "kind": "seed-claim",
            "source": "project seed narrative (not bond math)",
        },
        {
            "name": "Reserve WAM",
            "value": "20–93 days",
            "kind": "fact",
            "source": "GENIUS Act (July 2025): ≤ 93 days",
        },
        {
            "name": "Outflow price impact",
            "value": "2–3× inflow impact",
            "kind": "assumption",
            "source": "BIS WP 1270, extrapolated beyond observed flow sizes",
        },
        {
            "name": "Ethereum finality",
            "value": "12.8 min",
            "kind": "fact",
            "source": "12 s blocks, 64 slots",
        },
    ]


def _supervision_block() -> dict:
    return {
        "rails": {
            "cbdc": {
                "penetration_rate": 1.0,
                "typologies": {
                    "structuring": {
                        "precision": 0.81,
                        "recall": 0.9,
                        "f1": 0.853,
                        "detection_delay_s": 240.0,
                    },
                    "fan_in_mules": {
                        "precision": 0.7,
                        "recall": 0.78,
                        "f1": 0.738,
                        "detection_delay_s": 900.0,
                    },
                },
            },
            "stablecoin": {
                "penetration_rate": 0.37,
                "typologies": {
                    "structuring": {
                        "precision": 0.52,
                        "recall": 0.31,
                        "f1": 0.388,
                        "detection_delay_s": 7200.0,
                    },
                    "fan_in_mules": {
                        "precision": 0.4,
                        "recall": 0.22,
                        "f1": 0.284,
                        "detection_delay_s": 14400.0,
                    },
                },
            },
        }
    }


def _alerts(rng: np.random.Generator, n: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "alert_id": [f"al-{i:04d}" for i in range(n)],
            "typology": rng.choice(["structuring", "fan_in_mules"], n),
            "rail": rng.choice(["cbdc", "stablecoin"], n, p=[0.75, 0.25]),
            "score": np.round(rng.uniform(0.5, 1, n), 3),
            "raised_at_s": np.round(np.sort(rng.uniform(0, DAYS * 86400, n)), 1),
            "subjects": [f"w-{rng.integers(1000, 9999)}" for _ in range(n)],
        }
    )


def _attr(key: str, value: object) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _trace_lines(rng: np.random.Generator, payments: pd.DataFrame, n: int) -> list[str]:
    """One OTLP-JSON export request per service per payment, interleaved as exporters would."""
    lines: list[tuple[int, str]] = []
    cbdc = payments[payments["rail"] == "cbdc"].head(n)
    for _, row in cbdc.iterrows():
        trace_id = str(row["trace_id"])
        start = int((START.timestamp() + float(row["created_at_s"])) * 1e9)
        total_ns = int(rng.uniform(120, 240) * 1e6)
        span_ids = [f"{rng.integers(0, 2**63):016x}" for _ in SERVICES_FOR_TRACE]
        per_service: dict[str, list[dict]] = {}
        for i, (service, name, parent, a, b) in enumerate(SERVICES_FOR_TRACE):
            span = {
                "traceId": trace_id,
                "spanId": span_ids[i],
                "name": name,
                "kind": 2,
                "startTimeUnixNano": str(start + int(a * total_ns)),
                "endTimeUnixNano": str(start + int(b * total_ns)),
                "attributes": [
                    _attr("corridor.payment_id", row["payment_id"]),
                    _attr("corridor.corridor", row["corridor"]),
                    _attr("corridor.rail", "cbdc"),
                    _attr("corridor.amount_minor", int(row["amount_minor"])),
                ],
            }
            if parent is not None:
                span["parentSpanId"] = span_ids[parent]
            per_service.setdefault(service, []).append(span)
        for service, spans in per_service.items():
            request = {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [_attr("service.name", service)]},
                        "scopeSpans": [{"scope": {"name": "corridor"}, "spans": spans}],
                    }
                ]
            }
            lines.append((int(rng.integers(0, 10**9)), json.dumps(request)))
    lines.sort()
    return [text for _, text in lines]


def _drop(summary: dict, dotted: str) -> None:
    node = summary
    *head, last = dotted.split(".")
    for key in head:
        node = node.get(key, {})
    if isinstance(node, dict):
        node.pop(last, None)


def write_results_dir(
    directory: Path,
    *,
    seed: int = 7,
    shock_bp: int = 150,
    n_payments: int = 2400,
    omit: Iterable[str] = (),
    with_payments: bool = True,
    with_traces: bool = True,
) -> FixtureRun:
    """Write one run's results into ``directory`` and return what was written."""
    omit = set(omit)
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    trough = float(np.clip(1.0 - 0.0006 * shock_bp * rng.uniform(0.2, 1.8), 0.7, 0.999))
    ts = _timeseries(rng, trough)
    payments = _payments(rng, ts, n_payments)
    summary = {
        "scenario": "dollar-contagion",
        "question": QUESTION,
        "seed": seed,
        "mode": "model-only",
        "started_at": START.isoformat().replace("+00:00", "Z"),
        "days": DAYS,
        "payments": len(payments),
        "wall_s": 184.2,
        "rails": {r: rail_summary(payments, r) for r in ("cbdc", "stablecoin", "correspondent")},
        "stablecoin": _stablecoin_block(ts),
        "supervision": _supervision_block(),
        "throughput": {
            "cbdc_peak_tps": float(ts["cbdc_tps"].max()),
            "cbdc_mean_tps": round(float(ts["cbdc_tps"].mean()), 1),
        },
        "invariants": {"ok": True, "checked": ["debits_equal_credits", "no_money_created"]},
        "assumptions": _assumptions(shock_bp),
        "caveats": [
            "Demand is synthetic: corridor volumes follow a seeded generator, not observed flows.",
            (
                "The correspondent-banking rail is an analytic model (hops, cut-offs, T+1/T+2), "
                "not a simulation of individual banks."
            ),
            "Secondary-market price impact is extrapolated beyond the flow sizes in BIS WP 1270.",
        ],
        "example_payment_id": str(payments[payments["rail"] == "cbdc"]["payment_id"].iloc[2]),
    }
    for item in omit:
        if item.startswith("summary."):
            _drop(summary, item.removeprefix("summary."))
    if "summary.json" not in omit:
        (directory / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if "timeseries.csv" not in omit:
        ts.to_csv(directory / "timeseries.csv", index=False)
    if with_payments and "payments.csv" not in omit:
        payments.to_csv(directory / "payments.csv", index=False)
    if "alerts.csv" not in omit:
        _alerts(rng).to_csv(directory / "alerts.csv", index=False)
    if with_traces and "traces.jsonl" not in omit:
        text = "\n".join(_trace_lines(rng, payments, 8)) + "\n"
        (directory / "traces.jsonl").write_text(text, encoding="utf-8")
    return FixtureRun(directory, summary, payments, ts)


def _flatten(prefix: str, data: object, out: dict) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    elif isinstance(data, int | float | str | bool) or data is None:
        out[prefix] = data


def write_sweep_dir(
    directory: Path,
    *,
    shocks: tuple[int, ...] = (50, 150, 300),
    seeds: tuple[int, ...] = (1, 2, 3, 4),
    failed_runs: int = 1,
) -> pd.DataFrame:
    """A sweep over the stablecoin shock size × seeds; the last ``failed_runs`` runs fail."""
    rows = []
    index = 0
    total = len(shocks) * len(seeds)
    for shock in shocks:
        for seed in seeds:
            run_id = f"run-{index:03d}"
            row: dict = {
                "run_id": run_id,
                "param.stablecoin.shocks.0.bp": shock,
                "param.days": 7,
                "seed": seed,
                "mode": "model-only",
            }
            if index >= total - failed_runs:
                row.update(status="failed", reason="ledger node CN did not start within 30 s")
                (directory / "runs" / run_id).mkdir(parents=True, exist_ok=True)
            else:
                run = write_results_dir(
                    directory / "runs" / run_id,
                    seed=seed * 100 + shock,
                    shock_bp=shock,
                    n_payments=300,
                    with_traces=False,
                )
                flat: dict = {}
                for block in ("stablecoin", "rails", "throughput"):
                    _flatten(block, run.summary[block], flat)
                flat = {k: v for k, v in flat.items() if not isinstance(v, str)}
                row.update(status="ok", reason="", **flat)
            rows.append(row)
            index += 1
    frame = pd.DataFrame(rows)
    directory.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(directory / "runs.parquet", index=False)
    return frame
