"""gRPC front of the stablecoin-rail comparator (corridor.v1.StablecoinRail).

One server runs one seeded episode: a preset (`extra["preset"]`, default dollar-contagion) or a
spec file (`extra["spec_file"]`: YAML, or the JSON `spec.write_spec_file` writes — how
`corridor simulate` hands over its scenario's resolved spec), with `extra["seed"]` and optionally
`extra["start_at"]` (ISO). The same spec, seed and start give the same episode as
`StablecoinWorld.from_spec(spec, seed, start_at)` in-process, call for call.
`create_server(settings, bind)` -> (RunningServer, StablecoinRailService); `main()` adds signal
handling only. The model is pure Python and fast (a simulated week costs ~50 ms), so handlers call
it directly on the event loop; nothing here touches a database.

Errors are raised as `CorridorError` and mapped once by the shared interceptor: a bad field is
INVALID_ARGUMENT naming it (BadRequest; in a batch `transfers[i].field`; a time after the
episode's end is one), a time before the business clock is FAILED_PRECONDITION
BUSINESS_TIME_IN_PAST, a closed mint MINT_CLOSED, suspended redemptions REDEMPTIONS_SUSPENDED,
redeeming more than one holds INSUFFICIENT_TOKENS, a reused idempotency key with a different
request ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from corridor import telemetry
from corridor.config import SERVICE_PORTS, ServiceSettings
from corridor.errors import CorridorError, invalid, precondition
from corridor.server import RunningServer, serve_until_signalled, start_server
from corridor.v1 import stablecoin_pb2 as pb
from corridor.v1 import stablecoin_pb2_grpc
from services.stablecoin.calibration import calibration_table
from services.stablecoin.curve import DAY_S
from services.stablecoin.model import COLUMNS, StablecoinWorld, TransferReceipt
from services.stablecoin.ramps import parse_corridor
from services.stablecoin.spec import SpecError, StablecoinSpec, load_preset, load_spec_file

log = logging.getLogger("corridor.stablecoin")
SERVICE_NAME = "corridor.v1.StablecoinRail"
DEFAULT_PRESET = "dollar-contagion"

_STATUS = {
    "settled": pb.STABLECOIN_TRANSFER_STATUS_SETTLED,
    "delayed": pb.STABLECOIN_TRANSFER_STATUS_DELAYED,
    "stuck": pb.STABLECOIN_TRANSFER_STATUS_STUCK,
}
_KYC = {
    pb.STABLECOIN_KYC_ROUTE_UNSPECIFIED: None,
    pb.STABLECOIN_KYC_ROUTE_REGULATED: True,
    pb.STABLECOIN_KYC_ROUTE_P2P: False,
}


def spec_from_settings(settings: ServiceSettings) -> StablecoinSpec:
    """The episode a server runs: `extra["spec_file"]`, else `extra["preset"]`."""
    extra = settings.extra
    try:
        if extra.get("spec_file"):
            return load_spec_file(Path(extra["spec_file"]))
        return load_preset(extra.get("preset") or DEFAULT_PRESET)
    except SpecError as exc:
        raise ValueError(str(exc)) from None


class StablecoinRailService:
    """The episode behind the service, with idempotent mutations."""

    def __init__(self, world: StablecoinWorld) -> None:
        self.world = world
        self._done: dict[tuple[str, str], tuple[bytes, Any]] = {}

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> StablecoinRailService:
        spec = spec_from_settings(settings)
        seed = int(settings.extra.get("seed", "1"))
        start = settings.extra.get("start_at")
        start_at = datetime.fromisoformat(start) if start else None
        if start_at is not None and start_at.tzinfo is None:
            start_at = start_at.replace(tzinfo=UTC)
        return cls(StablecoinWorld.from_spec(spec, seed=seed, start_at=start_at))

    # ---- idempotency

    def once(self, method: str, request: Any, compute: Any) -> Any:
        """Run ``compute()`` once per idempotency key; a retry gets the first result."""
        key = request.idempotency_key
        if not key:
            raise invalid("idempotency_key", "required: a retry must not act twice")
        probe = type(request)()
        probe.CopyFrom(request)
        probe.idempotency_key = ""
        fingerprint = probe.SerializeToString(deterministic=True)
        hit = self._done.get((method, key))
        if hit is not None:
            if hit[0] != fingerprint:
                raise CorridorError(
                    grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                    f"{method} {key!r} was first used with a different request", "idempotency_key",
                )  # fmt: skip
            return hit[1]
        result = compute()
        self._done[(method, key)] = (fingerprint, result)
        return result

    # ---- the clock

    @property
    def end_s(self) -> float:
        """The episode's last instant (its `days`): no request reaches past it, so no call can
        make the server step the model for longer than the episode it was started for."""
        return self.world.spec.days * DAY_S

    def at(self, at_s: float, field: str = "at_s") -> float:
        """A request's business time: 0 means now; never before the clock nor past the end."""
        self._check_time(at_s, field)
        t = at_s or self.world.now_s
        if t < self.world.now_s:
            raise precondition(
                "BUSINESS_TIME_IN_PAST",
                f"{t} s is before the business clock ({self.world.now_s} s)",
                field,
                now_s=str(self.world.now_s),
            )
        return t

    def advance(self, to_s: float) -> None:
        self.world.advance(self.at(to_s, "to_s"))

    # ---- operations

    def submit_transfer(self, r: Any) -> TransferReceipt:
        if r.amount_minor <= 0:
            raise invalid("amount_minor", f"must be > 0 US cents (got {r.amount_minor})")
        at_s = self.at(r.at_s)
        try:
            return self.world.submit_transfer(
                int(r.amount_minor), r.corridor, at_s, chain=r.chain or None,
                tip_tier=r.tip_tier or None, kyc_covered=_KYC.get(r.kyc_route),
            )  # fmt: skip
        except ValueError as exc:
            raise _field_error(exc) from None

    def submit_transfers(self, r: Any) -> Any:
        """A batch, all or nothing: every order is checked before the first moves the world."""
        times = self._check_orders(r.transfers)
        outcomes = []
        submit = self.world.submit_transfer
        for i, (o, at_s) in enumerate(zip(r.transfers, times, strict=True)):
            try:
                receipt = submit(int(o.amount_minor), o.corridor, at_s, chain=o.chain or None,
                                 tip_tier=o.tip_tier or None, kyc_covered=_KYC.get(o.kyc_route))  # fmt: skip
            except ValueError as exc:  # not caught by the checks: the batch stops here
                raise _field_error(exc, f"transfers[{i}].") from None
            outcomes.append(outcome_pb(receipt))
        return pb.StablecoinSubmitTransfersResponse(outcomes=outcomes)

    def _check_orders(self, orders: Any) -> list[float]:
        """Each order's business time, or the first bad field as `transfers[i].field`."""
        clock = self.world.now_s
        times: list[float] = []
        for i, o in enumerate(orders):
            name = f"transfers[{i}]."
            self._check_order(o, name)
            at_s = o.at_s or clock
            after = times[-1] if times else clock
            if at_s < after:
                what = "the transfer before it" if times else "the business clock"
                raise precondition("BUSINESS_TIME_IN_PAST", f"{at_s} s is before {what} ({after} s)",
                                   name + "at_s", now_s=str(clock))  # fmt: skip
            times.append(at_s)
        return times

    def _check_order(self, o: Any, name: str) -> None:
        """What `StablecoinWorld.submit_transfer` would refuse, found before anything moves."""
        spec = self.world.spec
        if o.amount_minor <= 0:
            raise invalid(name + "amount_minor", f"must be > 0 US cents (got {o.amount_minor})")
        try:
            src, dst = parse_corridor(o.corridor)
        except ValueError as exc:
            raise _field_error(exc, name) from None
        for code in (src, dst):
            if code not in spec.ramps:
                known = ", ".join(sorted(spec.ramps)) or "none"
                raise invalid(name + "corridor", f"no ramp for {code} (ramps: {known})")
        chain = o.chain or spec.ramps[src].chain or spec.transfers.default_chain
        if chain not in spec.chains:
            known = ", ".join(spec.chains)
            raise invalid(name + "chain", f"unknown chain {chain!r} (known: {known})")
        if o.tip_tier:
            self._check_tip(o.tip_tier, chain, name + "tip_tier")
        self._check_time(o.at_s, name + "at_s")

    def _check_time(self, at_s: float, field: str) -> None:
        if not math.isfinite(at_s) or at_s < 0:
            raise invalid(field, f"must be a finite number of seconds >= 0 (got {at_s})")
        if at_s > self.end_s:
            days = self.world.spec.days
            raise invalid(
                field, f"{at_s} s is after the episode ends ({days:g} days = {self.end_s:g} s)"
            )

    def _check_tip(self, tier: str, chain: str, field: str) -> None:
        tips = self.world.spec.chains[chain].tips
        if tips and tier not in tips:
            raise invalid(field, f"unknown tip tier {tier!r} on {chain} (known: {', '.join(tips)})")

    def mint(self, r: Any) -> tuple[int, int, int]:
        at_s = self.at(r.at_s)
        if not r.owner:
            raise invalid("owner", "required: whose tokens these are")
        terms = self.world.spec.issuer.mint
        if r.amount_minor < max(1, terms.min_minor):
            raise invalid("amount_minor", f"below the issuer's minimum of {terms.min_minor}")
        self.world.advance(at_s)
        issuer = self.world.issuer
        if not issuer.can_mint(at_s):
            why = (
                "minting is disabled" if not terms.enabled
                else "banks are closed" if not issuer.calendar.is_open(at_s)
                else "reserves fall short of tokens outstanding"
            )  # fmt: skip
            raise precondition("MINT_CLOSED", f"cannot mint now: {why}", "at_s")
        tokens = self.world.mint(r.owner, int(r.amount_minor), at_s)
        return tokens, int(r.amount_minor) - tokens, self.world.api_tokens_minor.get(r.owner, 0)

    def redeem(self, r: Any) -> tuple[int, float, int, int]:
        at_s = self.at(r.at_s)
        if not r.owner:
            raise invalid("owner", "required: whose tokens these are")
        if r.amount_minor <= 0:
            raise invalid("amount_minor", f"must be > 0 (got {r.amount_minor})")
        self.world.advance(at_s)
        held = self.world.api_tokens_minor.get(r.owner, 0)
        if r.amount_minor > held:
            raise precondition(
                "INSUFFICIENT_TOKENS", f"{r.owner!r} holds {held} token minor units", "amount_minor"
            )
        issuer = self.world.issuer
        ahead, wait = issuer.queue_minor, issuer.wait_days(at_s)
        if not self.world.redeem(r.owner, int(r.amount_minor), at_s):
            raise precondition("REDEMPTIONS_SUSPENDED", "the issuer is not accepting redemptions")
        balance = self.world.api_tokens_minor.get(r.owner, 0)
        return ahead, wait, balance, self.world.api_paid_minor.get(r.owner, 0)


def _field_error(exc: ValueError, prefix: str = "") -> CorridorError:
    """The model's ValueErrors start with the field they are about ("corridor: ...");
    ``prefix`` places it in a batch ("transfers[3].")."""
    text = str(exc)
    field, _, message = text.partition(": ")
    if field == "at_s":
        return precondition("BUSINESS_TIME_IN_PAST", message, prefix + "at_s")
    if field and " " not in field:
        return invalid(prefix + field, message)
    return invalid(prefix.rstrip(".") or "request", text)


def market_pb(world: StablecoinWorld) -> Any:
    issuer, p = world.issuer, world.portfolio
    start_us = int(world.start_at.timestamp() * 1_000_000)
    tier = world.spec.transfers.tip_tier
    return pb.StablecoinMarket(
        now_s=world.now_s,
        now_at_us=start_us + int(world.now_s * 1_000_000),
        price=world.price,
        min_venue_price=min(v.price for v in world.venues),
        supply_minor=issuer.supply_minor,
        reserves_mtm_minor=p.mtm_minor,
        coverage=issuer.coverage(),
        redemption_queue_minor=issuer.queue_minor,
        redemptions_cum_pct=(issuer.burned_minor - issuer.minted_minor)
        / issuer.supply_start_minor * 100.0,
        bank_open=world.calendar.is_open(world.now_s),
        alarm=world.sentiment.global_alarm,
        migration_share=world.migration_share(),
        supply_start_minor=issuer.supply_start_minor,
        burned_minor=issuer.burned_minor,
        minted_minor=issuer.minted_minor,
        venues=[
            pb.StablecoinVenue(name=v.name, kind=v.kind, chain=v.chain, price=v.price,
                               token_minor=v.token_minor, usd_minor=v.usd_minor)
            for v in world.venues
        ],
        chains=[
            pb.StablecoinChain(name=name, fee_market=c.spec.fee_market, base_fee=c.base_fee,
                               pending_gas=c.pending_gas(),
                               transfer_fee_minor=c.transfer_fee_minor_now(tier),
                               block_number=c.block_at(c.t_s))
            for name, c in world.chains.items()
        ],
    )  # fmt: skip


def outcome_pb(r: TransferReceipt) -> Any:
    """A receipt's headline fields (what a batch caller needs per payment)."""
    out = pb.StablecoinTransferOutcome(
        transfer_id=r.transfer_id, total_cost_minor=r.total_cost_minor,
        status=_STATUS[r.status], token_price=r.token_price,
    )  # fmt: skip
    if r.settle_s is not None:
        out.settle_s = r.settle_s
    return out


def timeseries_pb(world: StablecoinWorld) -> Any:
    """`world.timeseries()` as messages: the CSV's columns, then one sample per chain."""
    names = list(world.chains)
    rows = []
    for d in world.timeseries():
        chains = [
            pb.StablecoinChainSample(name=n, base_fee=d[f"base_fee_{n}"], mempool_gas=d[f"mempool_gas_{n}"],
                                     transfer_fee_minor=d[f"transfer_fee_minor_{n}"])
            for n in names
        ]  # fmt: skip
        rows.append(
            pb.StablecoinTimeseriesRow(**{k: d[k] for k in COLUMNS}, at=d["at"], chains=chains)
        )
    return pb.StablecoinGetTimeseriesResponse(rows=rows)


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as JSON; times as ISO 8601 (as `corridor simulate` writes them)."""
    return json.dumps(summary, default=_json_default)


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat()
    return str(o)


def receipt_pb(r: TransferReceipt) -> Any:
    d = r.to_dict()
    d["status"] = _STATUS[r.status]
    if d["credited_at_s"] is None:
        del d["credited_at_s"]
    if d["settle_s"] is None:
        del d["settle_s"]
    return pb.StablecoinTransferReceipt(**d)


class StablecoinRailServicer(stablecoin_pb2_grpc.StablecoinRailServicer):
    """Messages in, domain calls, messages out."""

    def __init__(self, service: StablecoinRailService) -> None:
        self.s = service

    async def Advance(self, request: Any, context: Any) -> Any:
        self.s.advance(request.to_s)
        return pb.StablecoinAdvanceResponse(market=market_pb(self.s.world))

    async def SubmitTransfer(self, request: Any, context: Any) -> Any:
        receipt = self.s.once("SubmitTransfer", request, lambda: self.s.submit_transfer(request))
        return pb.StablecoinSubmitTransferResponse(receipt=receipt_pb(receipt))

    async def SubmitTransfers(self, request: Any, context: Any) -> Any:
        return self.s.once("SubmitTransfers", request, lambda: self.s.submit_transfers(request))

    async def Mint(self, request: Any, context: Any) -> Any:
        tokens, fee, balance = self.s.once("Mint", request, lambda: self.s.mint(request))
        return pb.StablecoinMintResponse(tokens_minor=tokens, fee_minor=fee, balance_minor=balance)

    async def Redeem(self, request: Any, context: Any) -> Any:
        ahead, wait, balance, paid = self.s.once("Redeem", request, lambda: self.s.redeem(request))
        return pb.StablecoinRedeemResponse(
            queue_ahead_minor=ahead, expected_wait_days=wait, balance_minor=balance, paid_minor=paid
        )

    async def GetMarket(self, request: Any, context: Any) -> Any:
        return market_pb(self.s.world)

    async def GetSummary(self, request: Any, context: Any) -> Any:
        summary = self.s.world.summary()
        rows = [
            pb.StablecoinCalibrationRow(metric=r["metric"], low=r["low"], high=r["high"],
                                        simulated=float(r["simulated"]), ok=r["ok"])
            for r in calibration_table(summary)
        ]  # fmt: skip
        return pb.StablecoinGetSummaryResponse(
            spec=summary["spec"],
            seed=summary["seed"],
            min_price=summary["min_price"],
            hours_below_0_99=summary["hours_below_0_99"],
            net_redemptions_pct_4d=summary["net_redemptions_pct_4d"],
            final_price=summary["final_price"],
            supply_start_minor=summary["supply_start_minor"],
            supply_end_minor=summary["supply_end_minor"],
            reserve_losses_minor=summary["reserve_losses_minor"],
            fire_sale_minor=summary["fire_sale_minor"],
            calibration=rows,
            summary_json=summary_json(summary),
        )

    async def GetTimeseries(self, request: Any, context: Any) -> Any:
        return timeseries_pb(self.s.world)


async def create_server(
    settings: ServiceSettings, bind: str | None = None
) -> tuple[RunningServer, StablecoinRailService]:
    """Build the episode from settings and serve it; the caller stops the server."""
    service = StablecoinRailService.from_settings(settings)
    running = await start_server(
        [
            (
                stablecoin_pb2_grpc.add_StablecoinRailServicer_to_server,
                StablecoinRailServicer(service),
                SERVICE_NAME,
            )
        ],
        bind or settings.bind,
    )
    return running, service


async def run(settings: ServiceSettings) -> None:
    telemetry.init_tracing(settings.service_name)
    running, service = await create_server(settings)
    spec = service.world.spec
    print(f"corridor stablecoin ({spec.name}, seed {service.world.seed}) serving on port "
          f"{running.port}", flush=True)  # fmt: skip
    await serve_until_signalled(running)


def settings_for(
    bind: str, preset: str, spec_file: str, seed: int, start_at: str
) -> ServiceSettings:
    extra = {"preset": preset, "seed": str(seed)}
    if spec_file:
        extra["spec_file"] = spec_file
    if start_at:
        extra["start_at"] = start_at
    return ServiceSettings(name="stablecoin", bind=bind, extra=extra)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="corridor stablecoin serve",
                                 description="Serve the stablecoin-rail comparator over gRPC.")  # fmt: skip
    ap.add_argument("--bind", default=f"127.0.0.1:{SERVICE_PORTS['stablecoin']}", help="host:port")
    ap.add_argument("--preset", default=DEFAULT_PRESET, help="svb-2023, dollar-contagion, ...")
    ap.add_argument(
        "--file",
        "--spec-file",
        dest="file",
        default="",
        help="a spec YAML (or the JSON a simulation writes) instead of a preset",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start-at", default="", help="ISO time to start the episode at")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings_for(a.bind, a.preset, a.file, a.seed, a.start_at)))


if __name__ == "__main__":
    main()
