"""Fuzz every RPC with security on: random requests from random callers — every role in every
jurisdiction, holders of real wallets, and callers with no, forged, expired or foreign
credentials. Nothing answers UNKNOWN/INTERNAL; a caller without a valid credential is always
UNAUTHENTICATED; a refused call (UNAUTHENTICATED, PERMISSION_DENIED or any other) changes no
balance and no business table."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.security.config import SecurityConfig
from corridor.security.credentials import ROLES, issue, metadata_for
from corridor.security.pki import ensure_dev_pki
from tests.security.test_fuzz_rpc import BAD, call_with, rpcs, strategies_for
from tests.security.world import ServiceWorld

EXAMPLES = max(3, int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "8")) // 2)


@pytest.fixture(scope="module")
def secure_world(pg_server_url: str):
    d = Path(tempfile.mkdtemp(prefix="corridor-fuzz-sec-"))
    ensure_dev_pki(d)
    cfg = SecurityConfig.of_mode("1", d)
    # In one process every service shares one outgoing identity: the bridge's (what the bridge
    # and the nodes' recovery loops need).
    env = {"CORRIDOR_SECURE": "1", "CORRIDOR_INSECURE": "0", "CORRIDOR_SECURITY_DIR": str(d),
           "CORRIDOR_CREDENTIAL": issue("bridge", "bridge", ttl_s=3600, directory=d)}  # fmt: skip
    w = ServiceWorld(pg_server_url, env).start()

    def md(role: str, subject: str, j: str = "") -> tuple[tuple[str, str], ...]:
        return metadata_for(role, subject, j, config=cfg)

    w.populate({
        "cb-CN": md("central_bank", "cb", "CN"), "cb-HK": md("central_bank", "cb", "HK"),
        "op-CN": md("operator", "bank-a", "CN"), "op-HK": md("operator", "bank-a", "HK"),
        "lp-lp-hk-1": md("liquidity_provider", "lp-hk-1"), "lp-lp-cn-1": md("liquidity_provider", "lp-cn-1"),
    })  # fmt: skip
    w.callers = _callers(w, cfg, d)  # type: ignore[attr-defined]
    yield w
    w.stop()


def _callers(
    w: ServiceWorld, cfg: SecurityConfig, d: Path
) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """(kind, metadata): kind 'valid' or 'invalid' (must be UNAUTHENTICATED)."""
    out = []
    for role in sorted(ROLES):
        for j in ("CN", "HK", "", "CN,HK"):
            subject = {"supervisor": f"{j or 'CN'}/fuzz", "operator": "bank-a",
                       "liquidity_provider": "lp-hk-1"}.get(role, f"{role}-fuzz")  # fmt: skip
            out.append(("valid", metadata_for(role, subject, j, config=cfg)))
    for code in ("CN", "HK"):
        out.append(("valid", metadata_for("holder", "h", code, w.wallets[code][:2], config=cfg)))
    other = d.parent / f"{d.name}-other"
    ensure_dev_pki(other)
    expired = issue("admin", "a", ttl_s=10, now=time.time() - 3600, directory=d)
    foreign = issue("central_bank", "cb", jurisdiction="CN", directory=other)
    out += [
        ("invalid", ()),
        ("invalid", (("x-corridor-caller", "central_bank:cb"),)),
        ("invalid", (("authorization", f"Bearer {expired}"),)),
        ("invalid", (("authorization", f"Bearer {foreign}"),)),
        ("invalid", (("authorization", "Bearer not.a.token"),)),
        ("invalid", (("authorization", "Basic YWRtaW46YWRtaW4="),)),
    ]
    return out


@pytest.mark.parametrize(
    "method, where, m", rpcs(), ids=lambda v: v if isinstance(v, str) and v.startswith("/") else ""
)
def test_fuzz_secure(secure_world, method, where, m):
    w = secure_world
    if where not in w.served:
        pytest.skip(f"{where} is not in this checkout")
    requests = strategies_for(w).message(
        m.input_type, message_factory.GetMessageClass(m.input_type)
    )

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(request=requests, caller=st.sampled_from(w.callers))
    def one(request, caller):  # type: ignore[no-untyped-def]
        kind, md = caller
        if hasattr(request, "follow"):
            request.follow = False
        before = w.digest(where)
        try:
            call_with(w, where, method, m, request, md)
        except grpc.RpcError as e:
            code, details = e.code(), e.details() or ""
            if code == grpc.StatusCode.CANCELLED and m.server_streaming:
                return
            assert code not in BAD, f"{method} answered {code.name}: {details}"
            assert "Traceback" not in details, details
            if kind == "invalid":
                assert code == grpc.StatusCode.UNAUTHENTICATED, f"{method}: {code.name} {details}"
            assert w.digest(where) == before, f"{method} refused ({code.name}) but changed state"
            return
        assert kind == "valid", f"{method} accepted a call without a valid credential"

    one()
