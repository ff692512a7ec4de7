"""The vouchers service's own tables, beside the ledger engine's in the vouchers database.

Money never lives in these tables: every amount moved is a ledger transfer (see `ledger.py`), and
per-program counters (issued, redeemed, refunded, clawed back, outstanding) are *derived* from the
ledger's transfers by `payment_id` = program id and from the escrow account's balance. The engine
commits its own batches and exposes no hook to write other tables in the same transaction, so
derivation is what keeps the counters exact (nothing to drift). What these tables hold:

- `voucher_programs`: each program's definition (clauses included) as issued, and its lifecycle
  status -- a cache of what the ledger says, repaired from the ledger at start-up.
- `voucher_evaluations`: the audit trail, one row per evaluated redemption (inputs, verdict,
  failing clause), written *before* the ledger transfer, so no settled redemption lacks one.
  Whether an allowed redemption settled is read from the ledger (`transfer_id`).
- `voucher_actions`: issue, deposit, expiry and claw-back decisions: who, why, how much.
- `voucher_relay_cursors`, `voucher_bridge_payouts`: how far the bridge relay has followed the
  settlement feed, and the bridge's receipt for each cross-border payout (see `relay.py`).
"""

from __future__ import annotations

VOUCHER_MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "voucher programs, evaluations, actions",
        """
CREATE TABLE voucher_programs (
    program_id      text PRIMARY KEY CHECK (length(program_id) BETWEEN 1 AND 64),
    idempotency_key text NOT NULL UNIQUE,
    fingerprint     text NOT NULL,
    definition      jsonb NOT NULL,
    funder_id       text NOT NULL,
    currency        char(3) NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    template        text NOT NULL,
    status          text NOT NULL
        CHECK (status IN ('issuing', 'active', 'rejected', 'expired', 'clawed_back')),
    issued_at_us    bigint NOT NULL,
    expires_at_us   bigint NOT NULL,
    closed_at_us    bigint NOT NULL DEFAULT 0
);
CREATE INDEX voucher_programs_due ON voucher_programs (expires_at_us) WHERE status = 'active';

CREATE TABLE voucher_evaluations (
    seq             bigserial PRIMARY KEY,
    program_id      text NOT NULL,
    redemption_key  text NOT NULL,
    transfer_id     text NOT NULL,
    payee_id        text NOT NULL,
    amount_minor    bigint NOT NULL,
    business_at_us  bigint NOT NULL,
    inputs          json NOT NULL,  -- text kept as written: cheaper than jsonb to COPY
    allowed         boolean NOT NULL,
    failed_clause   text NOT NULL DEFAULT '',
    reason          text NOT NULL DEFAULT '',
    detail          text NOT NULL DEFAULT '',
    -- Set only when the ledger refused a redemption the condition allowed (engine result code).
    ledger_code     integer NOT NULL DEFAULT 0,
    CHECK (allowed = (failed_clause = ''))
);
CREATE INDEX voucher_evaluations_program ON voucher_evaluations (program_id, seq);
CREATE INDEX voucher_evaluations_key ON voucher_evaluations (program_id, redemption_key, seq);
CREATE INDEX voucher_evaluations_transfer ON voucher_evaluations (transfer_id) WHERE allowed;

CREATE TABLE voucher_actions (
    seq            bigserial PRIMARY KEY,
    program_id     text NOT NULL,
    action         text NOT NULL CHECK (action IN ('issue', 'deposit', 'expire', 'clawback')),
    actor          text NOT NULL,
    amount_minor   bigint NOT NULL,
    transfer_id    text NOT NULL,
    reason         text NOT NULL DEFAULT '',
    business_at_us bigint NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voucher_actions_program ON voucher_actions (program_id, seq);
""",
    ),
    (
        2,
        "bridge relay: cursor and receipts",
        """
CREATE TABLE voucher_relay_cursors (
    name text PRIMARY KEY,
    seq  bigint NOT NULL
);
-- One row per cross-border payout handed to the bridge: its payment and the bridge's verdict.
CREATE TABLE voucher_bridge_payouts (
    transfer_id text PRIMARY KEY,
    program_id  text NOT NULL,
    payment_id  text NOT NULL,
    status      text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    attempts    integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
""",
    ),
]
