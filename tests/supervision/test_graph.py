"""The supervision database on a real PostgreSQL: feeds, flow-graph queries, alerts, audit."""

from __future__ import annotations

import asyncpg
import pytest

from services.supervision.detectors import Alert
from services.supervision.graph import AuditChainBroken, FeedError, SupervisionStore
from services.supervision.postings import Posting

from .feeds import HOUR_S, START, Feed


@pytest.fixture
async def store(fresh_db: str):
    s = await SupervisionStore.open(fresh_db)
    yield s
    await s.close()


def by_ledger(postings: list[Posting]) -> dict[str, list[Posting]]:
    out: dict[str, list[Posting]] = {}
    for p in postings:
        out.setdefault(p.ledger, []).append(p)
    return out


async def ingest_all(store: SupervisionStore, postings: list[Posting]) -> None:
    for ledger, batch in by_ledger(postings).items():
        await store.ingest(ledger, batch)


async def test_ingest_is_idempotent_and_resumable(store: SupervisionStore) -> None:
    f = Feed()
    a, b = f.wallet("CN", 2), f.wallet("CN", 2)
    for i in range(5):
        f.pay(a, b, f.yuan(100 + i), START + i)
    cn = f.postings()
    assert await store.ingest("CN", cn[:3]) == 3
    assert await store.ingest("CN", cn[:3]) == 0  # the feed re-sent a batch: nothing changes
    assert await store.cursor("CN") == 3
    assert await store.ingest("CN", cn[2:]) == 2  # overlapping resume
    assert await store.cursors() == {"CN": 5}


async def test_ingest_refuses_gaps_rewrites_and_mixed_batches(store: SupervisionStore) -> None:
    f = Feed()
    a, b = f.wallet("CN", 2), f.wallet("CN", 2)
    for i in range(4):
        f.pay(a, b, f.yuan(100 + i), START + i)
    cn = f.postings()
    await store.ingest("CN", cn[:2])
    with pytest.raises(FeedError, match="gap"):
        await store.ingest("CN", cn[3:])
    forged = Posting("CN", 2, "forged", "", a.id, b.id, 1, "CNY", "p2p", START)
    with pytest.raises(FeedError, match="differs"):
        await store.ingest("CN", [forged, cn[2]])
    with pytest.raises(FeedError, match="ledger"):
        await store.ingest("HK", cn[2:])
    assert await store.cursor("CN") == 2  # nothing of a refused batch was written


async def test_payment_path_counterparties_and_jurisdiction_flows(
    store: SupervisionStore,
) -> None:
    f = Feed()
    a, b, c, d = f.wallet("CN", 2), f.wallet("HK", 2), f.wallet("HK", 3), f.wallet("TH", 1)
    f.pay(a, b, f.yuan(1_000), START)  # CN -> HK, four legs
    f.pay(b, c, 500_00, START + HOUR_S)  # domestic HK
    f.pay(c, d, 300_00, START + 2 * HOUR_S)  # HK -> TH
    postings = f.postings()
    await ingest_all(store, postings)
    pid = next(p.payment_id for p in postings if p.payment_id and p.ledger == "CN")
    path = await store.payment_path(pid)
    assert [p.ledger for p in path] == ["CN", "BRIDGE", "BRIDGE", "HK"]
    assert path[0].debit_account == a.id and path[-1].credit_account == b.id

    one = await store.counterparties(a.id, hops=1)
    assert [(x.wallet, x.hops) for x in one] == [(b.id, 1)]  # not the operator or the bridge
    three = await store.counterparties(a.id, hops=3)
    assert [(x.wallet, x.hops) for x in three] == [(b.id, 1), (c.id, 2), (d.id, 3)]
    early = await store.counterparties(a.id, hops=3, until=START + 30 * 60)
    assert [x.wallet for x in early] == [b.id]

    flows = {(x.source, x.destination): x for x in await store.jurisdiction_flows()}
    assert set(flows) == {("CN", "HK"), ("HK", "TH")}
    assert flows[("CN", "HK")].amount_minor == f.yuan(1_000)
    assert flows[("HK", "TH")].payments == 1


async def test_alerts_round_trip_and_query_by_subject(store: SupervisionStore) -> None:
    alerts = [
        Alert("fan_in-000001", "fan_in", 0.8, ["w1", "w2"], ["t1", "t2"], START, "cbdc"),
        Alert("cycle-000001", "cycle", 0.6, ["w3"], ["t3"], START + 1, "stablecoin"),
    ]
    assert await store.save_alerts(alerts) == 2
    assert await store.save_alerts(alerts) == 0
    assert await store.alerts() == alerts
    assert await store.alerts(subject="w2") == alerts[:1]
    assert await store.alerts(typology="cycle") == alerts[1:]


async def test_reveal_log_is_append_only_and_hash_chained(
    store: SupervisionStore, fresh_db: str
) -> None:
    for i in range(3):
        await store.record_reveal(
            supervisor="pboc-aml-7", jurisdiction="CN", wallet=f"w{i}",
            reason="open case: fan-in ring", at=START + i, case_id="case-1",
        )  # fmt: skip
    log = await store.reveal_log()
    assert [r.n for r in log] == [1, 2, 3]
    assert log[1].prev_hash == log[0].hash and log[0].prev_hash == "00" * 32
    assert await store.verify_reveal_chain() == 3
    with pytest.raises(ValueError, match="reason"):
        await store.record_reveal(supervisor="x", jurisdiction="CN", wallet="w", reason=" ", at=0)

    conn = await asyncpg.connect(fresh_db)
    try:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE reveal_audit SET wallet = 'someone-else' WHERE n = 2")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM reveal_audit")
        # An owner who goes around the trigger still cannot hide the edit from the chain.
        await conn.execute("ALTER TABLE reveal_audit DISABLE TRIGGER reveal_audit_no_change")
        await conn.execute("UPDATE reveal_audit SET wallet = 'someone-else' WHERE n = 2")
    finally:
        await conn.close()
    with pytest.raises(AuditChainBroken) as broken:
        await store.verify_reveal_chain()
    assert broken.value.n == 2


async def test_schema_migration_is_idempotent(fresh_db: str) -> None:
    first = await SupervisionStore.open(fresh_db)
    second = await SupervisionStore.open(fresh_db)
    await first.close()
    await second.close()
