"""The synthetic world a load test pays in: operators, funded wallets, liquidity on the bridge,
voucher programs.

Set-up is the scenario engine's own (`CorridorClient.setup`, the same operators, issuance,
wallet opening and LP funding a `corridor simulate` run does), restricted to the nodes that are
running. Every call carries a fixed idempotency key derived from `tag`, so running the set-up
again against the same corridor changes nothing and returns the same wallet ids: a Locust master,
each worker, and a second load test all see one world.

The world is plain JSON (`World.to_json`), so it travels from the set-up process to Locust
(a file, or a message from the master to its workers). `python -m loadtests.world --out FILE`
runs the set-up in a process of its own (asyncio grpc, no gevent).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtests.targets import Targets, TargetsNotFound, discover

DEFAULT_TAG = "loadtest"
DEFAULT_WALLETS_CAP = 1000  # per node: a tenth corporate (tier 1, no limits), the rest personal
VOUCHER_PROGRAMS = 20
VOUCHER_CATEGORIES = ("5411", "5812")  # groceries, restaurants
VOUCHER_REGION = "440303"  # Shenzhen, Luohu
STABLECOIN_OWNERS = 8
STABLECOIN_MINT_MINOR = 1_000_000_000_00  # US$1bn of tokens per direct counterparty


@dataclass
class NodeWorld:
    code: str
    target: str
    currency: str
    wallets: list[str]  # corporate tier-1 wallets, funded: payers and payees of the load
    weight: float  # share of domestic activity (its wallet population)


@dataclass
class VoucherWorld:
    target: str
    currency: str
    programs: list[str]


@dataclass
class StablecoinWorld:
    target: str
    owners: list[str]  # direct counterparties holding minted tokens (empty: the mint is closed)


@dataclass
class World:
    tag: str
    nodes: dict[str, NodeWorld]
    bridge: str | None = None
    corridors: list[tuple[str, str, float]] = field(default_factory=list)  # directed, weighted
    vouchers: VoucherWorld | None = None
    stablecoin: StablecoinWorld | None = None  # if the stablecoin-rail service runs
    supervision: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> World:
        d = json.loads(text)
        return cls(
            tag=d["tag"],
            nodes={k: NodeWorld(**v) for k, v in d["nodes"].items()},
            bridge=d.get("bridge"),
            corridors=[(a, b, float(w)) for a, b, w in d.get("corridors", [])],
            vouchers=VoucherWorld(**d["vouchers"]) if d.get("vouchers") else None,
            stablecoin=StablecoinWorld(**d["stablecoin"]) if d.get("stablecoin") else None,
            supervision=d.get("supervision"),
        )


def corridor_scenario(codes: list[str]) -> Any:
    """The default scenario's jurisdictions and corridor weights (CN<->HK heaviest), restricted
    to the running nodes."""
    from corridor.scenario.schema import Scenario

    name, question = "loadtest", "Can the running corridor carry the load?"
    default = Scenario(name=name, question=question)
    present = set(codes)
    return Scenario(
        name=name,
        question=question,
        jurisdictions=[j for j in default.jurisdictions if j.code in present],
        corridors=[c for c in default.corridors if c.from_ in present and c.to in present],
    )


async def prepare_world(
    targets: Targets, tag: str = DEFAULT_TAG, wallets_cap: int = DEFAULT_WALLETS_CAP
) -> World:
    """Set the world up through the public gRPC APIs (idempotent; see module doc)."""
    from corridor.scenario.services import CorridorClient

    if not targets.bridge:
        raise TargetsNotFound("the bridge is not running; the load test needs it")
    if len(targets.nodes) < 2:
        raise TargetsNotFound("at least two central-bank nodes must be running")
    s = corridor_scenario(list(targets.nodes))
    endpoints = {**{c.lower(): t for c, t in targets.nodes.items()}, "bridge": targets.bridge}
    client = CorridorClient(
        endpoints, [j.code for j in s.jurisdictions], [j.currency for j in s.jurisdictions], tag
    )
    try:
        opened = await client.setup(s, wallets_cap)
    finally:
        await client.close()
    nodes = {
        j.code: NodeWorld(j.code, targets.nodes[j.code], j.currency, opened[j.code][0], j.wallets)
        for j in s.jurisdictions
    }
    corridors = [(*d.code.split("-"), d.weight) for d in s.directed_corridors]
    world = World(tag, nodes, targets.bridge, corridors)
    world.supervision = targets.services.get("supervision")
    if targets.services.get("stablecoin"):
        world.stablecoin = await prepare_stablecoin(targets.services["stablecoin"], tag)
    if targets.vouchers:
        world.vouchers = await prepare_vouchers(targets.vouchers, tag)
    return world


async def prepare_vouchers(target: str, tag: str, programs: int = VOUCHER_PROGRAMS) -> VoucherWorld:
    """A funder's deposit and consumption-voucher programs (groceries and restaurants in
    Shenzhen, a year to run)."""
    from corridor.scenario.services import simulator
    from corridor.server import channel
    from corridor.v1 import vouchers_pb2 as pb
    from corridor.v1 import vouchers_pb2_grpc

    funder = f"{tag}-funder"
    # Fixed per calendar year so a second set-up repeats the same request (same program).
    year = dt.datetime.now(dt.UTC).year
    expires = int(dt.datetime(year + 2, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000)
    async with channel(target) as ch:
        stub = vouchers_pb2_grpc.VouchersStub(ch)
        await stub.Deposit(pb.VoucherDepositRequest(
            idempotency_key=f"{tag}-deposit", funder_id=funder, amount_minor=10**15, currency="CNY"),
            metadata=simulator())  # fmt: skip
        ids = [f"{tag}-voucher-{i}" for i in range(programs)]
        for pid in ids:
            await stub.IssueProgram(pb.IssueProgramRequest(
                idempotency_key=f"{pid}-issue", template=pb.VOUCHER_TEMPLATE_CONSUMPTION_VOUCHER,
                program=pb.VoucherProgram(program_id=pid, funder_id=funder, amount_minor=10**12,
                                          currency="CNY", expires_at_us=expires,
                                          per_payment_cap_minor=100_000),
                consumption_voucher=pb.ConsumptionVoucherParams(
                    merchant_categories=list(VOUCHER_CATEGORIES), regions=[VOUCHER_REGION[:4]]),
            ), metadata=simulator())  # fmt: skip
    return VoucherWorld(target, "CNY", ids)


async def prepare_stablecoin(
    target: str, tag: str, owners: int = STABLECOIN_OWNERS
) -> StablecoinWorld:
    """Direct counterparties with tokens to redeem. The issuer mints in bank hours only, so the
    episode's clock is first moved to the next bank-open hour (it only moves forward)."""
    import grpc

    from corridor.scenario.services import simulator
    from corridor.server import channel
    from corridor.v1 import stablecoin_pb2 as pb
    from corridor.v1 import stablecoin_pb2_grpc

    names = [f"{tag}-arb-{i}" for i in range(owners)]
    async with channel(target) as ch:
        stub = stablecoin_pb2_grpc.StablecoinRailStub(ch)
        md = simulator()  # the episode's clock and the direct counterparties' mints
        market = await stub.GetMarket(pb.StablecoinGetMarketRequest(), metadata=md)
        for _ in range(7 * 24):
            if market.bank_open:
                break
            market = (
                await stub.Advance(
                    pb.StablecoinAdvanceRequest(to_s=market.now_s + 3600), metadata=md
                )
            ).market
        minted = []
        for name in names:
            try:
                await stub.Mint(pb.StablecoinMintRequest(
                    idempotency_key=f"{name}-mint", owner=name, amount_minor=STABLECOIN_MINT_MINOR),
                    metadata=md)  # fmt: skip
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                    raise
                continue  # mint closed (e.g. reserves short): this owner redeems nothing
            minted.append(name)
    return StablecoinWorld(target, minted)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m loadtests.world",
        description="Set up (idempotently) the load test's world on a running corridor.",
    )
    ap.add_argument("--out", required=True, help="write the world JSON here")
    ap.add_argument("--tag", default=DEFAULT_TAG)
    ap.add_argument("--wallets-cap", type=int, default=DEFAULT_WALLETS_CAP)
    a = ap.parse_args(argv)
    try:
        world = asyncio.run(prepare_world(discover(), a.tag, a.wallets_cap))
    except TargetsNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(a.out).write_text(world.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
