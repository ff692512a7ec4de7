"""The voucher ledger: accounts and transfers on the vouchers service's own ledger engine.

The vouchers service is a sub-ledger of the voucher operator's omnibus account at the e-CNY node:
value enters it when a funder deposits, and leaves it when parties are paid out. Inside, every
voucher is an escrow account that can never go below zero.

Accounts (currency C; ids are pseudonymous):

| account                          | kind      | flags                          | balance means |
|----------------------------------|-----------|--------------------------------|---------------|
| `vouchers.omnibus.C`             | issuance  | credits must not exceed debits | debit balance = value held in the voucher system |
| `vouchers.funder.<funder>.C`     | funder    | debits must not exceed credits | what a funder deposited and has not yet locked |
| `vouchers.escrow.<program>`      | escrow    | debits must not exceed credits | what the program still locks (outstanding) |
| `vouchers.party.<party>.C`       | payable   | none                           | owed to a merchant, refund target or authority (paid out on the node) |
| `vouchers.bridge.C`              | bridge    | none                           | redeemed cross-border, handed to the bridge |

Transfers (`payment_id` = program id for everything that touches an escrow account):

| event      | id                    | debit   | credit                                 | kind              |
|------------|-----------------------|---------|----------------------------------------|-------------------|
| deposit    | `vd:<funder>:<key>`   | omnibus | funder                                 | voucher_deposit   |
| issue      | `vi:<program>`        | funder  | escrow                                 | voucher_issue     |
| redeem     | `vr:<program>:<key>`  | escrow  | party(payee), or bridge if cross-border | voucher_redeem    |
| expiry     | `vx:<program>`        | escrow  | party(refund target)                   | voucher_refund    |
| claw-back  | `vc:<program>:<key>`  | escrow  | party(authority)                       | voucher_clawback  |

Why it works: the escrow account's flag makes overspending impossible in the database itself;
ids are deterministic, so a retried redemption or expiry is the same transfer (the engine answers
EXISTS) and can never post twice; and per program, by double entry on the escrow account,

    issued = redeemed + refunded + clawed_back + outstanding

which `invariants.py` checks from the ledger rows.
"""

from __future__ import annotations

from services.ledger.engine import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountSpec,
)

KIND_DEPOSIT = "voucher_deposit"
KIND_ISSUE = "voucher_issue"
KIND_REDEEM = "voucher_redeem"
KIND_REFUND = "voucher_refund"
KIND_CLAWBACK = "voucher_clawback"
ESCROW_DEBIT_KINDS = (KIND_REDEEM, KIND_REFUND, KIND_CLAWBACK)


def omnibus_account(currency: str) -> str:
    return f"vouchers.omnibus.{currency}"


def funder_account(funder_id: str, currency: str) -> str:
    return f"vouchers.funder.{funder_id}.{currency}"


def escrow_account(program_id: str) -> str:
    return f"vouchers.escrow.{program_id}"


def party_account(party_id: str, currency: str) -> str:
    return f"vouchers.party.{party_id}.{currency}"


def bridge_account(currency: str) -> str:
    return f"vouchers.bridge.{currency}"


def deposit_transfer_id(funder_id: str, key: str) -> str:
    return f"vd:{funder_id}:{key}"


def issue_transfer_id(program_id: str) -> str:
    return f"vi:{program_id}"


def redeem_transfer_id(program_id: str, key: str) -> str:
    return f"vr:{program_id}:{key}"


def refund_transfer_id(program_id: str) -> str:
    return f"vx:{program_id}"


def clawback_transfer_id(program_id: str, key: str) -> str:
    return f"vc:{program_id}:{key}"


def omnibus_spec(currency: str) -> AccountSpec:
    return AccountSpec(
        omnibus_account(currency), currency, "issuance", CREDITS_MUST_NOT_EXCEED_DEBITS
    )


def funder_spec(funder_id: str, currency: str) -> AccountSpec:
    return AccountSpec(
        funder_account(funder_id, currency), currency, "funder", DEBITS_MUST_NOT_EXCEED_CREDITS
    )


def escrow_spec(program_id: str, currency: str) -> AccountSpec:
    return AccountSpec(
        escrow_account(program_id), currency, "escrow", DEBITS_MUST_NOT_EXCEED_CREDITS
    )


def party_spec(party_id: str, currency: str) -> AccountSpec:
    return AccountSpec(party_account(party_id, currency), currency, "payable")


def bridge_spec(currency: str) -> AccountSpec:
    return AccountSpec(bridge_account(currency), currency, "bridge")
