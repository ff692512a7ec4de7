"""The posting: the one record every part of supervision consumes.

Penetrating supervision (穿透式监管) re-derives everything from the ledgers' own posting feeds,
never from what a client claims (DESIGN §7). Each ledger (a central-bank node, the bridge, a
public chain seen through an indexer) publishes its committed postings in order; the feed adapter
turns each into a `Posting`. A cross-border payment is several postings on several ledgers
(payer -> operator on the source ledger, bank -> liquidity provider -> bank on the BRIDGE,
operator -> payee on the destination ledger) that share one `payment_id`; supervision joins them
back into one payer -> payee flow (see `flows.FlowAssembler`).

Conventions the detectors rely on (the feed adapter must keep them):
- `debit_tier` / `credit_tier` are the KYC tier (1..4) of a *wallet*; 0 marks an institutional
  account (operator omnibus, bridge bank, liquidity provider, escrow, ramp settlement) or a chain
  address (chains have no tiers).
- `kind` is the domain kind of the posting: 'p2p', 'merchant' (a purchase; a refund runs the other
  way), 'issue'/'load' (operator -> wallet, own bank money converted), 'redeem' (wallet -> operator),
  'pvp' (a leg of a cross-border payment), 'voucher' (grant: escrow -> holder; redemption: holder ->
  merchant, with `merchant_category`), 'onramp'/'offramp' (the two legs of a KYC'd ramp: fiat leg on
  a jurisdiction ledger, token leg on a chain, same `payment_id`), 'chain' (any other on-chain
  transfer).
- `business_at` is business time in unix seconds (virtual in simulation, wall time live).
- `phase` is 'posted' for value that moved. A live ledger feed also carries the two-phase rows
  around it: 'pending' (phase one: value held, not moved) and 'voided' (the hold released). They
  are stored, so the mirror of a feed is complete, but only posted rows reach the detectors and
  the flow-graph queries.
"""

from __future__ import annotations

from dataclasses import dataclass

JURISDICTIONS: tuple[str, ...] = ("CN", "HK", "TH", "AE", "SA")
BRIDGE = "BRIDGE"
CHAIN_PREFIX = "CHAIN:"
KINDS: frozenset[str] = frozenset(
    {
        "p2p",
        "merchant",
        "issue",
        "load",
        "redeem",
        "pvp",
        "voucher",
        "onramp",
        "offramp",
        "chain",
        "fee",
        "sweep",
        "other",  # a ledger kind supervision has no meaning for (kept, never third-party value)
    }
)
PHASES: frozenset[str] = frozenset({"posted", "pending", "voided"})

CBDC_RAIL = "cbdc"
STABLECOIN_RAIL = "stablecoin"
RAILS: tuple[str, ...] = (CBDC_RAIL, STABLECOIN_RAIL)


@dataclass(frozen=True, slots=True)
class Posting:
    """One committed transfer as it appears in one ledger's feed."""

    ledger: str  # "CN","HK","TH","AE","SA","BRIDGE","CHAIN:ethereum","CHAIN:tron"
    seq: int  # position in that ledger's feed
    transfer_id: str
    payment_id: str  # correlates legs of one payment across ledgers, "" if none
    debit_account: str  # pseudonymous wallet/account/address id
    credit_account: str
    amount_minor: int
    currency: str
    kind: str  # see the module docstring
    business_at: float  # business time, unix seconds
    debit_jurisdiction: str = ""
    credit_jurisdiction: str = ""
    debit_tier: int = 0
    credit_tier: int = 0
    merchant_category: str = ""
    phase: str = "posted"  # posted | pending | voided (see the module docstring)


def account_jurisdiction(account_id: str) -> str:
    """The jurisdiction an account belongs to, from its id: `cn.w.*`, `cn.op.*`, `cn.bridge` ->
    CN; `bridge.*` -> BRIDGE; anything else (a chain address) -> ''. Ids are pseudonymous but
    say where they live, as an IBAN does."""
    head, _, _ = account_id.partition(".")
    code = head.upper()
    if code in JURISDICTIONS or code == BRIDGE:
        return code
    return ""


def is_wallet_account(account_id: str) -> bool:
    """A wallet of a central-bank node (`{jur}.w.*`), as opposed to an institutional account."""
    head, _, rest = account_id.partition(".")
    return head.upper() in JURISDICTIONS and rest.startswith("w.")


def is_chain_ledger(ledger: str) -> bool:
    return ledger.startswith(CHAIN_PREFIX)


def rail_of(p: Posting) -> str:
    """The rail a posting belongs to: on-chain transfers and both legs of a ramp are the
    stablecoin rail; everything on a central-bank ledger or the bridge is the CBDC rail."""
    if p.ledger.startswith(CHAIN_PREFIX) or p.kind in ("onramp", "offramp"):
        return STABLECOIN_RAIL
    return CBDC_RAIL


class PostingError(ValueError):
    """A posting the feed adapter produced breaks a field rule; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"posting field {field!r}: {message}")
        self.field = field


def validate_posting(p: Posting) -> Posting:
    """Check a posting at the feed boundary (cheap; detectors assume it has been called).

    Raises `PostingError` naming the first offending field."""
    chain = p.ledger.startswith(CHAIN_PREFIX) and len(p.ledger) > len(CHAIN_PREFIX)
    if not (chain or p.ledger in JURISDICTIONS or p.ledger in (BRIDGE, "VOUCHERS")):
        raise PostingError("ledger", f"unknown ledger {p.ledger!r}")
    if not isinstance(p.seq, int) or p.seq < 0:
        raise PostingError("seq", f"must be a non-negative int (got {p.seq!r})")
    if not p.transfer_id:
        raise PostingError("transfer_id", "must not be empty")
    if not p.debit_account:
        raise PostingError("debit_account", "must not be empty")
    if not p.credit_account:
        raise PostingError("credit_account", "must not be empty")
    if p.debit_account == p.credit_account:
        raise PostingError("credit_account", "must differ from debit_account")
    if not isinstance(p.amount_minor, int) or isinstance(p.amount_minor, bool):
        raise PostingError("amount_minor", "must be an int in minor units, never a float")
    if p.amount_minor <= 0:
        raise PostingError("amount_minor", f"must be positive (got {p.amount_minor})")
    if not p.currency:
        raise PostingError("currency", "must not be empty")
    if p.kind not in KINDS:
        raise PostingError("kind", f"must be one of {sorted(KINDS)} (got {p.kind!r})")
    if not isinstance(p.business_at, (int, float)) or p.business_at != p.business_at:
        raise PostingError("business_at", "must be unix seconds")
    for name in ("debit_tier", "credit_tier"):
        tier = getattr(p, name)
        if not isinstance(tier, int) or not 0 <= tier <= 4:
            raise PostingError(name, f"must be 0 (institution/address) or 1..4 (got {tier!r})")
    if p.phase not in PHASES:
        raise PostingError("phase", f"must be one of {sorted(PHASES)} (got {p.phase!r})")
    return p
