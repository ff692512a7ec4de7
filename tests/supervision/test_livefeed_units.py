"""The live feed's pure parts: transfer -> posting conversion, the business-time merge of feeds,
reveal thresholds and the supervisor check."""

from __future__ import annotations

import pytest

from corridor.errors import CorridorError
from corridor.server import Caller
from corridor.v1 import ledger_pb2
from services.supervision.access import RevealPolicy, supervisor_of, visible_legs
from services.supervision.livefeed import (
    FeedState,
    PostingConverter,
    PostingMerge,
    WalletDirectory,
    WalletProfile,
)
from services.supervision.postings import (
    Posting,
    account_jurisdiction,
    is_wallet_account,
    validate_posting,
)


class FakeStore:
    def __init__(self, times: dict[str, float] | None = None) -> None:
        self.times = times or {}
        self.asked: list[str] = []

    async def business_times(self, ledger: str, ids) -> dict[str, float]:  # type: ignore[no-untyped-def]
        self.asked += list(ids)
        return {i: self.times[i] for i in ids if i in self.times}


class KnownWallets(WalletDirectory):
    def __init__(self, profiles: dict[str, WalletProfile]) -> None:
        self._profiles = dict(profiles)
        self.misses = 0

    async def learn(self, wallet_ids: set[str]) -> None:
        return None


def transfer(seq: int, tid: str, debit: str, credit: str, at_s: float, **kw) -> ledger_pb2.Transfer:
    return ledger_pb2.Transfer(
        seq=seq, id=tid, debit_account_id=debit, credit_account_id=credit, amount_minor=500,
        currency="CNY", business_at_us=int(at_s * 1e6), **kw,
    )  # fmt: skip


async def test_conversion_marks_wallets_institutions_phases_and_settlement_time() -> None:
    wallets = KnownWallets({"cn.w.a": WalletProfile(3, ""), "cn.w.shop": WalletProfile(2, "5411")})
    store = FakeStore({"xb:0": 90.0})  # a pending leg streamed before a restart
    conv = PostingConverter("CN", wallets)
    out = await conv.convert(
        [
            transfer(1, "load:1", "cn.op.bank-a", "cn.w.a", 100.0, kind="load"),
            transfer(2, "pay:1", "cn.w.a", "cn.w.shop", 101.0, kind="merchant"),
            transfer(3, "xb2:0", "cn.w.a", "cn.bridge", 102.0, kind="pvp", pending=True,
                     payment_id="xb2"),
            transfer(4, "xb2:0:post", "cn.w.a", "cn.bridge", 140.0, kind="pvp",
                     post_pending_id="xb2:0", payment_id="xb2"),
            transfer(5, "xb:0:void", "cn.w.a", "cn.bridge", 150.0, kind="pvp",
                     void_pending_id="xb:0", payment_id="xb"),
            transfer(6, "odd", "cn.w.a", "cn.w.shop", 151.0, kind="expire"),
        ],
        store,  # type: ignore[arg-type]
    )  # fmt: skip
    for p in out:
        validate_posting(p)
    load, purchase, held, settled, voided, odd = out
    assert (load.debit_tier, load.credit_tier) == (0, 3)  # operator reserve is an institution
    assert load.debit_jurisdiction == load.credit_jurisdiction == "CN"
    assert purchase.merchant_category == "5411" and purchase.credit_tier == 2
    assert (held.phase, settled.phase, voided.phase) == ("pending", "posted", "voided")
    assert settled.business_at == 102.0  # the payer paid when the hold was placed
    assert voided.business_at == 90.0 and store.asked == ["xb:0"]
    assert odd.kind == "other" and odd.phase == "posted"


def _p(ledger: str, seq: int, at: float) -> Posting:
    return Posting(ledger, seq, f"{ledger}-{seq}", "", "cn.w.a", "cn.w.b", 1, "CNY", "p2p", at)


def test_merge_releases_in_business_time_order_up_to_the_slowest_delivering_feed() -> None:
    now = [0.0]
    feeds = {"CN": FeedState("CN", "x"), "HK": FeedState("HK", "y")}
    merge = PostingMerge(feeds, startup_grace_s=1.0, quiet_s=0.5, clock=lambda: now[0])

    def deliver(ledger: str, postings: list[Posting], drained: bool = False) -> None:
        f = feeds[ledger]
        f.connected = f.ever_connected = True
        f.drained = drained
        f.last_received_at = now[0]
        f.last_business_at = max(f.last_business_at, *(p.business_at for p in postings))
        merge.push(postings)

    deliver("CN", [_p("CN", 1, 10.0), _p("CN", 2, 30.0)])
    assert merge.pop_ready(100) == []  # HK has not connected yet: wait for it (grace)
    deliver("HK", [_p("HK", 1, 20.0)])
    assert [p.seq for p in merge.pop_ready(100)] == [1, 1]  # CN@10, HK@20; CN@30 waits for HK
    deliver("HK", [_p("HK", 2, 40.0)], drained=True)  # HK has nothing more: no longer holds
    assert [(p.ledger, p.seq) for p in merge.pop_ready(100)] == [("CN", 2)]
    assert len(merge) == 1 and not merge.idle()  # HK@40 waits for CN, still delivering
    now[0] += 0.6  # CN went quiet (its last batch happened to be full): it stops holding back
    assert [(p.ledger, p.seq) for p in merge.pop_ready(100)] == [("HK", 2)]
    assert merge.idle()


def test_merge_does_not_wait_for_a_feed_that_never_connects() -> None:
    now = [0.0]
    feeds = {"CN": FeedState("CN", "x"), "TH": FeedState("TH", "down")}
    merge = PostingMerge(feeds, startup_grace_s=1.0, quiet_s=0.5, clock=lambda: now[0])
    feeds["CN"].connected = feeds["CN"].ever_connected = feeds["CN"].drained = True
    merge.push([_p("CN", 1, 5.0)])
    assert merge.pop_ready(10) == []
    now[0] = 1.5
    assert len(merge.pop_ready(10)) == 1


def test_reveal_thresholds_and_the_supervisor_check() -> None:
    policy = RevealPolicy()
    assert policy.reaches(50_000_00, "CNY") and not policy.reaches(49_999_99, "CNY")
    assert policy.reaches(120_000_00, "HKD") and not policy.reaches(10**12, "XYZ")
    assert supervisor_of(Caller("supervisor", "hk/desk-2")).jurisdiction == "HK"
    for bad in (Caller("wallet", "CN"), Caller("supervisor", "US"), Caller("anonymous", "")):
        with pytest.raises(CorridorError) as e:
            supervisor_of(bad)
        assert e.value.reason == "NOT_A_SUPERVISOR"
    assert (
        account_jurisdiction("cn.w.1") == "CN"
        and account_jurisdiction("bridge.CNY.fees") == "BRIDGE"
    )
    assert account_jurisdiction("0xabc") == "" and is_wallet_account("hk.w.9")
    assert not is_wallet_account("hk.op.bank") and not is_wallet_account("bridge.HKD.lp.x")


def test_visible_legs_keep_own_and_bridge_legs_only() -> None:
    cn = supervisor_of(Caller("supervisor", "CN"))
    legs = [_p("CN", 1, 1.0), _p("BRIDGE", 1, 1.0), _p("HK", 1, 1.0)]
    visible, withheld = visible_legs(cn, legs)
    assert [leg.ledger for leg in visible] == ["CN", "BRIDGE"] and withheld == ["HK"]
    th = supervisor_of(Caller("supervisor", "TH"))
    assert visible_legs(th, legs)[0] == []


def test_merge_with_max_lateness_reorders_feeds_that_interleave_late() -> None:
    """Live follow streams are always 'drained', so only the lateness bound keeps business-time
    order: a CN posting 3 h behind HK's newest is still judged before HK's."""
    now = [0.0]
    feeds = {"CN": FeedState("CN", "x"), "HK": FeedState("HK", "y")}
    merge = PostingMerge(
        feeds, startup_grace_s=1.0, quiet_s=0.5, max_lateness_s=4 * 3600.0, clock=lambda: now[0]
    )
    for f in feeds.values():
        f.connected = f.ever_connected = f.drained = True
    merge.push([_p("HK", 1, 10 * 3600.0)])
    merge.push([_p("CN", 1, 7 * 3600.0)])  # three business hours late
    assert merge.pop_ready(10) == []  # both within the bound of HK@10h: wait
    merge.push([_p("HK", 2, 15 * 3600.0)])
    assert [(p.ledger, p.seq) for p in merge.pop_ready(10)] == [("CN", 1), ("HK", 1)]
    now[0] += 0.6  # every feed quiet: the rest goes
    assert [(p.ledger, p.seq) for p in merge.pop_ready(10)] == [("HK", 2)]
    with pytest.raises(ValueError, match="max_lateness_s"):
        PostingMerge(feeds, max_lateness_s=-1.0)


def test_max_lateness_from_the_environment_names_the_variable(monkeypatch) -> None:
    from services.supervision.server import MAX_LATENESS_ENV, settings_from_env

    monkeypatch.setenv(MAX_LATENESS_ENV, "14400")
    assert settings_from_env().max_lateness_s == 14_400.0
    for bad in ("soon", "-5", "inf"):
        monkeypatch.setenv(MAX_LATENESS_ENV, bad)
        with pytest.raises(ValueError, match=MAX_LATENESS_ENV):
            settings_from_env()


def test_watch_list_and_known_services_load_at_start(monkeypatch, tmp_path) -> None:
    from services.supervision.server import (
        KNOWN_SERVICES_ENV,
        WATCH_LIST_ENV,
        settings_from_env,
    )

    listed = tmp_path / "watch.txt"
    listed.write_text("# designated 2026-11\ncn.w.aaa\n\nhk.w.bbb  # by HKMA\n0xdead\n")
    services = tmp_path / "services.txt"
    services.write_text("bridge.lp.lp-hk-1\n")
    monkeypatch.setenv(WATCH_LIST_ENV, str(listed))
    monkeypatch.setenv(KNOWN_SERVICES_ENV, str(services))
    settings = settings_from_env()
    assert settings.detectors.watch_list == {"cn.w.aaa", "hk.w.bbb", "0xdead"}
    assert settings.detectors.known_services == {"bridge.lp.lp-hk-1"}
    listed.write_text("cn.w.aaa\ntwo ids here\n")
    with pytest.raises(ValueError, match=rf"{WATCH_LIST_ENV}: .*watch.txt:2"):
        settings_from_env()
    monkeypatch.setenv(WATCH_LIST_ENV, str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match=f"{WATCH_LIST_ENV}: cannot read"):
        settings_from_env()
