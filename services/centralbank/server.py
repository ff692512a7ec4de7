"""gRPC front of a central-bank node: Ledger + CentralBank + Wallets on one port.

`create_server(settings)` -> (RunningServer, node); `main()` adds signal handling only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

import grpc

from corridor import pg, telemetry
from corridor.config import ServiceSettings, jurisdiction
from corridor.errors import CorridorError, invalid
from corridor.server import RunningServer, current_caller, serve_until_signalled, start_server
from corridor.v1 import kyc_pb2_grpc, ledger_pb2, ledger_pb2_grpc, node_pb2, node_pb2_grpc
from services.centralbank.kyc import KycServicer
from services.centralbank.node import CentralBankNode, WalletRow
from services.ledger.engine import C, TransferResult, TransferSpec
from services.ledger.servicer import LedgerServicer, balance_pb, code_error, reasons_with_fields

log = logging.getLogger("corridor.node")

# Tier and wallet refusals, named for what a wallet holder would understand.
PAY_REASONS = reasons_with_fields("from_wallet_id", "to_wallet_id")


def pay_error(code: int, prefix: str = "") -> CorridorError:
    err = code_error(code, prefix, {k: v[1] for k, v in PAY_REASONS.items()})
    if code in PAY_REASONS:
        err.reason = PAY_REASONS[code][0]
    return err


def movement(r: TransferResult, transfer_id: str) -> node_pb2.MovementResponse:
    return node_pb2.MovementResponse(
        transfer_id=transfer_id,
        replayed=r.code == C.EXISTS,
        debit_balance=balance_pb(r.debit),
        credit_balance=balance_pb(r.credit),
        seq=r.seq,
    )


def _check_amount(node: CentralBankNode, amount: int, currency: str, prefix: str = "") -> None:
    if amount <= 0:
        raise invalid(f"{prefix}amount_minor", f"must be > 0 (got {amount})")
    if not currency:
        raise invalid(f"{prefix}currency", "must not be empty")
    if currency != node.currency:
        raise invalid(f"{prefix}currency", f"this node settles {node.currency}, not {currency!r}")


def _check_key(key: str, prefix: str = "") -> None:
    if not key:
        raise invalid(f"{prefix}idempotency_key", "must not be empty")
    if len(key) > 100:
        raise invalid(f"{prefix}idempotency_key", "must be at most 100 characters")


class CentralBankServicer(node_pb2_grpc.CentralBankServicer):
    def __init__(self, node: CentralBankNode) -> None:
        self.node = node

    async def RegisterOperator(self, request, context):  # type: ignore[no-untyped-def]
        account, created = await self.node.register_operator(request.operator_id, request.name)
        return node_pb2.RegisterOperatorResponse(
            operator_id=request.operator_id, reserve_account_id=account, created=created
        )

    async def _move(self, request, issue: bool):  # type: ignore[no-untyped-def]
        _check_key(request.idempotency_key)
        _check_amount(self.node, request.amount_minor, request.currency)
        reserve = await self.node.require_operator(request.operator_id)
        tid = f"{'issue' if issue else 'redeem'}:{request.idempotency_key}"
        debit, credit = (
            (self.node.issuance_account, reserve)
            if issue
            else (reserve, self.node.issuance_account)
        )
        (r,) = await self.node.engine.submit(
            [
                TransferSpec(
                    tid, debit, credit, request.amount_minor, request.currency,
                    kind="issue" if issue else "redeem", business_at_us=request.business_at_us,
                )
            ]
        )  # fmt: skip
        if not r.ok:
            raise pay_error(r.code)
        return movement(r, tid)

    async def Issue(self, request, context):  # type: ignore[no-untyped-def]
        return await self._move(request, issue=True)

    async def Redeem(self, request, context):  # type: ignore[no-untyped-def]
        return await self._move(request, issue=False)

    async def GetSupply(self, request, context):  # type: ignore[no-untyped-def]
        return node_pb2.GetSupplyResponse(
            jurisdiction=self.node.policy.jurisdiction,
            currency=self.node.currency,
            issued_minor=await self.node.issued_minor(),
        )

    async def GetPolicy(self, request, context):  # type: ignore[no-untyped-def]
        p = self.node.policy
        return node_pb2.NodePolicy(
            jurisdiction=p.jurisdiction,
            currency=p.currency,
            utc_offset_minutes=p.utc_offset_minutes,
            tiers=[
                node_pb2.TierPolicy(
                    tier=t.tier, how_opened=t.how_opened, balance_max_minor=t.balance_max_minor,
                    per_payment_max_minor=t.per_payment_max_minor, daily_max_minor=t.daily_max_minor,
                )
                for t in p.tiers.values()
            ],
        )  # fmt: skip


class WalletsServicer(node_pb2_grpc.WalletsServicer):
    def __init__(self, node: CentralBankNode) -> None:
        self.node = node

    async def _view(self, w: WalletRow) -> node_pb2.WalletView:
        (acct,) = await self.node.engine.lookup_accounts([w.wallet_id])
        return node_pb2.WalletView(
            wallet_id=w.wallet_id, operator_id=w.operator_id, kind=w.kind, tier=w.tier,
            freeze=acct["freeze_mode"], currency=self.node.currency,
            parent_wallet_id=w.parent_wallet_id, merchant_category=w.merchant_category, region=w.region,
            balance=ledger_pb2.Balance(
                account_id=w.wallet_id, posted_minor=acct["posted"], available_minor=acct["available"],
                debits_pending=acct["debits_pending"], credits_pending=acct["credits_pending"],
            ),
        )  # fmt: skip

    async def OpenWallet(self, request, context):  # type: ignore[no-untyped-def]
        _check_key(request.idempotency_key)
        w = await self.node.open_wallet(
            request.idempotency_key, request.operator_id, request.kind, request.tier,
            request.holder_name, request.holder_document, request.parent_wallet_id,
            request.merchant_category, request.region,
        )  # fmt: skip
        return await self._view(w)

    async def OpenWallets(self, request, context):  # type: ignore[no-untyped-def]
        n = len(request.wallets)
        if n == 0 or n > 10_000:
            raise invalid("wallets", f"1..10000 wallets per call (got {n})")
        for i, w in enumerate(request.wallets):
            _check_key(w.idempotency_key, f"wallets[{i}].")
        return node_pb2.OpenWalletsResponse(
            wallet_ids=await self.node.open_wallets(list(request.wallets))
        )

    async def LoadWallet(self, request, context):  # type: ignore[no-untyped-def]
        _check_key(request.idempotency_key)
        _check_amount(self.node, request.amount_minor, request.currency)
        w = await self.node.require_wallet(request.wallet_id)
        tid = f"load:{request.idempotency_key}"
        (r,) = await self.node.engine.submit(
            [
                TransferSpec(
                    tid, self.node.operator_account(w.operator_id), w.wallet_id,
                    request.amount_minor, request.currency, kind="load",
                    business_at_us=request.business_at_us,
                )
            ]
        )  # fmt: skip
        if not r.ok:
            err = pay_error(r.code)
            if r.code == C.EXCEEDS_CREDITS:
                err.reason, err.message = (
                    "OPERATOR_RESERVE_INSUFFICIENT",
                    "the operator's CBDC reserve is too small",
                )
            if r.code in (C.EXCEEDS_BALANCE_MAX, C.CREDIT_ACCOUNT_FROZEN):
                err.field = "wallet_id"
            raise err
        return movement(r, tid)

    def _pay_spec(self, p: node_pb2.PayRequest, prefix: str = "") -> TransferSpec:
        _check_key(p.idempotency_key, prefix)
        _check_amount(self.node, p.amount_minor, p.currency, prefix)
        for name in ("from_wallet_id", "to_wallet_id"):
            value = getattr(p, name)
            if not value:
                raise invalid(f"{prefix}{name}", "must not be empty")
            if not self.node.is_wallet_id(value):
                raise invalid(
                    f"{prefix}{name}",
                    f"{value!r} is not a wallet of {self.node.policy.jurisdiction}",
                )
        if p.from_wallet_id == p.to_wallet_id:
            raise invalid(f"{prefix}to_wallet_id", "must differ from from_wallet_id")
        kind = p.kind or "p2p"
        if kind not in ("p2p", "merchant"):
            raise invalid(f"{prefix}kind", "must be p2p or merchant")
        return TransferSpec(
            f"pay:{p.idempotency_key}", p.from_wallet_id, p.to_wallet_id, p.amount_minor,
            p.currency, kind=kind, business_at_us=p.business_at_us,
        )  # fmt: skip

    async def Pay(self, request, context):  # type: ignore[no-untyped-def]
        spec = self._pay_spec(request)
        (r,) = await self.node.engine.submit([spec])
        if not r.ok:
            raise pay_error(r.code)
        return movement(r, spec.id)

    async def PayBatch(self, request, context):  # type: ignore[no-untyped-def]
        n = len(request.payments)
        if n == 0 or n > 8190:
            raise invalid("payments", f"a batch holds 1..8190 payments (got {n})")
        specs = [self._pay_spec(p, f"payments[{i}].") for i, p in enumerate(request.payments)]
        results = await self.node.engine.submit(specs)
        out = []
        for i, (s, r) in enumerate(zip(specs, results, strict=True)):
            reason = "" if r.ok else PAY_REASONS.get(r.code, (C(r.code).name, ""))[0]
            out.append(
                node_pb2.PayResult(index=i, code=r.code, reason=reason, movement=movement(r, s.id))
            )
        return node_pb2.PayBatchResponse(results=out)

    async def GetWallet(self, request, context):  # type: ignore[no-untyped-def]
        return await self._view(await self.node.require_wallet(request.wallet_id))

    async def GetHistory(self, request, context):  # type: ignore[no-untyped-def]
        await self.node.require_wallet(request.wallet_id)
        ledger = LedgerServicer(self.node.engine, self.node.policy.jurisdiction)
        return await ledger.GetAccountTransfers(
            ledger_pb2.GetAccountTransfersRequest(account_id=request.wallet_id, page=request.page),
            context,
        )

    async def FreezeWallet(self, request, context):  # type: ignore[no-untyped-def]
        caller = current_caller()
        await self.node.freeze(
            request.wallet_id, request.freeze, request.reason, f"{caller.role}:{caller.subject}"
        )
        return await self._view(await self.node.require_wallet(request.wallet_id))


async def create_server(
    settings: ServiceSettings, jurisdiction_code: str
) -> tuple[RunningServer, CentralBankNode]:
    """Open the node's ledger and serve it. The caller stops the server and closes the node."""
    url = settings.database_url or pg.ledger_url(jurisdiction_code.lower())
    await pg.ensure_database(url)
    node = await CentralBankNode.open(url, jurisdiction_code.upper())
    running = await start_server(
        [
            (ledger_pb2_grpc.add_LedgerServicer_to_server, LedgerServicer(node.engine, jurisdiction_code.upper()),
             "corridor.v1.Ledger"),
            (node_pb2_grpc.add_CentralBankServicer_to_server, CentralBankServicer(node), "corridor.v1.CentralBank"),
            (node_pb2_grpc.add_WalletsServicer_to_server, WalletsServicer(node), "corridor.v1.Wallets"),
            (kyc_pb2_grpc.add_KycRegistryServicer_to_server, KycServicer(node), "corridor.v1.KycRegistry"),
        ],
        settings.bind,
    )  # fmt: skip
    node.expiry_task = asyncio.create_task(_expire_forever(node))  # type: ignore[attr-defined]
    return running, node


async def _expire_forever(node: CentralBankNode, every_s: float = 1.0) -> None:
    """Void ordinary timed-out pending transfers; for PvP legs ask the bridge's coordinator."""
    import os

    from bridge.pvp import resolve_timed_out_legs
    from corridor.server import channel
    from corridor.v1 import bridge_pb2, bridge_pb2_grpc

    target = os.environ.get("CORRIDOR_BRIDGE_TARGET", "127.0.0.1:50060")
    async with channel(target) as ch:
        stub = bridge_pb2_grpc.BridgeStub(ch)

        async def ask(ids: list[str]) -> dict[str, bool]:
            resp = await stub.ResolvePayments(
                bridge_pb2.ResolvePaymentsRequest(payment_ids=ids), timeout=5
            )
            return {d.payment_id: d.commit for d in resp.decisions}

        while True:
            await asyncio.sleep(every_s)
            with contextlib.suppress(Exception):
                await node.engine.expire_pending()
            try:
                await resolve_timed_out_legs(node.engine, ask)
            except Exception as exc:  # noqa: BLE001 - bridge unreachable: legs stay pending, ask again
                log.debug("could not resolve timed-out PvP legs yet: %s", exc)


async def run(code: str, bind: str, database_url: str = "") -> None:
    j = jurisdiction(code)
    settings = ServiceSettings(name=j.code.lower(), bind=bind, database_url=database_url)
    telemetry.init_tracing(settings.service_name)
    running, node = await create_server(settings, j.code)
    print(f"corridor node {j.code} ({j.currency}) serving on port {running.port}", flush=True)

    async def close() -> None:
        node.expiry_task.cancel()  # type: ignore[attr-defined]
        await node.close()

    await serve_until_signalled(running, [close])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="corridor node", description="Run one central-bank node.")
    ap.add_argument("--jurisdiction", required=True, help="CN, HK, TH, AE or SA")
    ap.add_argument("--bind", default="", help="host:port (default 127.0.0.1:<jurisdiction port>)")
    ap.add_argument("--database-url", default="", help="PostgreSQL URL of this node's ledger")
    a = ap.parse_args(argv)
    j = jurisdiction(a.jurisdiction)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(j.code, a.bind or f"127.0.0.1:{j.default_port}", a.database_url))


_ = grpc  # re-exported for type hints in tests
