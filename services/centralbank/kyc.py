"""The node's KYC registry as supervision reaches it: pseudonymous profiles, audited reveals.

Controllable anonymity splits what a node knows about a wallet in two. The *profile* (KYC tier,
wallet kind, operator, merchant category, region) is pseudonymous: the supervision service needs
it to read the posting feed (a tier-0 account is an institution, a tier-4 wallet was opened with a
phone number only) and gets it in bulk. The *identity* (holder name and document, in the
operator's `kyc_identities` store) leaves the node only for a reveal that supervision has
authorised under its rules (right jurisdiction; open case or large payment) and already written
to its hash-chained audit log; the node writes its own `node_audit` row for every identity it
serves, naming the supervisor and the supervision audit entry.

Callers: the supervision service, `x-corridor-caller: supervision:<instance>`. A supervisor
calling the node directly is refused: the only road to an identity runs through supervision's
policy and audit. (Issue 10 swaps the metadata for a signed credential; `_require_supervision`
is the one place that checks it.)
"""

from __future__ import annotations

from corridor.errors import invalid, not_found, permission_denied
from corridor.server import Caller, current_caller
from corridor.v1 import kyc_pb2, kyc_pb2_grpc
from services.centralbank.node import CentralBankNode

MAX_DESCRIBE = 10_000


def _require_supervision(caller: Caller) -> None:
    if caller.role != "supervision":
        raise permission_denied(
            "NOT_SUPERVISION",
            f"the KYC registry answers the supervision service only (caller {caller.role!r})",
        )


class KycServicer(kyc_pb2_grpc.KycRegistryServicer):
    """`corridor.v1.KycRegistry` on a central-bank node."""

    def __init__(self, node: CentralBankNode) -> None:
        self.node = node

    async def DescribeWallets(self, request, context):  # type: ignore[no-untyped-def]
        _require_supervision(current_caller())
        n = len(request.wallet_ids)
        if n == 0 or n > MAX_DESCRIBE:
            raise invalid("wallet_ids", f"1..{MAX_DESCRIBE} ids per call (got {n})")
        async with self.node.engine.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT wallet_id, operator_id, kind, tier, merchant_category, region,"
                " parent_wallet_id FROM wallets WHERE wallet_id = ANY($1::text[])",
                list(request.wallet_ids),
            )
        return kyc_pb2.DescribeWalletsResponse(
            wallets=[
                kyc_pb2.WalletProfile(
                    wallet_id=r["wallet_id"], operator_id=r["operator_id"], kind=r["kind"],
                    tier=r["tier"], merchant_category=r["merchant_category"], region=r["region"],
                    parent_wallet_id=r["parent_wallet_id"] or "",
                )
                for r in rows
            ]
        )  # fmt: skip

    async def RevealHolder(self, request, context):  # type: ignore[no-untyped-def]
        caller = current_caller()
        _require_supervision(caller)
        here = self.node.policy.jurisdiction
        if request.supervisor_jurisdiction.upper() != here:
            raise permission_denied(
                "OUT_OF_SCOPE",
                f"only a supervisor of {here} may see the identity behind a {here} wallet",
            )
        if not request.reason.strip():
            raise invalid("reason", "a reveal must state why")
        if not request.audit_hash:
            raise invalid("audit_hash", "the supervision audit entry authorising the reveal")
        if not request.wallet_id:
            raise invalid("wallet_id", "must not be empty")
        async with self.node.engine.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT k.holder_name, k.holder_document, w.operator_id, w.tier"
                " FROM kyc_identities k JOIN wallets w USING (wallet_id) WHERE wallet_id = $1",
                request.wallet_id,
            )
            if row is None:
                raise not_found("wallet_id", f"no wallet {request.wallet_id!r} on {here}")
            await conn.execute(
                "INSERT INTO node_audit (actor, action, subject, detail) VALUES ($1,$2,$3,$4)",
                f"{caller.role}:{caller.subject} for {request.supervisor or 'supervisor'}",
                "kyc:reveal",
                request.wallet_id,
                f"case={request.case_id} audit={request.audit_hash} reason={request.reason}",
            )
        return kyc_pb2.KycHolder(
            wallet_id=request.wallet_id, holder_name=row["holder_name"],
            holder_document=row["holder_document"], operator_id=row["operator_id"], tier=row["tier"],
        )  # fmt: skip
