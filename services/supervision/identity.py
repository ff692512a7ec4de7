"""Who is behind a pseudonymous id, as far as the supervisor can tell from the feeds alone.

Controllable anonymity: supervision works on pseudonymous wallet ids; identities stay with the
operators and are revealed only under a threshold or an open case. What matters for penetration
is whether a reveal is *possible*:

- CBDC rail: every wallet (tier 1..4) was opened at an operator that holds a KYC identity for it
  - a tier-4 wallet is opened with a real-name phone number - so any account the node ledgers show
  with a wallet tier traces to a person or company.
- Stablecoin rail: a chain address traces to a person only when a KYC'd ramp joined it to a
  central-bank wallet: the ramp's fiat leg (on a node ledger) and its chain leg share a
  payment_id. Addresses funded by OTC desks, offshore exchanges or self-custody stay anonymous.
"""

from __future__ import annotations

from services.supervision.postings import CHAIN_PREFIX, Posting


class IdentityResolver:
    """Builds, from postings only, the map from accounts to KYC'd wallets that identify them."""

    def __init__(self) -> None:
        self._kyc_wallets: set[str] = set()
        self._address_owner: dict[str, str] = {}
        self._ramp_legs: dict[str, list[str]] = {}  # payment_id -> [fiat wallet, chain address]

    def observe(self, p: Posting) -> None:
        on_chain = p.ledger.startswith(CHAIN_PREFIX)
        if not on_chain:
            if p.debit_tier > 0:
                self._kyc_wallets.add(p.debit_account)
            if p.credit_tier > 0:
                self._kyc_wallets.add(p.credit_account)
        if p.kind not in ("onramp", "offramp") or not p.payment_id:
            return
        legs = self._ramp_legs.setdefault(p.payment_id, ["", ""])
        buying = p.kind == "onramp"
        if on_chain:
            legs[1] = p.credit_account if buying else p.debit_account
        else:
            wallet, tier = (
                (p.debit_account, p.debit_tier) if buying else (p.credit_account, p.credit_tier)
            )
            if tier > 0:
                legs[0] = wallet
        if legs[0] and legs[1]:
            self._address_owner.setdefault(legs[1], legs[0])
            del self._ramp_legs[p.payment_id]

    def identity_of(self, account: str) -> str | None:
        """The KYC'd wallet that identifies `account` (itself for a wallet), or None."""
        if account in self._kyc_wallets:
            return account
        return self._address_owner.get(account)

    def identified(self, account: str) -> bool:
        return self.identity_of(account) is not None
