"""The rule table: every RPC has a rule (default deny otherwise), and the rules decide as the
issue states — checked without a server, against a stand-in for the data lookups."""

from __future__ import annotations

import importlib
import pkgutil

import grpc
import pytest

import corridor.v1
from corridor.errors import CorridorError
from corridor.security import authz
from corridor.security.resources import ServerResources
from corridor.server import Caller
from corridor.v1 import bridge_pb2, ledger_pb2, node_pb2, supervision_pb2


def all_methods() -> list[str]:
    out = []
    for mod in pkgutil.iter_modules(corridor.v1.__path__):
        if not mod.name.endswith("_pb2"):
            continue
        m = importlib.import_module(f"corridor.v1.{mod.name}")
        for svc in m.DESCRIPTOR.services_by_name.values():
            out += [f"/{svc.full_name}/{meth.name}" for meth in svc.methods]
    return sorted(out)


def test_every_rpc_has_a_rule_and_no_rule_is_stale():
    methods = all_methods()
    missing = [m for m in methods if m not in authz.RULES]
    assert not missing, f"add these to corridor/security/authz.py RULES (default deny): {missing}"
    stale = [m for m in authz.RULES if m not in methods]
    assert not stale, stale


def test_privileged_rpcs_are_audited():
    audited = {m.rsplit("/", 1)[1]: r.audit for m, r in authz.RULES.items() if r.audit}
    assert audited["Issue"] == "issue" and audited["Redeem"] == "redeem"
    assert audited["Clawback"] == "clawback" and audited["RevealHolder"] == "reveal"
    assert audited["RevealIdentity"] == "reveal" and audited["FreezeWallet"] == "freeze"


class Lookups(ServerResources):
    """{jurisdiction: {wallet: operator}} as the nodes would answer."""

    def __init__(self, here: str, operators: dict[str, dict[str, str]]) -> None:
        self.here = here
        self.operators = operators
        self.asked: list[tuple[str, list[str]]] = []

    async def wallet_operators(self, jurisdiction, wallet_ids):  # type: ignore[no-untyped-def]
        self.asked.append((jurisdiction, wallet_ids))
        known = self.operators.get(jurisdiction, {})
        return {w: known[w] for w in wallet_ids if w in known}


WORLD = {"CN": {"cn.w.a": "bank-a", "cn.w.b": "bank-b"}, "HK": {"hk.w.a": "bank-a"}}


async def decide(method: str, request, caller: Caller, here: str = "CN") -> str:  # type: ignore[no-untyped-def]
    try:
        await authz.authorize(method, request, caller, Lookups(here, WORLD))
    except CorridorError as exc:
        assert exc.code == grpc.StatusCode.PERMISSION_DENIED
        return exc.reason
    return "ok"


def xb(*payers: tuple[str, str]) -> bridge_pb2.CrossBorderPayBatchRequest:
    return bridge_pb2.CrossBorderPayBatchRequest(
        payments=[
            bridge_pb2.CrossBorderPayRequest(payer_jurisdiction=j, payer_wallet_id=w)
            for j, w in payers
        ]
    )


BATCH = "/corridor.v1.Bridge/CrossBorderPayBatch"


@pytest.mark.parametrize(
    "caller, payers, expected",
    [
        (Caller("operator", "bank-a", "CN"), [("CN", "cn.w.a")], "ok"),
        (Caller("operator", "bank-a", "CN,HK"), [("CN", "cn.w.a"), ("HK", "hk.w.a")], "ok"),
        (
            Caller("operator", "bank-a", "CN"),
            [("CN", "cn.w.a"), ("HK", "hk.w.a")],
            "NOT_WALLET_HOLDER",
        ),
        (Caller("operator", "bank-a", "CN"), [("CN", "cn.w.b")], "NOT_WALLET_OPERATOR"),
        (Caller("operator", "bank-a", "CN"), [("CN", "cn.w.unknown")], "NOT_WALLET_OPERATOR"),
        (Caller("holder", "h", "CN", frozenset({"cn.w.b"})), [("CN", "cn.w.b")], "ok"),
        (
            Caller("holder", "h", "CN", frozenset({"cn.w.b"})),
            [("CN", "cn.w.a")],
            "NOT_WALLET_HOLDER",
        ),
        (Caller("vouchers", "vouchers", "", frozenset({"cn.w.a"})), [("CN", "cn.w.a")], "ok"),
        (Caller("admin", "root"), [("CN", "cn.w.a")], "ROLE_NOT_ALLOWED"),
        (Caller("central_bank", "cb", "CN"), [("CN", "cn.w.a")], "ROLE_NOT_ALLOWED"),
        (Caller("bridge", "bridge"), [("CN", "cn.w.a")], "ROLE_NOT_ALLOWED"),
    ],
)
async def test_cross_border_payer_wallets(caller, payers, expected):
    assert await decide(BATCH, xb(*payers), caller, "BRIDGE") == expected


@pytest.mark.parametrize(
    "caller, wallet, expected",
    [
        (Caller("supervisor", "CN/alice", "CN"), "cn.w.a", "ok"),
        (Caller("supervisor", "HK/bo", "HK"), "cn.w.a", "OUT_OF_SCOPE"),
        (Caller("supervisor", "HK/bo", "HK"), "", "OUT_OF_SCOPE"),
        (Caller("admin", "root"), "cn.w.a", "ROLE_NOT_ALLOWED"),
        (Caller("supervision", "supervision"), "cn.w.a", "ROLE_NOT_ALLOWED"),
    ],
)
async def test_identity_reveal_only_in_the_supervisors_jurisdiction(caller, wallet, expected):
    req = supervision_pb2.RevealIdentityRequest(wallet_id=wallet, reason="r", case_id="c")
    assert (
        await decide("/corridor.v1.Supervision/RevealIdentity", req, caller, "SUPERVISION")
        == expected
    )


@pytest.mark.parametrize(
    "caller, here, expected",
    [
        (Caller("central_bank", "pboc", "CN"), "CN", "ok"),
        (Caller("central_bank", "hkma", "HK"), "CN", "ROLE_NOT_ALLOWED"),
        (Caller("central_bank", "group", "HK,CN"), "CN", "ok"),
        (Caller("operator", "bank-a", "CN"), "CN", "ROLE_NOT_ALLOWED"),
        (Caller("admin", "root"), "CN", "ROLE_NOT_ALLOWED"),
    ],
)
async def test_issuance(caller, here, expected):
    req = node_pb2.IssueRequest(operator_id="bank-a", amount_minor=1, currency="CNY")
    assert await decide("/corridor.v1.CentralBank/Issue", req, caller, here) == expected


@pytest.mark.parametrize(
    "caller, debit, expected",
    [
        (Caller("bridge", "bridge"), "cn.w.a", "ok"),  # PvP legs: the bridge checked the payer
        (Caller("central_bank", "pboc", "CN"), "cn.cb.issuance", "ok"),  # runs its own ledger
        (Caller("operator", "bank-a", "CN"), "cn.op.bank-a", "ok"),
        (Caller("operator", "bank-a", "CN"), "cn.op.bank-b", "NOT_ACCOUNT_OWNER"),
        (Caller("operator", "bank-a", "CN"), "cn.cb.issuance", "NOT_ACCOUNT_OWNER"),
        (Caller("operator", "bank-a", "CN"), "cn.bridge", "NOT_ACCOUNT_OWNER"),
        (Caller("operator", "bank-a", "CN"), "cn.w.b", "NOT_WALLET_OPERATOR"),
        (Caller("liquidity_provider", "bank-a"), "cn.op.bank-a", "ok"),
        (Caller("admin", "root"), "cn.w.a", "NOT_WALLET_HOLDER"),
        (Caller("admin", "root"), "cn.op.bank-a", "NOT_ACCOUNT_OWNER"),
    ],
)
async def test_raw_ledger_transfers_on_a_node(caller, debit, expected):
    req = ledger_pb2.CreateTransfersRequest(
        transfers=[
            ledger_pb2.Transfer(
                id="t", debit_account_id=debit, credit_account_id="cn.w.x", amount_minor=1
            )
        ]
    )
    assert await decide("/corridor.v1.Ledger/CreateTransfers", req, caller) == expected


async def test_only_the_ledgers_owner_posts_or_voids_and_admin_owns_scratch_ledgers():
    post = ledger_pb2.Transfer(id="p", post_pending_id="x")
    assert (
        await decide("/corridor.v1.Ledger/CreateTransfer", post, Caller("operator", "bank-a", "CN"))
        == "NOT_LEDGER_OWNER"
    )
    assert (
        await decide("/corridor.v1.Ledger/CreateTransfer", post, Caller("admin", "root"), "BENCH")
        == "ok"
    )
    assert (
        await decide("/corridor.v1.Ledger/CreateTransfer", post, Caller("admin", "root"), "BRIDGE")
        == "NOT_LEDGER_OWNER"
    )


@pytest.mark.parametrize(
    "lp, caller, expected",
    [
        ("lp-hk-1", Caller("liquidity_provider", "lp-hk-1"), "ok"),
        ("lp-hk-1", Caller("liquidity_provider", "lp-cn-1"), "NOT_LIQUIDITY_PROVIDER"),
        ("amm:CNY/HKD:bank-a", Caller("operator", "bank-a", "CN"), "ok"),
        ("amm:CNY/HKD:bank-a", Caller("operator", "bank-a", "HK"), "NOT_LIQUIDITY_PROVIDER"),
        ("lp-hk-1", Caller("admin", "root"), "ROLE_NOT_ALLOWED"),
    ],
)
async def test_liquidity_is_moved_by_its_owner(lp, caller, expected):
    req = bridge_pb2.FundLiquidityRequest(liquidity_provider=lp, jurisdiction="CN")
    assert await decide("/corridor.v1.Bridge/FundLiquidity", req, caller, "BRIDGE") == expected


async def test_unknown_methods_are_denied():
    assert (
        await decide("/corridor.v1.Ledger/DropEverything", None, Caller("admin", "root"))
        == "NO_RULE"
    )
    assert authz.is_exempt("/grpc.health.v1.Health/Check")
    assert authz.is_exempt("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
