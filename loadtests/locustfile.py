"""Locust users for the corridor: `locust -f loadtests/locustfile.py` (web UI) or headless.

  corridor up --detach
  locust -f loadtests/locustfile.py                                  # web UI, pick users
  locust -f loadtests/locustfile.py,loadtests/shapes.py --headless   # the dollar-contagion shape
  corridor loadtest --shape dollar-contagion --minutes 5             # the same, with a summary

Targets come from CORRIDOR_NODES / CORRIDOR_BRIDGE_TARGET / ... or `corridor up`'s up.json
(`loadtests.targets`). The world (funded wallets, LP liquidity, voucher programs) is set up once
per test: from `--corridor-world FILE` if given, else by the master (or the single local process)
on test start through `python -m loadtests.world`, idempotently, and sent to the workers.

Users, one per kind of traffic (class weights set the mix; `@task` weights the calls):
- DomesticPaymentUser    Wallets.PayBatch on a node (nodes weighted by wallet population)
- CrossBorderUser        Bridge.CrossBorderPayBatch, each payment on a corridor drawn by the
                         scenario's corridor weights (CN<->HK heaviest)
- LatencyProbeUser       unary Wallets.Pay and Bridge.CrossBorderPay, for per-payment latency
- VoucherRedemptionUser  Vouchers.RedeemBatch / Redeem (if the vouchers service runs)
- StablecoinUser         StablecoinRail.SubmitTransfer and Mint/Redeem (if that service runs)
Batch users carry the volume (`--corridor-batch` payments per call).
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import gevent.event
from locust import events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from corridor.security.credentials import metadata_for
from corridor.v1 import (
    bridge_pb2,
    bridge_pb2_grpc,
    ledger_pb2,
    node_pb2,
    node_pb2_grpc,
    stablecoin_pb2,
    stablecoin_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
    vouchers_pb2,
    vouchers_pb2_grpc,
)
from loadtests.grpcuser import GrpcUser, channel_for, close_channels  # gevent-initialised grpc
from loadtests.stages import CORRIDOR_RAIL, STABLECOIN_RAIL
from loadtests.summary import write_summary
from loadtests.targets import TargetsNotFound, discover
from loadtests.world import VOUCHER_CATEGORIES, VOUCHER_REGION, World

WORLD_MESSAGE = "corridor_world"
SETTLED = bridge_pb2.PAYMENT_STATUS_SETTLED


class _WorldHolder:
    """The world this process pays in, once known (users wait for it in on_start)."""

    def __init__(self) -> None:
        self.world: World | None = None
        self.ready = gevent.event.Event()

    def set(self, world: World) -> None:
        self.world = world
        self.ready.set()

    def get(self, timeout_s: float = 120.0) -> World:
        if not self.ready.wait(timeout_s) or self.world is None:
            raise StopUser()
        return self.world


WORLD = _WorldHolder()
PEAK_USERS = [0]


# ---------------------------------------------------------------------- options and events
@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser  # Locust's parser takes the web-UI flags; argument groups do not
    g.add_argument(
        "--corridor-world", default="", help="world JSON from `python -m loadtests.world`"
    )
    g.add_argument("--corridor-batch", type=int, default=200, help="payments per batch call")
    g.add_argument("--corridor-minutes", type=float, default=5.0,
                   help="length of the dollar-contagion shape")  # fmt: skip
    g.add_argument("--corridor-users", type=int, default=10,
                   help="users in the steady stage of the shape (x10 in the surge)")  # fmt: skip
    g.add_argument("--corridor-stage", default="steady", choices=["steady", "surge", "recovery"],
                   help="the mix without a shape (the shape sets it as it goes)")  # fmt: skip
    g.add_argument("--corridor-summary", default="", include_in_web_ui=False,
                   help="write a JSON summary here when the test stops")  # fmt: skip


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(
            WORLD_MESSAGE, lambda environment, msg, **kw: WORLD.set(World.from_json(msg.data))
        )


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        if not WORLD.ready.is_set() and _opt(environment, "corridor_world"):
            WORLD.set(World.from_json(Path(_opt(environment, "corridor_world")).read_text()))
        return
    if not WORLD.ready.is_set():
        WORLD.set(_load_or_prepare_world(environment))
    if isinstance(environment.runner, MasterRunner):
        assert WORLD.world is not None
        environment.runner.send_message(WORLD_MESSAGE, WORLD.world.to_json())


@events.spawning_complete.add_listener
def _on_spawned(user_count: int, **_: Any) -> None:
    PEAK_USERS[0] = max(PEAK_USERS[0], user_count)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    path = _opt(environment, "corridor_summary")
    if path and not isinstance(environment.runner, WorkerRunner):
        write_summary(environment, Path(path), PEAK_USERS[0])


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    close_channels()


def _opt(environment: Any, name: str) -> Any:
    return getattr(environment.parsed_options, name, None) if environment.parsed_options else None


def _load_or_prepare_world(environment: Any) -> World:
    given = _opt(environment, "corridor_world")
    if given:
        return World.from_json(Path(given).read_text())
    # The set-up is asyncio grpc: it runs in a clean process, not under gevent.
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "world.json"
        proc = subprocess.run([sys.executable, "-m", "loadtests.world", "--out", str(out)],
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"world set-up failed: {proc.stderr.strip()[-2000:]}")
        return World.from_json(out.read_text())


def _targets_at_import() -> Any:
    try:
        return discover()
    except (TargetsNotFound, ValueError):
        return None  # decided at test start; users stop if their service is missing


_TARGETS = _targets_at_import()


def _batch(user: GrpcUser) -> int:
    return max(1, int(_opt(user.environment, "corridor_batch") or 200))


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([x for x, _ in weighted], [w for _, w in weighted])[0]


# ---------------------------------------------------------------------- CBDC users
class DomesticPaymentUser(GrpcUser):
    """Retail and merchant payments inside one jurisdiction, a batch per call."""

    weight = 4
    base_wait_s = 0.5

    def on_start(self) -> None:
        super().on_start()
        self.world = WORLD.get()
        self.rng = random.Random()
        self.nodes = [(n, n.weight) for n in self.world.nodes.values()]

    @task
    def pay_batch(self) -> None:
        node = _pick(self.rng, self.nodes)
        n = len(node.wallets)
        reqs = []
        for _ in range(_batch(self)):
            a = self.rng.randrange(n)
            b = (a + 1 + self.rng.randrange(n - 1)) % n
            reqs.append(node_pb2.PayRequest(
                idempotency_key=self.key(), from_wallet_id=node.wallets[a], to_wallet_id=node.wallets[b],
                amount_minor=self.rng.randint(1_00, 2_000_00), currency=node.currency,
                kind=self.rng.choice(("p2p", "merchant"))))  # fmt: skip
        stub = node_pb2_grpc.WalletsStub(channel_for(node.target))
        self.call("Wallets/PayBatch", stub.PayBatch, node_pb2.PayBatchRequest(payments=reqs),
                  settled=lambda r: sum(1 for x in r.results if x.code == ledger_pb2.OK))  # fmt: skip


class CrossBorderUser(GrpcUser):
    """Cross-border payments over the bridge (PvP), a batch per call, corridors weighted."""

    weight = 3
    rail = CORRIDOR_RAIL
    base_wait_s = 0.5

    def on_start(self) -> None:
        super().on_start()
        self.world = WORLD.get()
        if not self.world.bridge or not self.world.corridors:
            raise StopUser()
        self.rng = random.Random()
        self.corridors = [((a, b), w) for a, b, w in self.world.corridors]
        self.stub = bridge_pb2_grpc.BridgeStub(channel_for(self.world.bridge))

    def payment(self) -> bridge_pb2.CrossBorderPayRequest:
        pj, qj = _pick(self.rng, self.corridors)
        payer, payee = self.world.nodes[pj], self.world.nodes[qj]
        return bridge_pb2.CrossBorderPayRequest(
            idempotency_key=self.key(), payer_jurisdiction=pj,
            payer_wallet_id=self.rng.choice(payer.wallets), payee_jurisdiction=qj,
            payee_wallet_id=self.rng.choice(payee.wallets),
            amount_minor=self.rng.randint(100_00, 20_000_00), currency=payer.currency,
            purpose=self.rng.choice(("trade", "retail", "remittance")),
        )  # fmt: skip

    @task
    def pay_batch(self) -> None:
        req = bridge_pb2.CrossBorderPayBatchRequest(
            payments=[self.payment() for _ in range(_batch(self))]
        )
        self.call("Bridge/CrossBorderPayBatch", self.stub.CrossBorderPayBatch, req,
                  settled=lambda r: sum(1 for x in r.receipts if x.status == SETTLED))  # fmt: skip


class LatencyProbeUser(CrossBorderUser):
    """One payment per call: what a single payer waits for, domestic and cross-border."""

    weight = 1
    rail = CORRIDOR_RAIL
    base_wait_s = 0.2

    @task(3)
    def pay(self) -> None:
        node = _pick(self.rng, [(n, n.weight) for n in self.world.nodes.values()])
        a, b = self.rng.sample(node.wallets, 2)
        req = node_pb2.PayRequest(idempotency_key=self.key(), from_wallet_id=a, to_wallet_id=b,
                                  amount_minor=self.rng.randint(1_00, 2_000_00), currency=node.currency)  # fmt: skip
        self.call("Wallets/Pay", node_pb2_grpc.WalletsStub(channel_for(node.target)).Pay, req)

    @task(1)
    def pay_batch(self) -> None:  # the unary cross-border call replaces the batch one
        self.call("Bridge/CrossBorderPay", self.stub.CrossBorderPay, self.payment())


# ---------------------------------------------------------------------- vouchers
class VoucherRedemptionUser(GrpcUser):
    """Consumption vouchers redeemed at groceries and restaurants in Shenzhen."""

    weight = 1
    abstract = _TARGETS is not None and not _TARGETS.vouchers
    base_wait_s = 0.5

    def on_start(self) -> None:
        super().on_start()
        self.world = WORLD.get()
        if self.world.vouchers is None:
            raise StopUser()
        self.rng = random.Random()
        self.stub = vouchers_pb2_grpc.VouchersStub(channel_for(self.world.vouchers.target))

    def redemption(self) -> vouchers_pb2.RedeemVoucherRequest:
        assert self.world.vouchers is not None
        merchant = f"m-{self.rng.randrange(500)}"
        return vouchers_pb2.RedeemVoucherRequest(
            idempotency_key=self.key(), program_id=self.rng.choice(self.world.vouchers.programs),
            amount_minor=self.rng.randint(1_00, 500_00), currency=self.world.vouchers.currency,
            merchant=vouchers_pb2.VoucherMerchant(id=merchant, category=self.rng.choice(VOUCHER_CATEGORIES),
                                                  region=VOUCHER_REGION),
            payer=vouchers_pb2.VoucherParty(id=f"w-{self.rng.randrange(10_000)}", tier=3),
            payee=vouchers_pb2.VoucherParty(id=merchant, tier=2),
        )  # fmt: skip

    @task(3)
    def redeem_batch(self) -> None:
        req = vouchers_pb2.RedeemVoucherBatchRequest(
            redemptions=[self.redemption() for _ in range(max(1, _batch(self) // 4))]
        )
        self.call("Vouchers/RedeemBatch", self.stub.RedeemBatch, req,
                  settled=lambda r: sum(1 for x in r.results if x.settled))  # fmt: skip

    @task(1)
    def redeem(self) -> None:
        self.call("Vouchers/Redeem", self.stub.Redeem, self.redemption())


# ---------------------------------------------------------------------- stablecoin rail
class StablecoinUser(GrpcUser):
    """The comparator rail: corridor transfers over the chain, redemptions at the issuer by the
    direct counterparties the set-up minted for (refused while the issuer suspends them), and
    market queries."""

    weight = 3
    abstract = _TARGETS is not None and "stablecoin" not in _TARGETS.services
    rail = STABLECOIN_RAIL
    base_wait_s = 0.2
    refusals = ("REDEMPTIONS_SUSPENDED", "INSUFFICIENT_TOKENS")

    def on_start(self) -> None:
        super().on_start()
        self.world = WORLD.get()
        if self.world.stablecoin is None:
            raise StopUser()
        self.rng = random.Random()
        self.stub = stablecoin_pb2_grpc.StablecoinRailStub(
            channel_for(self.world.stablecoin.target)
        )
        self.corridors = [(f"{a}-{b}", w) for a, b, w in self.world.corridors]

    @task(5)
    def transfer(self) -> None:
        req = stablecoin_pb2.StablecoinSubmitTransferRequest(
            idempotency_key=self.key(), amount_minor=self.rng.randint(100_00, 20_000_00),
            corridor=_pick(self.rng, self.corridors),
        )  # fmt: skip
        self.call("StablecoinRail/SubmitTransfer", self.stub.SubmitTransfer, req)

    @task(1)
    def redeem(self) -> None:
        assert self.world.stablecoin is not None
        if not self.world.stablecoin.owners:
            return  # the mint was closed at set-up: nobody holds tokens to redeem
        req = stablecoin_pb2.StablecoinRedeemRequest(
            idempotency_key=self.key(), owner=self.rng.choice(self.world.stablecoin.owners),
            amount_minor=self.rng.randint(1_000_00, 100_000_00),
        )  # fmt: skip
        self.call("StablecoinRail/Redeem", self.stub.Redeem, req, refusals=self.refusals)

    @task(1)
    def market(self) -> None:
        self.call("StablecoinRail/GetMarket", self.stub.GetMarket,
                  stablecoin_pb2.StablecoinGetMarketRequest(), settled=None)  # fmt: skip


# ---------------------------------------------------------------------- supervision
RECENT_PAYMENTS: deque[str] = deque(maxlen=1000)  # settled cross-border ids, for path queries


class SupervisionUser(GrpcUser):
    """A jurisdiction's supervisor querying while the payments flow: alerts, cross-border flows,
    feed lag, a wallet's counterparties, a recent payment's path (each in its own scope)."""

    weight = 1
    abstract = _TARGETS is not None and "supervision" not in _TARGETS.services
    base_wait_s = 1.0

    def on_start(self) -> None:
        super().on_start()
        self.world = WORLD.get()
        if not self.world.supervision:
            raise StopUser()
        self.rng = random.Random()
        self.stub = supervision_pb2_grpc.SupervisionStub(channel_for(self.world.supervision))
        self.code = self.rng.choice(sorted(self.world.nodes))
        self.metadata = (*metadata_for("supervisor", f"{self.code}/loadtest", self.code),
                         *self.baggage)  # fmt: skip

    def query(self, name: str, method: Any, request: Any) -> Any:
        return self.call(f"Supervision/{name}", method, request, settled=None)

    @task(3)
    def alerts(self) -> None:
        self.query("ListAlerts", self.stub.ListAlerts, supervision_pb2.ListAlertsRequest(limit=100))

    @task(2)
    def flows(self) -> None:
        self.query("GetJurisdictionFlows", self.stub.GetJurisdictionFlows,
                   supervision_pb2.GetJurisdictionFlowsRequest())  # fmt: skip

    @task(1)
    def feed(self) -> None:
        self.query("GetFeedStatus", self.stub.GetFeedStatus, supervision_pb2.GetFeedStatusRequest())

    @task(2)
    def counterparties(self) -> None:
        wallet = self.rng.choice(self.world.nodes[self.code].wallets)
        self.query("GetCounterparties", self.stub.GetCounterparties,
                   supervision_pb2.GetCounterpartiesRequest(wallet_id=wallet, hops=2))  # fmt: skip

    @task(2)
    def payment_path(self) -> None:
        if RECENT_PAYMENTS:
            pid = self.rng.choice(RECENT_PAYMENTS)
            self.query("GetPaymentPath", self.stub.GetPaymentPath,
                       supervision_pb2.GetPaymentPathRequest(payment_id=pid))  # fmt: skip
