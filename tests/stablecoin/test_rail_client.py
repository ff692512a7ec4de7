"""The stablecoin rail as `corridor simulate` drives it: the real service over gRPC, started with a
scenario's resolved spec, gives exactly what the in-process `StablecoinWorld` gives; batches are
all or nothing; a rail that is not there stops the run with a message naming it."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from corridor.bench import free_port
from corridor.errors import error_details
from corridor.scenario import load_scenario
from corridor.scenario.stablecoin_rail import StablecoinRailClient, StablecoinRailUnavailable
from corridor.server import channel
from corridor.v1 import stablecoin_pb2 as pb
from corridor.v1 import stablecoin_pb2_grpc
from services.stablecoin.model import StablecoinWorld
from services.stablecoin.server import create_server, settings_for
from services.stablecoin.spec import SpecError, load_spec_file, write_spec_file

HOUR = 3600.0


def _flags(args: list[str]) -> dict[str, str]:
    return dict(zip(args[::2], args[1::2], strict=True))


@pytest.fixture(scope="module")
def scenario() -> Any:
    s = load_scenario("dollar-contagion", {"seed": 11})
    assert s.stablecoin_spec is not None and not isinstance(s.stablecoin_spec, dict)
    return s


def _client(scenario: Any) -> StablecoinRailClient:
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(scenario.start_epoch_s, tz=UTC)
    return StablecoinRailClient(scenario.stablecoin_spec, seed=scenario.seed, start_at=start)


@pytest.fixture
async def served(scenario: Any, tmp_path: Path) -> AsyncIterator[StablecoinRailClient]:
    """The service started the way the simulator starts it: from the client's serve flags."""
    client = _client(scenario)
    f = _flags(client.serve_args(tmp_path))
    settings = settings_for("127.0.0.1:0", "", f["--spec-file"], int(f["--seed"]), f["--start-at"])
    running, _ = await create_server(settings)
    client.connect(f"127.0.0.1:{running.port}")
    try:
        yield client
    finally:
        await client.close()
        await running.stop(0.5)


def _step_payments(rng: random.Random, codes: list[str], start: float) -> tuple[Any, ...]:
    """A step's payments as the engine sends them: US cents, directed corridors, time-ordered."""
    n = rng.randrange(0, 12)
    at = np.sort(np.array([start + rng.uniform(0, HOUR) for _ in range(n)]))
    amounts = np.array([rng.choice([1, 2_500, 40_000, 1_000_000, 75_000_000]) for _ in range(n)])
    corridors = [rng.choice(codes) for _ in range(n)]
    return amounts.astype(np.int64), corridors, at


async def test_the_service_episode_is_the_in_process_episode(
    served: StablecoinRailClient, scenario: Any
) -> None:
    spec = scenario.stablecoin_spec
    world = StablecoinWorld.from_spec(spec, seed=scenario.seed, start_at=served.start_at)
    codes = [c.code for c in scenario.directed_corridors]
    rng = random.Random(5)
    horizon = scenario.horizon_s
    stuck_or_delayed = 0
    start = 0.0
    while start < horizon:
        await served.advance(start)
        world.advance(start)
        # What the engine's time-series columns read: the market the step's Advance returned.
        assert served.price == world.price
        assert served.supply_minor == world.issuer.supply_minor
        gross = 100.0 * world.issuer.burned_minor / (world.issuer.supply_start_minor or 1)
        assert served.redemptions_cum_pct == gross
        amounts, corridors, at = _step_payments(rng, codes, start)
        if len(amounts):
            got = await served.submit(amounts, corridors, at, key=f"step-{start:.0f}")
            for i in range(len(amounts)):
                r = world.submit_transfer(int(amounts[i]), corridors[i], float(at[i]))
                assert got.cost_usd_minor[i] == r.total_cost_minor
                ok = r.settle_s is not None and r.status != "stuck"
                assert got.status[i] == ("settled" if ok else "failed")
                assert (got.settle_s[i] == r.settle_s) if ok else np.isnan(got.settle_s[i])
                assert got.transfer_ids[i] == r.transfer_id
                stuck_or_delayed += r.status != "settled"
        start += HOUR
    await served.finish(horizon)
    world.advance(horizon)
    assert world.transfers_submitted > 100  # the comparison covered real traffic
    # summary.json["stablecoin"] is byte for byte what the in-process world gives.
    from corridor.scenario.engine import _json_default

    mine = json.dumps(served.summary(), default=_json_default, sort_keys=True)
    theirs = json.dumps(world.summary(), default=_json_default, sort_keys=True)
    assert mine == theirs
    # stablecoin_timeseries.csv: the same rows, columns, order and types.
    rows, expected = served.timeseries(), world.timeseries()
    assert [list(r) for r in rows] == [list(r) for r in expected]
    assert [[type(v) for v in r.values()] for r in rows] == [
        [type(v) for v in r.values()] for r in expected
    ]
    assert rows == expected


async def test_a_batch_is_all_or_nothing_and_names_the_bad_transfer(
    served: StablecoinRailClient,
) -> None:
    await served.advance(HOUR)
    async with channel(served.target) as ch:
        stub = stablecoin_pb2_grpc.StablecoinRailStub(ch)

        def order(**kw: Any) -> Any:
            return pb.StablecoinTransferOrder(**{"amount_minor": 10_000, "corridor": "CN-HK",
                                                 "at_s": 2 * HOUR, **kw})  # fmt: skip

        cases = [
            ([order(), order(), order(corridor="CN-ZZ")], "transfers[2].corridor", "INVALID_ARGUMENT"),
            ([order(amount_minor=0)], "transfers[0].amount_minor", "INVALID_ARGUMENT"),
            ([order(), order(at_s=1.5 * HOUR)], "transfers[1].at_s", "FAILED_PRECONDITION"),
            ([order(at_s=1e300)], "transfers[0].at_s", "INVALID_ARGUMENT"),
            ([order(at_s=float("nan"))], "transfers[0].at_s", "INVALID_ARGUMENT"),
            ([order(chain="solana")], "transfers[0].chain", "INVALID_ARGUMENT"),
            ([order(chain="ethereum", tip_tier="ludicrous")], "transfers[0].tip_tier", "INVALID_ARGUMENT"),
        ]  # fmt: skip
        before = await stub.GetMarket(pb.StablecoinGetMarketRequest())
        for i, (orders, field, code) in enumerate(cases):
            req = pb.StablecoinSubmitTransfersRequest(idempotency_key=f"bad-{i}", transfers=orders)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.SubmitTransfers(req)
            err = error_details(info.value)
            assert (err.code.name, err.field) == (code, field), err
        after = await stub.GetMarket(pb.StablecoinGetMarketRequest())
        assert after == before  # nothing moved: not the clock, not the chains
        summary = json.loads((await stub.GetSummary(pb.StablecoinGetSummaryRequest())).summary_json)
        assert summary["transfers_submitted"] == 0

        good = pb.StablecoinSubmitTransfersRequest(
            idempotency_key="ok", transfers=[order(), order()]
        )
        first = await stub.SubmitTransfers(good)
        assert (
            len(first.outcomes) == 2
            and first.outcomes[0].transfer_id != first.outcomes[1].transfer_id
        )
        assert await stub.SubmitTransfers(good) == first  # a retry carries nothing twice
        reused = pb.StablecoinSubmitTransfersRequest(idempotency_key="ok", transfers=[order()])
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.SubmitTransfers(reused)
        assert error_details(info.value).reason == "IDEMPOTENCY_KEY_REUSED"
        summary = json.loads((await stub.GetSummary(pb.StablecoinGetSummaryRequest())).summary_json)
        assert summary["transfers_submitted"] == 2


async def test_advance_past_the_episode_end_is_refused(served: StablecoinRailClient) -> None:
    with pytest.raises(StablecoinRailUnavailable, match="after the episode ends"):
        await served.advance(served.spec.days * 86_400.0 + 1)


def test_the_written_spec_reads_back_equal(scenario: Any, tmp_path: Path) -> None:
    spec = scenario.stablecoin_spec
    assert load_spec_file(write_spec_file(spec, tmp_path / "s.json")) == spec
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "name": "x",\n  oops\n}\n')
    with pytest.raises(SpecError) as info:
        load_spec_file(bad)
    assert info.value.line == 3 and "JSON" in info.value.message


async def test_a_rail_that_is_not_there_is_an_error_not_a_fallback(scenario: Any) -> None:
    client = _client(scenario)
    with pytest.raises(StablecoinRailUnavailable, match="never started"):
        await client.advance(0.0)
    client.connect(f"127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(StablecoinRailUnavailable, match="failed Advance: UNAVAILABLE"):
        await client.advance(0.0)
    await client.close()


def test_a_service_that_cannot_start_stops_the_run_with_its_reason(
    scenario: Any, tmp_path: Path
) -> None:
    """The engine's fleet start: the rail's own process exits (a spec it cannot read)."""
    from rich.console import Console

    from corridor.fleet import Fleet
    from corridor.scenario.engine import CorridorSimulation, RunOptions

    sim = CorridorSimulation(RunOptions(scenario, tmp_path / "out", tmp_path), Console(quiet=True))
    fleet = Fleet.plan(tmp_path, "", ["stablecoin"], {"stablecoin": free_port()})
    rail = fleet.get("stablecoin")
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json")
    rail.argv += ["--spec-file", str(bad)]
    sim.world.connect(rail.target, rail.log_path)
    try:
        with pytest.raises(StablecoinRailUnavailable) as info:
            sim._start_fleet(fleet)
    finally:
        fleet.stop()
    text = str(info.value)
    assert "stablecoin rail service" in text and "exited with code 2" in text
    assert "broken.json" in text and "JSON syntax error" in text  # the log's own reason
