"""The supervision service on a live corridor: alerts from real payments, scope, controllable
anonymity (reveal rules, audited refusals, tamper-evident audit log) and freeze orders."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass

import asyncpg
import grpc
import pytest

from corridor import pg
from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import (
    bridge_pb2_grpc,
    kyc_pb2,
    kyc_pb2_grpc,
    ledger_pb2,
    node_pb2_grpc,
)
from corridor.v1 import (
    supervision_pb2 as pb,
)
from tests.bridge.corridor_fixture import MiniCorridor, start_corridor

from .live import (
    LiveSupervision,
    as_caller,
    eventually,
    open_wallets,
    pay_request,
    start_supervision,
    supervision_stub,
    xborder,
)

CN = as_caller("supervisor:CN/officer-1")
HK = as_caller("supervisor:HK")
TH = as_caller("supervisor:TH")
_names = itertools.count()


@dataclass
class World:
    c: MiniCorridor
    sup: LiveSupervision
    xb_payment_id: str  # a CN -> HK payment
    cn_payment: str  # a domestic CN payment (its transfer id)


@pytest.fixture(scope="module")
async def world(pg_server_url):
    made: list[str] = []

    async def make_db() -> str:
        url = pg.with_database(pg_server_url, f"t_{os.getpid()}_live_{next(_names)}")
        await pg.drop_database(url)
        await pg.ensure_database(url)
        made.append(url)
        return url

    c = await start_corridor(make_db, wallets_per_node=4)
    sup = await start_supervision(c, await make_db())
    cn, hk = c.wallets["CN"], c.wallets["HK"]
    async with channel(c.bridge_target) as br, channel(c.target("CN")) as ch:
        receipt = await bridge_pb2_grpc.BridgeStub(br).CrossBorderPay(
            xborder("world-xb", c, cn[0], hk[0], 200_000)
        )
        await node_pb2_grpc.WalletsStub(ch).Pay(pay_request("world-dom", cn[1], cn[2], 300, "CNY"))
    yield World(c, sup, receipt.payment_id, "pay:world-dom")
    await sup.stop()
    await c.close()
    for url in made:
        await pg.drop_database(url)


async def _denied(call, **kw) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call(**kw)
    d = error_details(e.value)
    assert d.code == grpc.StatusCode.PERMISSION_DENIED, d
    return d.reason


async def test_fan_out_through_real_payments_raises_an_alert(world):
    """A source pays nine mules, each forwards ~90% on within seconds: fan-out."""
    c = world.c
    mules = await open_wallets(c, "CN", "mule", 9)
    (collector,) = await open_wallets(c, "CN", "collector", 1)
    source = c.wallets["CN"][3]
    async with channel(c.target("CN")) as ch:
        wallets = node_pb2_grpc.WalletsStub(ch)
        for i, m in enumerate(mules):
            await wallets.Pay(pay_request(f"fan-{i}", source, m, 4_000_00, "CNY"))
        for i, m in enumerate(mules):
            await wallets.Pay(pay_request(f"fwd-{i}", m, collector, 3_600_00, "CNY"))
    async with channel(world.sup.target) as ch:
        stub = supervision_stub(ch)

        async def raised() -> bool:
            r = await stub.ListAlerts(pb.ListAlertsRequest(typology="fan_out"), metadata=CN)
            return any(a.subjects[:1] == [source] for a in r.alerts)

        await eventually(raised, timeout_s=10)
        (alert,) = [
            a
            for a in (
                await stub.ListAlerts(pb.ListAlertsRequest(subject=source), metadata=CN)
            ).alerts
            if a.typology == "fan_out"
        ]
        assert set(mules) <= set(alert.subjects) and alert.withheld_subjects == 0
        assert "pay:fan-0" in alert.evidence and 0 < alert.score <= 1
        # HK's supervisor has no business with a CN-only ring.
        hk_view = await stub.ListAlerts(pb.ListAlertsRequest(typology="fan_out"), metadata=HK)
        assert all(source not in a.subjects for a in hk_view.alerts)


async def test_scope_each_supervisor_sees_its_own_legs_and_the_bridge(world):
    async with channel(world.sup.target) as ch:
        stub = supervision_stub(ch)
        req = pb.GetPaymentPathRequest(payment_id=world.xb_payment_id)
        cn_path = await stub.GetPaymentPath(req, metadata=CN)
        assert {leg.ledger for leg in cn_path.legs} == {"CN", "BRIDGE"}
        assert list(cn_path.withheld_ledgers) == ["HK"]
        posted = [leg for leg in cn_path.legs if leg.phase == "posted" and leg.ledger == "CN"]
        assert posted and posted[0].debit_account == world.c.wallets["CN"][0]
        assert posted[0].debit_tier == 1 and posted[0].credit_tier == 0  # wallet -> cn.bridge
        hk_path = await stub.GetPaymentPath(req, metadata=HK)
        assert {leg.ledger for leg in hk_path.legs} == {"HK", "BRIDGE"}
        assert {leg.phase for leg in hk_path.legs} >= {"pending", "posted"}
        # TH has no leg in it; HK has none in a domestic CN payment.
        assert await _denied(stub.GetPaymentPath, request=req, metadata=TH) == "OUT_OF_SCOPE"
        dom = pb.GetPaymentPathRequest(payment_id=world.cn_payment)
        assert len((await stub.GetPaymentPath(dom, metadata=CN)).legs) == 1
        assert await _denied(stub.GetPaymentPath, request=dom, metadata=HK) == "OUT_OF_SCOPE"
        # Not a supervisor at all.
        reason = await _denied(stub.GetPaymentPath, request=req, metadata=as_caller("wallet:x"))
        assert reason == "NOT_A_SUPERVISOR"

        cn0, hk0 = world.c.wallets["CN"][0], world.c.wallets["HK"][0]
        hops = await stub.GetCounterparties(
            pb.GetCounterpartiesRequest(wallet_id=cn0, hops=2), metadata=CN
        )
        assert all(x.wallet_id.startswith("cn.") for x in hops.counterparties)
        assert {(f.jurisdiction, f.wallets) for f in hops.foreign} == {("HK", 1)}  # hk0, unnamed
        theirs = pb.GetCounterpartiesRequest(wallet_id=hk0, hops=1)
        assert await _denied(stub.GetCounterparties, request=theirs, metadata=CN) == "OUT_OF_SCOPE"

        flows = (
            await stub.GetJurisdictionFlows(pb.GetJurisdictionFlowsRequest(), metadata=CN)
        ).flows
        cn_hk = [f for f in flows if (f.source, f.destination) == ("CN", "HK")]
        assert cn_hk and cn_hk[0].amount_minor >= 200_000 and cn_hk[0].currency == "CNY"
        th_flows = await stub.GetJurisdictionFlows(pb.GetJurisdictionFlowsRequest(), metadata=TH)
        assert list(th_flows.flows) == []

        # Every refusal is in the audit log, the wallet's jurisdiction can read attempts on it.
        log = (await stub.GetAuditLog(pb.GetAuditLogRequest(), metadata=HK)).entries
        refused = {(e.wallet, e.detail) for e in log if e.action == "refused"}
        assert (world.cn_payment, "OUT_OF_SCOPE") in refused
        assert (hk0, "OUT_OF_SCOPE") in refused  # CN's attempt on an HK wallet


async def test_reveal_needs_the_right_jurisdiction_and_a_case_or_a_large_payment(world):
    c = world.c
    small, large = await open_wallets(c, "CN", "reveal", 2)
    async with channel(c.target("CN")) as node:
        wallets = node_pb2_grpc.WalletsStub(node)
        await wallets.Pay(pay_request("rv-small", c.wallets["CN"][1], small, 100_00, "CNY"))
        await wallets.Pay(pay_request("rv-large", c.wallets["CN"][2], large, 60_000_00, "CNY"))
    async with channel(world.sup.target) as ch:
        stub = supervision_stub(ch)
        await eventually(lambda: _stored(world, "pay:rv-large"))

        def reveal(wallet, **kw):
            return pb.RevealIdentityRequest(wallet_id=wallet, reason="suspected mule", **kw)

        # Another jurisdiction's supervisor: refused, whatever the basis.
        assert (
            await _denied(stub.RevealIdentity, request=reveal(large), metadata=HK) == "OUT_OF_SCOPE"
        )
        # Small amounts stay anonymous without a case.
        assert (
            await _denied(stub.RevealIdentity, request=reveal(small), metadata=CN)
            == "NO_REVEAL_BASIS"
        )
        # A payment at or above the threshold (CNY 50,000) is traceable.
        got = await stub.RevealIdentity(reveal(large, payment_id="pay:rv-large"), metadata=CN)
        assert got.holder_name == "reveal holder 1" and got.basis == "amount:pay:rv-large"
        assert got.audit.action == "reveal" and got.audit.supervisor == "supervisor:CN/officer-1"
        # Citing a small payment is no basis.
        req = reveal(small, payment_id="pay:rv-small")
        assert await _denied(stub.RevealIdentity, request=req, metadata=CN) == "NO_REVEAL_BASIS"
        # Under an open case naming the wallet: revealed; once closed: refused again.
        case = await stub.OpenCase(
            pb.OpenCaseRequest(wallet_ids=[small], reason="fan-out ring"), metadata=CN
        )
        assert case.open and case.jurisdiction == "CN"
        got = await stub.RevealIdentity(reveal(small, case_id=case.case_id), metadata=CN)
        assert (got.holder_name, got.holder_document) == ("reveal holder 0", "ID-reveal-0")
        assert await _denied(stub.RevealIdentity, request=reveal(small, case_id=case.case_id),
                             metadata=HK) == "OUT_OF_SCOPE"  # fmt: skip
        req = reveal(large, case_id=case.case_id)
        assert await _denied(stub.RevealIdentity, request=req, metadata=CN) == "WALLET_NOT_IN_CASE"
        closing = pb.CloseCaseRequest(case_id=case.case_id, reason="done")
        assert await _denied(stub.CloseCase, request=closing, metadata=HK) == "OUT_OF_SCOPE"
        assert not (await stub.CloseCase(closing, metadata=CN)).open
        req = reveal(small, case_id=case.case_id)
        assert await _denied(stub.RevealIdentity, request=req, metadata=CN) == "CASE_NOT_OPEN"
        # A case on another jurisdiction's wallet cannot even be opened.
        foreign = pb.OpenCaseRequest(wallet_ids=[c.wallets["HK"][1]], reason="curious")
        assert await _denied(stub.OpenCase, request=foreign, metadata=CN) == "OUT_OF_SCOPE"

        log = (await stub.GetAuditLog(pb.GetAuditLogRequest(), metadata=CN)).entries
        about_small = [(e.action, e.detail, e.jurisdiction) for e in log if e.wallet == small]
        assert ("refused", "NO_REVEAL_BASIS", "CN") in about_small
        assert ("reveal", f"case:{case.case_id}", "CN") in about_small
        assert ("refused", "OUT_OF_SCOPE", "HK") in about_small
        assert ("refused", "CASE_NOT_OPEN", "CN") in about_small
    # The node served each identity only through supervision, and logged it.
    conn = await asyncpg.connect(c.urls["cn"])
    try:
        reveals = await conn.fetch(
            "SELECT subject, detail FROM node_audit WHERE action = 'kyc:reveal' ORDER BY seq"
        )
    finally:
        await conn.close()
    assert [r["subject"] for r in reveals if r["subject"] in (small, large)] == [large, small]
    async with channel(c.target("CN")) as node:
        direct = kyc_pb2.RevealHolderRequest(wallet_id=small, supervisor_jurisdiction="CN",
                                             reason="just looking", audit_hash="00")  # fmt: skip
        kyc = kyc_pb2_grpc.KycRegistryStub(node)
        assert await _denied(kyc.RevealHolder, request=direct, metadata=CN) == "NOT_SUPERVISION"


async def test_freeze_order_is_enforced_by_the_node_within_one_second(world):
    c = world.c
    target, payee = c.wallets["CN"][1], c.wallets["CN"][2]
    async with (
        channel(world.sup.target) as ch,
        channel(c.target("CN")) as node,
        channel(c.bridge_target) as br,
    ):
        stub, wallets = supervision_stub(ch), node_pb2_grpc.WalletsStub(node)
        order = pb.FreezeOrderRequest(
            wallet_id=target, freeze=ledger_pb2.FREEZE_FULL, reason="ring collector"
        )
        assert await _denied(stub.FreezeWallet, request=order, metadata=HK) == "OUT_OF_SCOPE"
        started = time.perf_counter()
        done = await stub.FreezeWallet(order, metadata=CN)
        assert done.freeze == ledger_pb2.FREEZE_FULL and done.confirmed_in_ms < 1_000
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await wallets.Pay(pay_request("after-freeze", target, payee, 1_00, "CNY"))
        assert time.perf_counter() - started < 1.0
        assert error_details(e.value).reason == "WALLET_FROZEN"
        with pytest.raises(grpc.aio.AioRpcError) as e:  # nor across the border
            await bridge_pb2_grpc.BridgeStub(br).CrossBorderPay(
                xborder("frozen-xb", c, target, c.wallets["HK"][1], 1_000)
            )
        assert error_details(e.value).reason == "WALLET_FROZEN"
        lift = pb.FreezeOrderRequest(
            wallet_id=target, freeze=ledger_pb2.FREEZE_NONE, reason="cleared"
        )
        await stub.FreezeWallet(lift, metadata=CN)
        await wallets.Pay(pay_request("after-unfreeze", target, payee, 1_00, "CNY"))
        log = (await stub.GetAuditLog(pb.GetAuditLogRequest(wallet_id=target), metadata=CN)).entries
        assert [e.action for e in log if e.action.startswith("freeze")] == ["freeze", "freeze"]


async def test_audit_log_edits_are_detected(world):
    async with channel(world.sup.target) as ch:
        stub = supervision_stub(ch)
        await _denied(stub.GetAuditLog, request=pb.GetAuditLogRequest(), metadata=as_caller("x"))
        ok = await stub.VerifyAuditLog(pb.VerifyAuditLogRequest(), metadata=HK)
        assert ok.intact and ok.entries_verified >= 1 and len(ok.head_hash) == 64
        conn = await asyncpg.connect(world.sup.url)
        try:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute("UPDATE reveal_audit SET detail = 'OK' WHERE n = 1")
            # The database owner goes around the trigger: the chain still shows it.
            await conn.execute("ALTER TABLE reveal_audit DISABLE TRIGGER reveal_audit_no_change")
            original = await conn.fetchval("SELECT supervisor FROM reveal_audit WHERE n = 1")
            await conn.execute("UPDATE reveal_audit SET supervisor = 'nobody' WHERE n = 1")
            broken = await stub.VerifyAuditLog(pb.VerifyAuditLogRequest(), metadata=HK)
            assert not broken.intact and broken.broken_at == 1
            await conn.execute("UPDATE reveal_audit SET supervisor = $1 WHERE n = 1", original)
            await conn.execute("ALTER TABLE reveal_audit ENABLE TRIGGER reveal_audit_no_change")
        finally:
            await conn.close()
        assert (await stub.VerifyAuditLog(pb.VerifyAuditLogRequest(), metadata=HK)).intact


async def _stored(world: World, transfer_id: str) -> bool:
    return bool(await world.sup.service.store.payment_path(transfer_id))


async def test_bad_requests_name_the_field(world):
    async with channel(world.sup.target) as ch:
        stub = supervision_stub(ch)
        cn0 = world.c.wallets["CN"][0]
        cases = [
            (stub.RevealIdentity, pb.RevealIdentityRequest(wallet_id=cn0, reason=" "), "reason"),
            (stub.RevealIdentity, pb.RevealIdentityRequest(wallet_id="cn.op.bank-a", reason="x"),
             "wallet_id"),
            (stub.GetCounterparties, pb.GetCounterpartiesRequest(wallet_id=cn0, hops=9), "hops"),
            (stub.GetPaymentPath, pb.GetPaymentPathRequest(), "payment_id"),
            (stub.OpenCase, pb.OpenCaseRequest(wallet_ids=["nope"], reason="x"), "wallet_ids[0]"),
            (stub.FreezeWallet, pb.FreezeOrderRequest(wallet_id=cn0, freeze=7, reason="x"), "freeze"),
            (stub.ListAlerts, pb.ListAlertsRequest(limit=5000), "limit"),
        ]  # fmt: skip
        for call, request, field in cases:
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await call(request, metadata=CN)
            d = error_details(e.value)
            assert (d.code, d.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), (request, d)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await stub.GetPaymentPath(pb.GetPaymentPathRequest(payment_id="no-such"), metadata=CN)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_restarted_service_remembers_and_raises_nothing_twice(world):
    async with channel(world.sup.target) as ch:
        before = await supervision_stub(ch).ListAlerts(
            pb.ListAlertsRequest(limit=1000), metadata=CN
        )
    await world.sup.stop()
    world.sup = await start_supervision(world.c, world.sup.url)
    await world.sup.service.wait_caught_up(10)
    assert world.sup.service.replayed > 0  # the detectors' windows were rebuilt from the store
    async with channel(world.sup.target) as ch:
        after = await supervision_stub(ch).ListAlerts(pb.ListAlertsRequest(limit=1000), metadata=CN)
    assert [a.alert_id for a in after.alerts] == [a.alert_id for a in before.alerts]
