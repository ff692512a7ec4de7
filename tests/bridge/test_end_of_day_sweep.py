"""Recipe docs/recipes/end-of-day-sweep.md: the pilot rule "foreign CBDC balances cleared at end of
day". CN sets eod_sweep_foreign in bridge/policy.yaml: every liquidity provider not domiciled in CN
has its e-CNY moved off the platform, back to its reserve on the CN node, atomically."""

import pytest

from corridor import invariants
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, ledger_pb2, ledger_pb2_grpc
from tests.bridge.corridor_fixture import start_corridor

import bridge.invariants  # noqa: F401


@pytest.fixture
async def corridor(make_db):
    c = await start_corridor(make_db, lp_funding_minor=10**9)
    yield c
    await c.close()


async def test_end_of_day_sweep_clears_foreign_holders_of_cny(corridor):
    c = corridor
    async with channel(c.bridge_target) as ch, channel(c.target("CN")) as cn:
        br = bridge_pb2_grpc.BridgeStub(ch)
        cn_ledger = ledger_pb2_grpc.LedgerStub(cn)
        before = {a.id: a for a in (await cn_ledger.LookupAccounts(ledger_pb2.LookupAccountsRequest(
            ids=["cn.op.lp-hk-1", "cn.op.lp-cn-1", "cn.bridge"]))).accounts}  # fmt: skip
        r = await br.RunEndOfDaySweep(bridge_pb2.EndOfDaySweepRequest(idempotency_key="d1", jurisdiction="CN"))
        swept = {s.liquidity_provider for s in r.sweeps}
        assert swept == {"lp-hk-1", "lp-ae-1"}  # lp-cn-1 is domiciled in CN: it keeps its e-CNY
        assert all(s.status == bridge_pb2.PAYMENT_STATUS_SETTLED for s in r.sweeps)
        market = await br.GetFxMarket(bridge_pb2.GetFxMarketRequest())
        cny = {p.liquidity_provider: p.available_minor for p in market.positions if p.currency == "CNY"}
        assert cny["lp-hk-1"] == 0 and cny["lp-ae-1"] == 0 and cny["lp-cn-1"] == 10**9
        after = {a.id: a for a in (await cn_ledger.LookupAccounts(ledger_pb2.LookupAccountsRequest(
            ids=["cn.op.lp-hk-1", "cn.op.lp-cn-1", "cn.bridge"]))).accounts}  # fmt: skip
        gained = after["cn.op.lp-hk-1"].credits_posted - before["cn.op.lp-hk-1"].credits_posted
        assert gained == 10**9
        # A jurisdiction without the rule sweeps nothing; the same key again is a no-op.
        none = await br.RunEndOfDaySweep(bridge_pb2.EndOfDaySweepRequest(idempotency_key="d1", jurisdiction="HK"))
        assert list(none.sweeps) == []
        again = await br.RunEndOfDaySweep(bridge_pb2.EndOfDaySweepRequest(idempotency_key="d1", jurisdiction="CN"))
        assert again.sweeps == [] or all(s.replayed for s in again.sweeps)
    checks = await invariants.check_all(c.urls)
    assert all(x.ok for x in checks), [x for x in checks if not x.ok]
