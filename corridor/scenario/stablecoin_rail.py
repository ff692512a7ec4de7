"""The simulator's view of the USD-stablecoin rail: the real service (corridor.v1.StablecoinRail).

`corridor simulate` does not run the stablecoin model itself. It starts the rail's own service
(`corridor stablecoin serve`, services/stablecoin) as one more process of the fleet, configured
with exactly the scenario's episode — the resolved spec written to the results directory as
JSON, the scenario's seed and start — and on every business-time step

  * `Advance(step start)` -> the market: the peg discount payers react to, and the price, supply
    and redemptions columns of timeseries.csv;
  * `SubmitTransfers(the step's stablecoin payments)` -> one outcome per payment (cost, time to
    credit, status), in order, one call per step;

and at the end `GetSummary` and `GetTimeseries` for summary.json["stablecoin"] and
stablecoin_timeseries.csv. The service's episode is the in-process `StablecoinWorld` call for call,
so a run gives the same numbers either way (tests/stablecoin/test_rail_client.py holds that).

A rail that cannot be reached is an error (`StablecoinRailUnavailable`) naming the service, its
address and its log — never a silent fall-back to a model in the simulator's own process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from corridor.security.credentials import metadata_for
from corridor.server import channel
from corridor.v1 import stablecoin_pb2 as pb
from corridor.v1 import stablecoin_pb2_grpc

MODEL = "stablecoin rail service over gRPC (services/stablecoin)"
SPEC_FILE = "stablecoin_spec.json"
RPC_TIMEOUT_S = 120.0  # a step's batch is milliseconds of model time; this only catches a hang

_STATUS = {
    pb.STABLECOIN_TRANSFER_STATUS_SETTLED: "settled",
    pb.STABLECOIN_TRANSFER_STATUS_DELAYED: "delayed",
    pb.STABLECOIN_TRANSFER_STATUS_STUCK: "stuck",
}


class StablecoinRailUnavailable(RuntimeError):
    """The stablecoin rail service did not start or stopped answering: the run cannot go on."""


@dataclass(frozen=True)
class StablecoinOutcomes:
    """A step's stablecoin payments as the rail carried them, in submission order (columns).

    A payment is settled when the payee was credited (on time, or late after an exchange halt);
    a stuck one (a ramp halted with no end in the episode) failed with reason STABLECOIN_STUCK."""

    cost_usd_minor: np.ndarray  # int64 US cents: ramps, capital-control premium, network fee
    settle_s: np.ndarray  # float seconds to credit; NaN when not settled
    status: list[str]  # "settled" | "failed"
    reasons: list[str]  # "" | "STABLECOIN_STUCK"
    transfer_ids: list[str]


class StablecoinRailClient:
    """One episode of the stablecoin rail served by its own process, driven step by step.

    Lifecycle: construct with the scenario's spec, seed and start; `serve_args(results_dir)` gives
    the flags that make `corridor stablecoin serve` run that episode; `connect(target)` once the
    fleet has placed it; then `advance`/`submit` per step and `finish(horizon_s)`. The last
    market read stays available as `price`, `supply_minor` and `redemptions_cum_pct`.
    """

    def __init__(self, spec: Any, seed: int, start_at: datetime) -> None:
        self.spec = spec
        self.seed = seed
        self.start_at = start_at
        self.target = ""
        self.log_path: Path | None = None
        self.market: Any = None
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None
        self._summary: dict[str, Any] | None = None
        self._rows: list[dict[str, Any]] | None = None
        self._metadata = metadata_for("simulator", "engine")

    # ------------------------------------------------------------------ start
    def serve_args(self, directory: Path) -> list[str]:
        """Write the resolved spec into ``directory``; the serve flags that load it."""
        from services.stablecoin.spec import write_spec_file

        path = write_spec_file(self.spec, directory / SPEC_FILE).resolve()
        return ["--spec-file", str(path), "--seed", str(self.seed),
                "--start-at", self.start_at.isoformat()]  # fmt: skip

    def connect(self, target: str, log_path: Path | None = None) -> None:
        """Where the service listens (the channel opens on first use, inside the event loop)."""
        self.target = target
        self.log_path = log_path

    def start_failed(
        self, returncode: int | None, cause: BaseException
    ) -> StablecoinRailUnavailable:
        """The error to stop the run with when the service did not come up."""
        how = (
            f"exited with code {returncode}"
            if returncode is not None
            else f"did not answer ({cause})"
        )
        return StablecoinRailUnavailable(
            f"the stablecoin rail service (corridor stablecoin serve on {self.target}) {how}; "
            f"it is how `corridor simulate` carries stablecoin payments, so the run stops here."
            f"{self._log_tail()}"
        )  # fmt: skip

    # ------------------------------------------------------------------ per step
    async def advance(self, to_s: float) -> Any:
        """Run the episode to ``to_s`` (seconds since start); the market then."""
        resp = await self._call("Advance", pb.StablecoinAdvanceRequest(to_s=to_s))
        self.market = resp.market
        return self.market

    async def submit(
        self, amounts_usd_minor: np.ndarray, corridors: list[str], at_s: np.ndarray, key: str
    ) -> StablecoinOutcomes:
        """Carry a step's payments (US cents, "CN-HK", seconds since start) in one call."""
        orders = [
            pb.StablecoinTransferOrder(amount_minor=int(a), corridor=c, at_s=float(t))
            for a, c, t in zip(amounts_usd_minor, corridors, at_s, strict=True)
        ]
        request = pb.StablecoinSubmitTransfersRequest(idempotency_key=key, transfers=orders)
        outcomes = (await self._call("SubmitTransfers", request)).outcomes
        n = len(outcomes)
        cost = np.fromiter((o.total_cost_minor for o in outcomes), np.int64, n)
        settle = np.full(n, np.nan)
        status, reasons = ["settled"] * n, [""] * n
        for i, o in enumerate(outcomes):
            state = _STATUS.get(o.status, "unspecified")
            if o.HasField("settle_s") and state != "stuck":
                settle[i] = o.settle_s
            else:
                status[i], reasons[i] = "failed", f"STABLECOIN_{state.upper()}"
        return StablecoinOutcomes(cost, settle, status, reasons, [o.transfer_id for o in outcomes])

    @property
    def price(self) -> float:
        return float(self.market.price)

    @property
    def supply_minor(self) -> int:
        return int(self.market.supply_minor)

    @property
    def redemptions_cum_pct(self) -> float:
        """Tokens redeemed and paid so far (gross of new mints), % of the starting supply."""
        return 100.0 * self.market.burned_minor / (self.market.supply_start_minor or 1)

    # ------------------------------------------------------------------ the end
    async def finish(self, horizon_s: float) -> None:
        """Run to the horizon, fetch the summary and the time series, close the channel."""
        try:
            await self.advance(horizon_s)
            summary = await self._call("GetSummary", pb.StablecoinGetSummaryRequest())
            self._summary = json.loads(summary.summary_json)
            series = await self._call("GetTimeseries", pb.StablecoinGetTimeseriesRequest())
            self._rows = timeseries_rows(series)
        finally:
            await self.close()

    def summary(self) -> dict[str, Any]:
        """`StablecoinWorld.summary()` of the served episode (after `finish`)."""
        if self._summary is None:
            raise RuntimeError("the stablecoin summary is read by finish() at the end of the run")
        return dict(self._summary)

    def timeseries(self) -> list[dict[str, Any]]:
        """`StablecoinWorld.timeseries()` of the served episode (after `finish`)."""
        if self._rows is None:
            raise RuntimeError(
                "the stablecoin time series is read by finish() at the end of the run"
            )
        return self._rows

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = self._stub = None

    # ------------------------------------------------------------------ plumbing
    async def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            if not self.target:
                raise StablecoinRailUnavailable("the stablecoin rail service was never started")
            self._channel = channel(self.target)
            self._stub = stablecoin_pb2_grpc.StablecoinRailStub(self._channel)
        try:
            return await getattr(self._stub, method)(
                request, metadata=self._metadata, timeout=RPC_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            raise StablecoinRailUnavailable(
                f"the stablecoin rail service on {self.target} failed {method}: "
                f"{exc.code().name} {exc.details()}{self._log_tail()}"
            ) from None

    def _log_tail(self, lines: int = 8) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"\n  its log ({self.log_path}) ends:\n    " + "\n    ".join(tail) if tail else ""


def timeseries_rows(resp: Any) -> list[dict[str, Any]]:
    """GetTimeseries as `StablecoinWorld.timeseries()` rows: the same columns, order and types."""
    fields = [f.name for f in pb.StablecoinTimeseriesRow.DESCRIPTOR.fields if f.name != "chains"]
    rows = []
    for r in resp.rows:
        d = {name: getattr(r, name) for name in fields}
        for c in r.chains:
            d[f"base_fee_{c.name}"] = c.base_fee
            d[f"mempool_gas_{c.name}"] = c.mempool_gas
            d[f"transfer_fee_minor_{c.name}"] = c.transfer_fee_minor
        rows.append(d)
    return rows
