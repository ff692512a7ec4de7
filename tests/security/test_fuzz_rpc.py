"""Fuzz every RPC of every service with generated valid and invalid messages.

For each call: the status is never UNKNOWN or INTERNAL (nor a hang), no traceback reaches the
caller, and a refused call leaves the service's state as it was (balances of every account it
touches, and the row counts of its business tables). Budget: CORRIDOR_FUZZ_EXAMPLES per RPC
(default 8 in `make test`; the slow variant runs 200)."""

from __future__ import annotations

import os

import grpc
import pytest
from google.protobuf import message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.v1 import (
    bridge_pb2,
    kyc_pb2,
    ledger_pb2,
    node_pb2,
    stablecoin_pb2,
    supervision_pb2,
    vouchers_pb2,
)
from tests.security.fuzzing import MessageStrategies
from tests.security.world import LEGACY, ServiceWorld

EXAMPLES = int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "8"))
BAD = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED}

# service -> (proto module, where it is served)
SERVICES = {
    "corridor.v1.Ledger": (ledger_pb2, "CN"),
    "corridor.v1.CentralBank": (node_pb2, "CN"),
    "corridor.v1.Wallets": (node_pb2, "CN"),
    "corridor.v1.KycRegistry": (kyc_pb2, "CN"),
    "corridor.v1.Bridge": (bridge_pb2, "bridge"),
    "corridor.v1.Vouchers": (vouchers_pb2, "vouchers"),
    "corridor.v1.Supervision": (supervision_pb2, "supervision"),
    "corridor.v1.StablecoinRail": (stablecoin_pb2, "stablecoin"),
}
CALLERS = ["", "supervision:fuzz", "supervisor:CN/fuzz", "supervisor:HK", "authority:agency",
           "simulator:fuzz", "operator:bank-a", "a:b:c", "central_bank"]  # fmt: skip


def rpcs() -> list[tuple[str, str, object]]:
    out = []
    for svc, (mod, where) in SERVICES.items():
        for m in mod.DESCRIPTOR.services_by_name[svc.rsplit(".", 1)[1]].methods:
            out.append((f"/{svc}/{m.name}", where, m))
    return out


@pytest.fixture(scope="module")
def world(pg_server_url: str):
    w = ServiceWorld(pg_server_url).start()
    w.populate()
    yield w
    w.stop()


def strategies_for(world: ServiceWorld) -> MessageStrategies:
    wallets = world.wallets["CN"] + world.wallets["HK"]
    accounts = [
        *wallets,
        "cn.op.bank-a",
        "cn.cb.issuance",
        "cn.bridge",
        "hk.op.bank-a",
        "bridge.CNY.issuance",
    ]
    return MessageStrategies({
        "wallet_id": wallets, "account_id": accounts, "id": accounts, "ids": accounts,
        "operator_id": ["bank-a", "lp-hk-1", "nobody"], "liquidity_provider": ["lp-hk-1", "lp-cn-1", "amm:CNY/HKD:bank-a"],
        "currency": ["CNY", "HKD", "USD", "cny"], "jurisdiction": ["CN", "HK", "TH", "XX", "cn"],
        "idempotency_key": ["k1", "k2", "fuzz-key"], "program_id": ["p1", "p2"], "funder_id": ["bank-a", "f1"],
        "case_id": ["c1"], "payment_id": ["pay-1"], "kind": ["p2p", "merchant", "issue"],
        "cel": ["amount < 100", "merchant.category in ['5411']", "1/0 == 1", "(((("],
        # The stablecoin rail steps its model up to the requested business time (bounded by the
        # episode): keep the fuzzed clock within hours so each call stays short.
        "to_s": SECONDS, "at_s": SECONDS,
    })  # fmt: skip


SECONDS = [0.0, 1.0, 60.0, 3600.0, 7200.0, -1.0, float("nan"), float("inf"), 1e300]


def call(world: ServiceWorld, where: str, method: str, m, request, caller: str):  # type: ignore[no-untyped-def]
    call_with(world, where, method, m, request, ((LEGACY, caller),) if caller else ())


def call_with(world: ServiceWorld, where: str, method: str, m, request, md):  # type: ignore[no-untyped-def]
    out_cls = message_factory.GetMessageClass(m.output_type)
    with world.channel(where) as ch:
        if m.server_streaming:
            fn = ch.unary_stream(method, request_serializer=lambda r: r.SerializeToString(),
                                 response_deserializer=out_cls.FromString)  # fmt: skip
            stream = fn(request, timeout=10, metadata=md)
            try:
                for i, _ in enumerate(stream):
                    if i >= 1:
                        break
            finally:
                stream.cancel()
            return
        fn = ch.unary_unary(method, request_serializer=lambda r: r.SerializeToString(),
                            response_deserializer=out_cls.FromString)  # fmt: skip
        fn(request, timeout=15, metadata=md)


@pytest.mark.parametrize(
    "method, where, m", rpcs(), ids=lambda v: v if isinstance(v, str) and v.startswith("/") else ""
)
def test_fuzz(world, method, where, m):
    if where not in world.served:
        pytest.skip(f"{where} is not in this checkout")
    in_cls = message_factory.GetMessageClass(m.input_type)
    requests = strategies_for(world).message(m.input_type, in_cls)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(request=requests, caller=st.sampled_from(CALLERS))
    def one(request, caller):  # type: ignore[no-untyped-def]
        if hasattr(request, "follow"):
            request.follow = False  # a followed stream waits for new postings by design
        before = world.digest(where)
        try:
            call(world, where, method, m, request, caller)
        except grpc.RpcError as e:
            code, details = e.code(), e.details() or ""
            if code == grpc.StatusCode.CANCELLED and m.server_streaming:
                return
            assert code not in BAD, f"{method} answered {code.name}: {details}"
            assert "Traceback" not in details and 'File "' not in details, details
            assert world.digest(where) == before, (
                f"{method} refused ({code.name}) but changed state"
            )

    one()


@pytest.mark.slow
def test_long_fuzz():
    """`make test-slow`: the same properties with 200 examples per RPC (and per loader mode)."""
    import subprocess
    import sys

    files = ["tests/security/test_fuzz_rpc.py", "tests/security/test_fuzz_secure.py",
             "tests/security/test_fuzz_scenario.py"]  # fmt: skip
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider", *files],
                       env={**os.environ, "CORRIDOR_FUZZ_EXAMPLES": "200"}, capture_output=True, text=True,
                       timeout=7200, check=False)  # fmt: skip
    assert p.returncode == 0, p.stdout[-5000:]
