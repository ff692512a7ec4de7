"""A node served with mTLS + credentials: who may call what, and nothing changes on a refusal."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.security.config import SecurityConfig
from corridor.security.credentials import issue, metadata_for
from corridor.server import channel
from corridor.v1 import ledger_pb2, ledger_pb2_grpc, node_pb2, node_pb2_grpc
from tests.security.conftest import (
    SecureNode,
    admin,
    central_bank,
    holder,
    operator,
    status_of,
)

DENIED, UNAUTH = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED


def _pay(n: SecureNode, frm: str, to: str, amount: int = 100) -> node_pb2.PayRequest:
    return node_pb2.PayRequest(idempotency_key=n.key("pay"), from_wallet_id=frm, to_wallet_id=to,
                               amount_minor=amount, currency="CNY")  # fmt: skip


async def test_transport_is_mutual_tls_and_health_needs_no_credential(secure_cn: SecureNode):
    # A plaintext client cannot even complete the handshake.
    async with grpc.aio.insecure_channel(secure_cn.target) as ch:
        code, _ = await status_of(
            node_pb2_grpc_stub(ch).GetPolicy(node_pb2.GetPolicyRequest(), timeout=5)
        )
    assert code == grpc.StatusCode.UNAVAILABLE
    # TLS without a client certificate is refused too (require_client_auth).
    ca = (secure_cn_dir(secure_cn) / "ca.pem").read_bytes()
    creds = grpc.ssl_channel_credentials(root_certificates=ca)
    async with grpc.aio.secure_channel(secure_cn.target, creds) as ch:
        code, _ = await status_of(
            node_pb2_grpc_stub(ch).GetPolicy(
                node_pb2.GetPolicyRequest(), timeout=5, metadata=admin()
            )
        )
    assert code == grpc.StatusCode.UNAVAILABLE
    # With the dev CA's client certificate, health answers without any credential.
    async with channel(secure_cn.target) as ch:
        r = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert r.status == health_pb2.HealthCheckResponse.SERVING


def node_pb2_grpc_stub(ch: grpc.aio.Channel):  # type: ignore[no-untyped-def]
    from corridor.v1 import node_pb2_grpc

    return node_pb2_grpc.CentralBankStub(ch)


def secure_cn_dir(n: SecureNode):  # type: ignore[no-untyped-def]
    return SecurityConfig.from_env().require_directory()


async def test_missing_forged_and_expired_credentials_are_unauthenticated(secure_cn: SecureNode):
    req = node_pb2.GetPolicyRequest()
    code, details = await status_of(secure_cn.cb.GetPolicy(req))
    assert (code, "MISSING_CREDENTIAL" in details) == (UNAUTH, True)
    expired = issue("admin", "x", ttl_s=60, now=time.time() - 3600)
    code, details = await status_of(
        secure_cn.cb.GetPolicy(req, metadata=(("authorization", f"Bearer {expired}"),))
    )
    assert (code, "CREDENTIAL_EXPIRED" in details) == (UNAUTH, True)
    token = issue("holder", "h", jurisdiction="CN")
    head, _body, sig = token.split(".")
    forged = issue("central_bank", "cb", jurisdiction="CN").split(".")[1]
    for bad in (f"{head}.{forged}.{sig}", "not-a-jwt", token[:-4] + "AAAA"):
        code, details = await status_of(
            secure_cn.cb.GetPolicy(req, metadata=(("authorization", f"Bearer {bad}"),))
        )
        assert (code, "INVALID_CREDENTIAL" in details) == (UNAUTH, True), details
    # The legacy header alone is not a credential any more.
    code, _ = await status_of(
        secure_cn.cb.GetPolicy(req, metadata=(("x-corridor-caller", "central_bank:cb"),))
    )
    assert code == UNAUTH


async def test_issuance_only_by_this_currencys_central_bank(secure_cn: SecureNode):
    await secure_cn.setup(("bank-a",))
    before = await secure_cn.counts()
    req = node_pb2.IssueRequest(idempotency_key="mint", operator_id="bank-a", amount_minor=10**6,
                                currency="CNY")  # fmt: skip
    for md in (central_bank("HK"), operator("bank-a"), admin(), metadata_for("simulator", "e"),
               metadata_for("supervisor", "CN/alice", "CN"), metadata_for("bridge", "bridge")):  # fmt: skip
        code, details = await status_of(secure_cn.cb.Issue(req, metadata=md))
        assert code == DENIED, details
    assert await secure_cn.counts() == before  # nothing written
    moved = await secure_cn.cb.Issue(req, metadata=central_bank("CN"))
    assert moved.credit_balance.account_id == "cn.op.bank-a"
    actions = await secure_cn.audit_actions()
    assert actions.count("issue:denied") == 6 and actions.count("issue") == 2


async def test_a_wallet_is_debited_only_by_its_holder_or_its_operator(secure_cn: SecureNode):
    await secure_cn.setup()
    mine, theirs = await secure_cn.wallet("bank-a"), await secure_cn.wallet("bank-b")
    before = await secure_cn.counts()
    refused = [
        holder([theirs]),  # someone else's holder credential
        operator("bank-b"),  # an operator that does not operate the payer's wallet
        operator("bank-a", "HK"),  # the right bank, authorised in another jurisdiction
        central_bank(),  # the central bank issues; it does not spend holders' money
        admin(),
        metadata_for("supervisor", "CN/alice", "CN"),
    ]
    for md in refused:
        code, details = await status_of(
            secure_cn.wl.Pay(_pay(secure_cn, mine, theirs), metadata=md)
        )
        assert code == DENIED, details
        batch = node_pb2.PayBatchRequest(
            payments=[_pay(secure_cn, theirs, mine), _pay(secure_cn, mine, theirs)]
        )
        code, details = await status_of(secure_cn.wl.PayBatch(batch, metadata=md))
        assert code == DENIED, details
    # Raw ledger writes follow the same rule.
    t = ledger_pb2.Transfer(id="raw-1", debit_account_id=mine, credit_account_id=theirs,
                            amount_minor=1, currency="CNY")  # fmt: skip
    for md in (operator("bank-b"), admin(), holder([theirs])):
        code, _ = await status_of(secure_cn.ledger.CreateTransfer(t, metadata=md))
        assert code == DENIED
    assert await secure_cn.counts() == before
    # Holder and operator may.
    await secure_cn.wl.Pay(_pay(secure_cn, mine, theirs), metadata=holder([mine]))
    await secure_cn.wl.Pay(_pay(secure_cn, mine, theirs), metadata=operator("bank-a"))
    await secure_cn.ledger.CreateTransfer(t, metadata=holder([mine]))
    w = await secure_cn.wl.GetWallet(
        node_pb2.GetWalletRequest(wallet_id=mine), metadata=holder([mine])
    )
    assert w.balance.posted_minor == 100_000 - 201
    code, _ = await status_of(
        secure_cn.wl.GetWallet(node_pb2.GetWalletRequest(wallet_id=mine), metadata=holder([theirs]))
    )
    assert code == DENIED


async def test_operators_act_for_themselves_and_freezes_are_supervisory(secure_cn: SecureNode):
    await secure_cn.setup()
    w = await secure_cn.wallet("bank-a", load_minor=0)
    before = await secure_cn.counts()
    open_for_b = node_pb2.OpenWalletRequest(idempotency_key="x", operator_id="bank-b", kind=1,
                                            tier=1, holder_name="Synthetic")  # fmt: skip
    assert (await status_of(secure_cn.wl.OpenWallet(open_for_b, metadata=operator("bank-a"))))[
        0
    ] == DENIED
    load = node_pb2.LoadWalletRequest(
        idempotency_key="l", wallet_id=w, amount_minor=5, currency="CNY"
    )
    assert (await status_of(secure_cn.wl.LoadWallet(load, metadata=operator("bank-b"))))[
        0
    ] == DENIED
    freeze = node_pb2.FreezeWalletRequest(wallet_id=w, freeze=2, reason="case 7")
    for md in (operator("bank-a"), holder([w]), metadata_for("supervisor", "HK/bo", "HK")):
        assert (await status_of(secure_cn.wl.FreezeWallet(freeze, metadata=md)))[0] == DENIED
    assert await secure_cn.counts() == before
    v = await secure_cn.wl.FreezeWallet(
        freeze, metadata=metadata_for("supervisor", "CN/alice", "CN")
    )
    assert v.freeze == 2
    actions = await secure_cn.audit_actions()
    assert actions.count("freeze:denied") == 3
    assert "freeze" in actions and "freeze:FREEZE_FULL" in actions  # intent + the node's own entry


async def test_kyc_store_answers_supervision_only(secure_cn: SecureNode):
    from corridor.v1 import kyc_pb2, kyc_pb2_grpc

    await secure_cn.setup(("bank-a",))
    w = await secure_cn.wallet("bank-a", load_minor=0)
    kyc = kyc_pb2_grpc.KycRegistryStub(secure_cn.channel)
    req = kyc_pb2.RevealHolderRequest(wallet_id=w, supervisor_jurisdiction="CN", supervisor="CN/alice",
                                      reason="case", case_id="c1", audit_hash="ab" * 32)  # fmt: skip
    for md in (metadata_for("supervisor", "CN/alice", "CN"), admin(), operator("bank-a")):
        assert (await status_of(kyc.RevealHolder(req, metadata=md)))[0] == DENIED
    got = await kyc.RevealHolder(req, metadata=metadata_for("supervision", "supervision"))
    assert got.holder_name == "Synthetic Holder"
    assert (await secure_cn.audit_actions()).count("reveal:denied") == 3


async def test_a_service_credential_rides_on_unary_and_streaming_calls(
    secure_cn: SecureNode, monkeypatch
):
    # A fleet-started service (here: supervision) carries its credential in CORRIDOR_CREDENTIAL
    # and channel() attaches it to every call, streams included (supervision's posting feed is a
    # server stream). Regression: one interceptor class with both bases saw only unary calls.
    monkeypatch.setenv("CORRIDOR_CREDENTIAL", issue("supervision", "supervision"))
    await secure_cn.setup(("bank-a",))  # one issuance: the feed has a posting to send
    async with channel(secure_cn.target) as ch:
        stub = ledger_pb2_grpc.LedgerStub(ch)
        batches = [b async for b in stub.StreamPostings(ledger_pb2.StreamPostingsRequest())]
        await node_pb2_grpc.CentralBankStub(ch).GetPolicy(node_pb2.GetPolicyRequest(), timeout=5)
    assert batches, "the stream was refused or sent nothing"
    monkeypatch.delenv("CORRIDOR_CREDENTIAL")
    async with channel(secure_cn.target) as ch:
        call = ledger_pb2_grpc.LedgerStub(ch).StreamPostings(ledger_pb2.StreamPostingsRequest())
        code, _ = await status_of(call.read())
    assert code == UNAUTH


async def test_a_certificate_bound_credential_is_refused_from_another_certificate(
    secure_cn: SecureNode,
):
    # Service credentials are bound to the service's certificate (cnf.x5t#S256): a copied token
    # presented over another mTLS identity is UNAUTHENTICATED, nothing runs.
    from corridor.security.pki import cert_path

    d = secure_cn_dir(secure_cn)
    client_pem = cert_path(d, "client")[0].read_bytes()  # what channel() presents here
    bridge_pem = cert_path(d, "bridge")[0].read_bytes()

    def bound(pem: bytes) -> tuple[tuple[str, str], ...]:
        token = issue("admin", "ops", ttl_s=60, directory=d, bound_cert_pem=pem)
        return (("authorization", f"Bearer {token}"),)

    await secure_cn.cb.GetPolicy(node_pb2.GetPolicyRequest(), metadata=bound(client_pem))
    code, details = await status_of(
        secure_cn.cb.GetPolicy(node_pb2.GetPolicyRequest(), metadata=bound(bridge_pem))
    )
    assert code == UNAUTH and "CERTIFICATE_MISMATCH" in details
