"""`corridor simulate`: drive the real services on a virtual business clock.

The model owns the seeded randomness and the clock (Mesa's split): each step of business time
the engine
  1. draws the step's payments from the demand model (seeded, time-ordered),
  2. advances the stablecoin rail's REAL service to the step (gRPC) and reads its stress (peg
     discount),
  3. lets each payer choose a rail (cost, time, availability, flight to safety),
  4. settles CBDC payments through the REAL bridge and central-bank nodes (gRPC, PvP, PostgreSQL),
     stablecoin payments through the stablecoin rail service (one batch call per step),
     correspondent payments through the analytic baseline,
  5. collects one row per payment and one row per step.
Afterwards it checks every ledger's invariants and writes the results directory.
Business time is virtual (a 7-day stress runs in minutes); service latency is measured on the
wall clock and is what a CBDC payment's settlement time is made of.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from corridor import pg
from corridor.config import JURISDICTIONS
from corridor.scenario.correspondent import CorrespondentModel
from corridor.scenario.demand import DemandModel, PaymentBatch
from corridor.scenario.rails import Rail, RailChoice, RailStress
from corridor.scenario.schema import KIND_NAMES, Scenario

STEP_S = 3600.0
CBDC_BATCH = 1000
CBDC_IN_FLIGHT = 6  # batch calls in flight per step
CBDC_STEPS_IN_FLIGHT = 3  # steps whose CBDC payments may still be settling
LP_NAMES = ("lp-hk-1", "lp-cn-1", "lp-ae-1")
RAIL_LABELS = ("cbdc", "stablecoin", "correspondent")


@dataclass
class RunOptions:
    scenario: Scenario
    out: Path
    state: Path
    wallets_cap: int = 20_000
    keep_databases: bool = False
    trace_examples: int = 5


@dataclass
class PaymentRows:
    """Columns of payments.parquet, filled step by step."""

    cols: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in PAYMENT_COLUMNS})

    def extend(self, **arrays: Any) -> None:
        for k in PAYMENT_COLUMNS:
            self.cols[k].extend(list(arrays[k]))


PAYMENT_COLUMNS = (
    "payment_id", "created_at_s", "corridor", "kind", "rail", "amount_minor", "currency",
    "amount_usd_minor", "cost_usd_minor", "cost_bps", "settle_s", "status", "reason", "trace_id",
)  # fmt: skip


def run_tag(out: Path) -> str:
    return "sim" + hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:8]


class CorridorSimulation:
    def __init__(self, opts: RunOptions, console: Console) -> None:
        self.o = opts
        self.s = opts.scenario
        self.console = console
        self.tag = run_tag(opts.out)
        self.demand = DemandModel(self.s)
        self.correspondent = CorrespondentModel(self.s)
        self.rails = RailChoice(self.s, correspondent=self.correspondent)
        self.rows = PaymentRows()
        self.timeseries: list[dict[str, Any]] = []
        self.world = self._stablecoin_world()
        self.codes = [j.code for j in self.s.jurisdictions]
        self.currencies = [j.currency for j in self.s.jurisdictions]
        self.wallets: dict[str, tuple[list[str], list[str]]] = {}
        self.example_payment_ids: list[str] = []
        self.service_wall_s = 0.0
        self.loop_wall_s = 0.0
        self.cbdc_done = 0
        self._inflight: list[asyncio.Task[float]] = []
        # Awaited before each step with its start (business seconds): a part of the run that
        # settles its own payments on the same ledgers (planted laundering) holds the loop back
        # until it has caught up, so every ledger's business clock moves together.
        self.before_step: list[Callable[[float], Awaitable[None]]] = []

    # ------------------------------------------------------------------ parts
    def _stablecoin_world(self) -> Any:
        """The stablecoin rail this run drives: its own service process, started with the
        scenario's resolved spec, seed and start (None when the scenario has no stablecoin spec)."""
        spec = self.s.stablecoin_spec
        if spec is None or isinstance(spec, dict):
            return None
        from corridor.scenario.stablecoin_rail import StablecoinRailClient

        return StablecoinRailClient(spec, seed=self.s.seed, start_at=_start(self.s))

    def database_env(self) -> dict[str, str]:
        server = pg.server_url(self.o.state)
        env = {f"CORRIDOR_DATABASE_URL_{c}": pg.with_database(server, f"corridor_{self.tag}_{c.lower()}")
               for c in self.codes}  # fmt: skip
        env["CORRIDOR_DATABASE_URL_BRIDGE"] = pg.with_database(
            server, f"corridor_{self.tag}_bridge"
        )
        return env

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        from corridor.bench import free_port
        from corridor.fleet import Fleet

        out = self.o.out
        out.mkdir(parents=True, exist_ok=True)
        traces = out / "traces.jsonl"
        traces.unlink(missing_ok=True)
        env = self.database_env()
        asyncio.run(_fresh_databases(list(env.values())))
        names = [c.lower() for c in self.codes] + ["bridge"]
        if self.world is not None:
            names.append("stablecoin")
        fleet = Fleet.plan(
            self.o.state, pg.server_url(self.o.state), names, {n: free_port() for n in names}
        )
        # Traces: the example payments (sampled by the engine) are traced across every service;
        # the volume traffic is sampled at CORRIDOR_TRACE_RATIO (default 0: a million-payment run
        # would otherwise write gigabytes of spans and slow every service down).
        sampling = {
            "OTEL_TRACES_SAMPLER": os.environ.get(
                "OTEL_TRACES_SAMPLER", "parentbased_traceidratio"
            ),
            "OTEL_TRACES_SAMPLER_ARG": os.environ.get("CORRIDOR_TRACE_RATIO", "0"),
        }
        fleet.extra_env = {**env, "CORRIDOR_TRACE_FILE": str(traces), **sampling}
        if self.world is not None:
            rail = fleet.get("stablecoin")
            rail.argv += self.world.serve_args(out)
            self.world.connect(rail.target, rail.log_path)
        wall0 = time.perf_counter()
        try:
            with self.console.status(
                "starting the central-bank nodes, the bridge and the stablecoin rail "
                "(separate processes)..."
            ):
                self._start_fleet(fleet)
            summary = asyncio.run(self._drive(fleet.endpoints()))
        finally:
            fleet.stop()
        summary["wall_s"] = round(time.perf_counter() - wall0, 2)
        summary["invariants"] = asyncio.run(self._invariants(env))
        if not self.o.keep_databases:
            asyncio.run(_drop_databases(list(env.values())))
        return self._write(summary)

    def _start_fleet(self, fleet: Any) -> None:
        """Start every service; a stablecoin rail that does not come up stops the run, named."""
        try:
            fleet.start()
        except (RuntimeError, TimeoutError) as exc:
            if self.world is not None:
                rail = fleet.get("stablecoin").proc
                code = rail.poll() if rail is not None else None
                if code is not None or self.world.target in str(exc):
                    raise self.world.start_failed(code, exc) from None
            raise

    async def _drive(self, endpoints: dict[str, str]) -> dict[str, Any]:
        from corridor.scenario.services import CorridorClient

        client = CorridorClient(endpoints, self.codes, self.currencies, self.tag)
        try:
            with self.console.status(
                "opening wallets, issuing CBDC, funding liquidity providers..."
            ):
                self.wallets = await client.setup(self.s, self.o.wallets_cap)
            from corridor.scenario.injection import planted_laundering

            async with planted_laundering(self, client):  # planted cases settle beside the loop
                await self._loop(client)
        finally:
            await client.close()
        return self._summary(client)

    async def _loop(self, client: Any) -> None:
        horizon = self.s.horizon_s
        total = self.demand.total_payments
        columns = (
            TextColumn("[bold]{task.fields[simtime]}"), BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} payments"),
            TextColumn("{task.fields[rate]}/s"), TimeElapsedColumn(), TimeRemainingColumn(),
        )  # fmt: skip
        t0 = time.perf_counter()
        done = 0
        with Progress(*columns, console=self.console, transient=False) as progress:
            task = progress.add_task("simulate", total=total, simtime="", rate="0")
            start = 0.0
            while start < horizon:
                end = min(horizon, start + STEP_S)
                batch = self.demand.generate(start, end)
                stress = await self._stress(start)
                for wait in self.before_step:
                    await wait(start)
                await self._step(client, batch, stress, start, end)
                done += len(batch)
                rate = done / max(1e-9, time.perf_counter() - t0)
                progress.update(task, completed=done, rate=f"{rate:,.0f}",
                                simtime=f"day {start / 86400:4.1f} ({_iso(self.s, start)[:16]})")  # fmt: skip
                start = end
            for t in self._inflight:
                await t
            self._inflight.clear()
            self.loop_wall_s = time.perf_counter() - t0
            progress.update(task, completed=done, rate=f"{done / max(1e-9, self.loop_wall_s):,.0f}")
        if self.world is not None:
            await self.world.finish(horizon)  # run to the end; read its summary and time series

    async def _stress(self, at_s: float) -> RailStress:
        if self.world is None:
            return RailStress()
        await self.world.advance(at_s)
        return RailStress(peg_discount=max(0.0, 1.0 - self.world.price))

    async def _step(
        self, client: Any, batch: PaymentBatch, stress: RailStress, start: float, end: float
    ) -> None:
        if len(batch) == 0:
            self.timeseries.append(self._ts_row(start, 0, 0, 0, 0.0))
            return
        decision = self.rails.choose(batch, stress)
        rail = decision.rail
        counts = [int((rail == r).sum()) for r in (Rail.CBDC, Rail.STABLECOIN, Rail.CORRESPONDENT)]
        row = self._ts_row(start, *counts, 0.0)
        self.timeseries.append(row)
        # CBDC payments settle through the real services while the engine moves on to the next
        # step (business time does not wait for them); at most CBDC_STEPS_IN_FLIGHT steps overlap.
        cbdc = batch.take(rail == Rail.CBDC)
        if len(cbdc):
            while len(self._inflight) >= CBDC_STEPS_IN_FLIGHT:
                await self._inflight.pop(0)
            self._inflight.append(asyncio.create_task(self._cbdc(client, cbdc, row)))
        await self._stablecoin(
            batch.take(rail == Rail.STABLECOIN), decision.quotes, rail == Rail.STABLECOIN
        )
        self._correspondent(batch.take(rail == Rail.CORRESPONDENT))
        no_rail = rail < 0
        if no_rail.any():
            nb = batch.take(no_rail)
            self._record(nb, "none", np.zeros(len(nb), np.int64), np.full(len(nb), np.nan), ["failed"] * len(nb),
                         ["NO_RAIL_AVAILABLE"] * len(nb))  # fmt: skip

    # ------------------------------------------------------------------ rails
    async def _cbdc(self, client: Any, b: PaymentBatch, row: dict[str, Any]) -> float:
        reqs = client.requests(b, self.wallets, self.s)
        t0 = time.perf_counter()
        traced = []
        if len(self.example_payment_ids) < self.o.trace_examples:
            k = min(len(reqs), self.o.trace_examples - len(self.example_payment_ids))
            traced = list(range(k))
        receipts, latency_s = await client.pay_all(reqs, traced, CBDC_BATCH, CBDC_IN_FLIGHT)
        wall = time.perf_counter() - t0
        self.service_wall_s += wall
        self.cbdc_done += len(b)
        for i in traced:
            self.example_payment_ids.append(receipts[i].payment_id)
        from bridge.fx import to_usd_minor

        cost_usd = np.array([to_usd_minor(r.total_cost_minor, r.currency) if r.status == 4 else 0 for r in receipts],
                            np.int64)  # fmt: skip
        status = ["settled" if r.status == 4 else "failed" for r in receipts]
        reasons = [r.reason for r in receipts]
        settle = np.where(np.array([r.status == 4 for r in receipts]), latency_s, np.nan)
        self._record(b, "cbdc", cost_usd, settle, status, reasons, [r.payment_id for r in receipts])
        row["cbdc_tps"] = round(len(b) / wall, 1) if wall > 0 else 0.0
        return wall

    async def _stablecoin(self, b: PaymentBatch, quotes: Any, mask: np.ndarray) -> None:
        if len(b) == 0:
            return
        if self.world is None:
            # No stablecoin model in this scenario: the rail's quoted cost and time (from the
            # scenario's rails.stablecoin parameters) are its outcome. Reported as such.
            cost = quotes.cost_usd_minor[mask, Rail.STABLECOIN].astype(np.int64)
            settle = quotes.time_s[mask, Rail.STABLECOIN]
            self._record(b, "stablecoin", cost, settle, ["settled"] * len(b), [""] * len(b))
            return
        # One SubmitTransfers call carries the step's payments (value in US cents, at least one).
        codes = np.array([c.code for c in self.s.directed_corridors])[b.corridor].tolist()
        amounts = np.where(b.amount_usd_minor == 0, 1, b.amount_usd_minor)
        key = f"{self.tag}-sc-{int(b.payment_id[0])}"
        r = await self.world.submit(amounts, codes, b.created_at_s, key)
        self._record(b, "stablecoin", r.cost_usd_minor, r.settle_s, r.status, r.reasons)

    def _correspondent(self, b: PaymentBatch) -> None:
        if len(b) == 0:
            return
        st = self.correspondent.settle(b)
        ok = st.status != 2
        settle = np.where(ok, st.elapsed_s(b.created_at_s), np.nan)
        status = np.where(ok, "settled", "failed").tolist()
        reasons = np.where(ok, "", "RETURNED").tolist()
        self._record(
            b, "correspondent", st.cost_usd_minor.astype(np.int64), settle, status, reasons
        )

    def _record(self, b: PaymentBatch, rail: str, cost_usd: np.ndarray, settle: np.ndarray, status: list[str],
                reasons: list[str], ids: list[str] | None = None) -> None:  # fmt: skip
        corridors = np.array([c.code for c in self.s.directed_corridors])
        cur = np.array(self.currencies)[b.from_j]
        amt_usd = b.amount_usd_minor
        cost_bps = np.where(
            np.array(status) == "settled", cost_usd * 10_000 / np.maximum(amt_usd, 1), np.nan
        )
        self.rows.extend(
            payment_id=ids or [f"{self.tag}-{p}" for p in b.payment_id], created_at_s=b.created_at_s,
            corridor=corridors[b.corridor], kind=np.array(KIND_NAMES)[b.kind], rail=[rail] * len(b),
            amount_minor=b.amount_minor, currency=cur, amount_usd_minor=amt_usd, cost_usd_minor=cost_usd,
            cost_bps=cost_bps, settle_s=settle, status=status, reason=reasons, trace_id=[""] * len(b),
        )  # fmt: skip

    def _ts_row(
        self, start: float, cbdc: int, stable: int, corr: int, tps: float
    ) -> dict[str, Any]:
        row: dict[str, Any] = {"t_s": start, "at": _iso(self.s, start), "cbdc_payments": cbdc,
                               "stablecoin_payments": stable, "correspondent_payments": corr,
                               "cbdc_tps": round(tps, 1)}  # fmt: skip
        n = cbdc + stable + corr
        row["cbdc_share"] = cbdc / n if n else 0.0
        if self.world is not None:  # the market the step's Advance returned
            row["stablecoin_price"] = self.world.price
            row["stablecoin_supply_minor"] = self.world.supply_minor
            row["redemptions_cum_pct"] = self.world.redemptions_cum_pct
        return row

    # ------------------------------------------------------------------ results
    def _summary(self, client: Any) -> dict[str, Any]:
        import pandas as pd

        # CBDC steps finish out of order (they overlap): rows in business-time order.
        df = (
            pd.DataFrame(self.rows.cols)
            .sort_values("created_at_s", kind="stable")
            .reset_index(drop=True)
        )
        rails = {}
        for name in RAIL_LABELS:
            d = df[df.rail == name]
            ok = d[d.status == "settled"]
            n = len(d)
            rails[name] = {
                "payments": int(n),
                "settled": len(ok),
                "failed": int(n - len(ok)),
                "cost_bps_mean": _f(ok.cost_bps.mean()),
                "share_within_1h": _f((ok.settle_s <= 3600).sum() / n) if n else None,
                "share_within_1bd": _f((ok.settle_s <= 86400).sum() / n) if n else None,
                "p50_settle_s": _f(ok.settle_s.quantile(0.5)) if len(ok) else None,
                "p99_settle_s": _f(ok.settle_s.quantile(0.99)) if len(ok) else None,
                "liquidity_locked": 0,
                "failure_reasons": {
                    str(k): int(v)
                    for k, v in d[d.status != "settled"].reason.value_counts().items()
                },
            }
        rails["cbdc"]["liquidity_locked"] = client.liquidity_locked_usd_minor
        rails["cbdc"]["status_visible"] = True
        rails["cbdc"]["access"] = "wallets of participating operators (scenario access share)"
        rails["stablecoin"]["status_visible"] = True
        rails["stablecoin"]["access"] = "holders with a ramp; identity only where the ramp is KYC'd"
        rails["correspondent"]["status_visible"] = False
        rails["correspondent"]["access"] = "every bank customer"
        summary: dict[str, Any] = {
            "scenario": self.s.name,
            "question": self.s.question,
            "seed": self.s.seed,
            "mode": "services",
            "started_at": _iso(self.s, 0.0),
            "days": self.s.days,
            "payments": len(df),
            "rails": rails,
            "throughput": {
                "cbdc_payments": int(self.cbdc_done),
                "cbdc_service_wall_s": round(self.service_wall_s, 3),
                "cbdc_mean_tps": _f(self.cbdc_done / self.loop_wall_s)
                if self.loop_wall_s
                else None,
                "cbdc_peak_tps": _f(max((r["cbdc_tps"] for r in self.timeseries), default=0.0)),
            },
            "assumptions": [a.model_dump(mode="json") for a in self.s.assumptions],
            "caveats": list(self.s.caveats)
            + [
                "CBDC settlement time is the measured wall-clock latency of the real services on this machine.",
                f"Wallet population capped at {self.o.wallets_cap:,} per jurisdiction (payers beyond it share wallets).",
            ],
            "example_payment_id": self.example_payment_ids[0] if self.example_payment_ids else "",
            "example_payment_ids": self.example_payment_ids,
        }
        if self.world is not None:
            from corridor.scenario.stablecoin_rail import MODEL

            summary["stablecoin"] = {**self.world.summary(), "model": MODEL}
        else:
            summary["stablecoin"] = {
                "model": "none: this scenario has no stablecoin section; rail costs from rails.stablecoin"
            }
        from corridor.scenario.supervision import supervision_block

        block, self._alerts = supervision_block(self.s, getattr(self, "aml_result", None))
        if block is not None:
            summary["supervision"] = block
        self._df = df
        return summary

    async def _invariants(self, env: dict[str, str]) -> dict[str, Any]:
        import bridge.invariants  # noqa: F401 - registers the cross-ledger checks
        from corridor import invariants

        urls = {k.removeprefix("CORRIDOR_DATABASE_URL_").lower(): v for k, v in env.items()}
        checks = await invariants.check_all(urls)
        return {"ok": all(c.ok for c in checks), "checks": [dataclasses.asdict(c) for c in checks]}

    def _write(self, summary: dict[str, Any]) -> dict[str, Any]:
        out = self.o.out
        df = self._df
        df.to_parquet(out / "payments.parquet", index=False)
        df.to_csv(out / "payments.csv", index=False)
        import pandas as pd

        ts = pd.DataFrame(self.timeseries)
        ts.to_csv(out / "timeseries.csv", index=False)
        if self.world is not None:
            pd.DataFrame(self.world.timeseries()).to_csv(
                out / "stablecoin_timeseries.csv", index=False
            )
        if getattr(self, "_alerts", None):
            pd.DataFrame(self._alerts).to_csv(out / "alerts.csv", index=False)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
        return summary


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else round(v, 6)


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, datetime):
        return o.isoformat()
    return str(o)


def _start(s: Scenario) -> datetime:
    return datetime.fromtimestamp(s.start_epoch_s, tz=UTC)


def _iso(s: Scenario, t_s: float) -> str:
    return datetime.fromtimestamp(s.start_epoch_s + t_s, tz=UTC).isoformat()


async def _fresh_databases(urls: list[str]) -> None:
    for u in urls:
        await pg.drop_database(u)
        await pg.ensure_database(u)


async def _drop_databases(urls: list[str]) -> None:
    for u in urls:
        await pg.drop_database(u)


_ = (os, JURISDICTIONS)
