"""A central-bank node: one jurisdiction's ledger, its operators and their wallets.

Two-tier operation: the central bank issues CBDC to authorised operators (debit the issuance
account, credit the operator's reserve); operators open wallets with KYC tiers and load them from
their reserve; wallets pay each other. Tier limits are account limits in the ledger, so they are
checked inside the same group transaction as the payment (never a read-then-write race).

Accounts on a node (ids are pseudonymous; identities live only in the operator's KYC store):
  {jur}.cb.issuance   the central bank's issuance account: debit balance = issued supply
  {jur}.op.{operator} an operator bank's reserve of CBDC
  {jur}.w.{hash}      a wallet (personal, corporate, merchant; sub-wallets too)
  {jur}.bridge        CBDC moved onto the mBridge platform (backs the bridge's {cur} supply)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from corridor.errors import invalid, not_found
from corridor.v1 import ledger_pb2
from services.centralbank.policy import NodePolicy, load_policy
from services.ledger.engine import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountSpec,
    LedgerEngine,
)
from services.ledger.schema import migrate

NODE_MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "operators, wallets, kyc, audit",
        """
CREATE TABLE operators (
    operator_id        text PRIMARY KEY,
    name               text NOT NULL DEFAULT '',
    reserve_account_id text NOT NULL REFERENCES accounts (id),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE wallets (
    wallet_id         text PRIMARY KEY REFERENCES accounts (id),
    operator_id       text NOT NULL REFERENCES operators (operator_id),
    kind              smallint NOT NULL CHECK (kind BETWEEN 1 AND 3),
    tier              smallint NOT NULL CHECK (tier BETWEEN 1 AND 4),
    parent_wallet_id  text REFERENCES wallets (wallet_id),
    merchant_category text NOT NULL DEFAULT '',
    region            text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now()
);
-- The operator's KYC store. Supervision never reads it directly: identity is revealed only
-- through an authorised, audited reveal (see services/supervision).
CREATE TABLE kyc_identities (
    wallet_id       text PRIMARY KEY REFERENCES wallets (wallet_id),
    holder_name     text NOT NULL,
    holder_document text NOT NULL DEFAULT ''
);
CREATE TABLE node_audit (
    seq     bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL,
    detail  text NOT NULL DEFAULT ''
);
""",
    ),
]

_OPERATOR_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


@dataclass(frozen=True, slots=True)
class WalletRow:
    wallet_id: str
    operator_id: str
    kind: int
    tier: int
    parent_wallet_id: str
    merchant_category: str
    region: str


class CentralBankNode:
    """The domain of one node. The gRPC servicers are thin layers over it."""

    def __init__(self, engine: LedgerEngine, policy: NodePolicy) -> None:
        self.engine = engine
        self.policy = policy
        j = policy.jurisdiction.lower()
        self.prefix = j
        self.issuance_account = f"{j}.cb.issuance"
        self.bridge_account = f"{j}.bridge"
        self.wallet_prefix = f"{j}.w."

    @classmethod
    async def open(cls, dsn: str, jurisdiction: str) -> CentralBankNode:
        policy = load_policy(jurisdiction)
        engine = await LedgerEngine.open(dsn, jurisdiction, policy.utc_offset_minutes)
        async with engine.pool.acquire() as conn:
            await migrate(conn, "node", NODE_MIGRATIONS)
        node = cls(engine, policy)
        await engine.create_accounts(
            [
                AccountSpec(
                    node.issuance_account,
                    policy.currency,
                    "issuance",
                    CREDITS_MUST_NOT_EXCEED_DEBITS,
                ),
                AccountSpec(
                    node.bridge_account, policy.currency, "bridge", DEBITS_MUST_NOT_EXCEED_CREDITS
                ),
            ]
        )
        return node

    async def close(self) -> None:
        await self.engine.close()

    @property
    def currency(self) -> str:
        return self.policy.currency

    def operator_account(self, operator_id: str) -> str:
        return f"{self.prefix}.op.{operator_id}"

    def wallet_id_for(self, operator_id: str, idempotency_key: str) -> str:
        """Deterministic, pseudonymous: a retried OpenWallet yields the same wallet."""
        h = hashlib.sha256(f"{operator_id}|{idempotency_key}".encode()).hexdigest()[:16]
        return f"{self.wallet_prefix}{h}"

    def is_wallet_id(self, account_id: str) -> bool:
        return account_id.startswith(self.wallet_prefix)

    # ---------------------------------------------------------------- operators
    async def register_operator(self, operator_id: str, name: str) -> tuple[str, bool]:
        if not _OPERATOR_ID.fullmatch(operator_id):
            raise invalid(
                "operator_id", "1..32 chars of [a-z0-9-], starting with a letter or digit"
            )
        account = self.operator_account(operator_id)
        await self.engine.create_accounts(
            [AccountSpec(account, self.currency, "operator", DEBITS_MUST_NOT_EXCEED_CREDITS)]
        )
        async with self.engine.pool.acquire() as conn:
            created = await conn.fetchval(
                "INSERT INTO operators (operator_id, name, reserve_account_id) VALUES ($1,$2,$3)"
                " ON CONFLICT (operator_id) DO NOTHING RETURNING true",
                operator_id, name, account,
            )  # fmt: skip
        return account, bool(created)

    async def require_operator(self, operator_id: str, field_name: str = "operator_id") -> str:
        if not operator_id:
            raise invalid(field_name, "must not be empty")
        async with self.engine.pool.acquire() as conn:
            acct = await conn.fetchval(
                "SELECT reserve_account_id FROM operators WHERE operator_id = $1", operator_id
            )
        if acct is None:
            raise not_found(
                field_name, f"no authorised operator {operator_id!r} on {self.policy.jurisdiction}"
            )
        return acct

    # ---------------------------------------------------------------- wallets
    async def open_wallet(
        self, key: str, operator_id: str, kind: int, tier: int, holder_name: str,
        holder_document: str, parent: str, mcc: str, region: str,
    ) -> WalletRow:  # fmt: skip
        if not key:
            raise invalid("idempotency_key", "must not be empty")
        if kind not in (1, 2, 3):
            raise invalid("kind", "must be PERSONAL, CORPORATE or MERCHANT")
        t = self.policy.tiers.get(tier)
        if t is None:
            raise invalid("tier", f"must be one of {sorted(self.policy.tiers)} (got {tier})")
        if not holder_name:
            raise invalid("holder_name", "must not be empty (the operator's KYC record)")
        await self.require_operator(operator_id)
        if parent and await self.wallet(parent, "parent_wallet_id") is None:
            raise not_found("parent_wallet_id", f"no wallet {parent!r}")
        wallet_id = self.wallet_id_for(operator_id, key)
        await self.engine.create_accounts(
            [
                AccountSpec(
                    wallet_id, self.currency, "wallet", DEBITS_MUST_NOT_EXCEED_CREDITS,
                    t.balance_max_minor, t.per_payment_max_minor, t.daily_max_minor,
                )
            ]
        )  # fmt: skip
        async with self.engine.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO wallets (wallet_id, operator_id, kind, tier, parent_wallet_id,"
                " merchant_category, region) VALUES ($1,$2,$3,$4,$5,$6,$7)"
                " ON CONFLICT (wallet_id) DO NOTHING",
                wallet_id, operator_id, kind, tier, parent or None, mcc, region,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO kyc_identities (wallet_id, holder_name, holder_document)"
                " VALUES ($1,$2,$3) ON CONFLICT (wallet_id) DO NOTHING",
                wallet_id, holder_name, holder_document,
            )  # fmt: skip
        row = await self.wallet(wallet_id)
        assert row is not None
        return row

    async def open_wallets(self, reqs: list) -> list[str]:  # type: ignore[type-arg]
        """Open many wallets in one transaction (same rules as open_wallet, checked up front)."""
        operators: dict[str, int] = {}
        rows = []
        for i, r in enumerate(reqs):
            p = f"wallets[{i}]."
            if not r.idempotency_key:
                raise invalid(f"{p}idempotency_key", "must not be empty")
            if r.kind not in (1, 2, 3):
                raise invalid(f"{p}kind", "must be PERSONAL, CORPORATE or MERCHANT")
            if r.tier not in self.policy.tiers:
                raise invalid(
                    f"{p}tier", f"must be one of {sorted(self.policy.tiers)} (got {r.tier})"
                )
            if not r.holder_name:
                raise invalid(f"{p}holder_name", "must not be empty (the operator's KYC record)")
            if r.parent_wallet_id:
                raise invalid(
                    f"{p}parent_wallet_id", "open sub-wallets one at a time with OpenWallet"
                )
            operators.setdefault(r.operator_id, i)
            rows.append((self.wallet_id_for(r.operator_id, r.idempotency_key), r))
        for op, i in operators.items():
            await self.require_operator(op, f"wallets[{i}].operator_id")
        specs = []
        for wid, r in rows:
            t = self.policy.tiers[r.tier]
            specs.append(AccountSpec(wid, self.currency, "wallet", DEBITS_MUST_NOT_EXCEED_CREDITS,
                                     t.balance_max_minor, t.per_payment_max_minor, t.daily_max_minor))  # fmt: skip
        await self.engine.create_accounts(specs)
        async with self.engine.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO wallets (wallet_id, operator_id, kind, tier, merchant_category, region)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::smallint[], $5::text[],"
                " $6::text[]) ON CONFLICT (wallet_id) DO NOTHING",
                [w for w, _ in rows], [r.operator_id for _, r in rows], [r.kind for _, r in rows],
                [r.tier for _, r in rows], [r.merchant_category for _, r in rows], [r.region for _, r in rows],
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO kyc_identities (wallet_id, holder_name, holder_document)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (wallet_id) DO NOTHING",
                [w for w, _ in rows], [r.holder_name for _, r in rows], [r.holder_document for _, r in rows],
            )  # fmt: skip
        return [w for w, _ in rows]

    async def wallet(self, wallet_id: str, field_name: str = "wallet_id") -> WalletRow | None:
        if not wallet_id:
            raise invalid(field_name, "must not be empty")
        async with self.engine.pool.acquire() as conn:
            r = await conn.fetchrow("SELECT * FROM wallets WHERE wallet_id = $1", wallet_id)
        if r is None:
            return None
        return WalletRow(
            r["wallet_id"], r["operator_id"], r["kind"], r["tier"], r["parent_wallet_id"] or "",
            r["merchant_category"], r["region"],
        )  # fmt: skip

    async def require_wallet(self, wallet_id: str, field_name: str = "wallet_id") -> WalletRow:
        w = await self.wallet(wallet_id, field_name)
        if w is None:
            raise not_found(field_name, f"no wallet {wallet_id!r} on {self.policy.jurisdiction}")
        return w

    async def freeze(self, wallet_id: str, mode: int, reason: str, actor: str) -> None:
        await self.require_wallet(wallet_id)
        if mode not in (0, 1, 2):
            raise invalid("freeze", "must be FREEZE_NONE, FREEZE_RECEIVE_ONLY or FREEZE_FULL")
        await self.engine.set_freeze(wallet_id, mode)
        async with self.engine.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO node_audit (actor, action, subject, detail) VALUES ($1,$2,$3,$4)",
                actor, f"freeze:{ledger_pb2.Freeze.Name(mode)}", wallet_id, reason,
            )  # fmt: skip

    async def issued_minor(self) -> int:
        (acct,) = await self.engine.lookup_accounts([self.issuance_account])
        return acct["debits_posted"] - acct["credits_posted"]
