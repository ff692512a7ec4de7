"""Who may see what: supervisors, their scope, and when an identity may be revealed.

Controllable anonymity (可控匿名) has three rules, each in one place here:

- **Who is calling.** `supervisor_of(caller)` turns the request's caller into a `Supervisor` of
  one jurisdiction, or refuses. Today the caller comes from `x-corridor-caller:
  supervisor:CN[/officer]`; a signed credential (issue 10) replaces this one function.
- **Scope.** A supervisor of X sees the accounts of X (`cn.*` for CN), the postings on X's
  ledger, and the bridge legs of cross-border payments that have a leg on X's ledger. Legs on
  another jurisdiction's ledger, and wallets of another jurisdiction, are that jurisdiction's.
- **Reveal.** Wallets are pseudonymous; the identity behind one (in its operator's KYC store) is
  revealed only to a supervisor of the wallet's jurisdiction, and only under an open case naming
  the wallet, or for a payment of the wallet at or above the reveal threshold of its currency
  (`RevealPolicy`: "small amounts anonymous, large amounts traceable").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from corridor.config import JURISDICTIONS
from corridor.errors import permission_denied
from corridor.server import Caller
from services.supervision.policy import DEFAULT_MINOR_EXPONENT, DEFAULT_REPORTING_THRESHOLDS_MAJOR
from services.supervision.postings import BRIDGE, Posting, account_jurisdiction

SUPERVISOR_ROLE = "supervisor"


@dataclass(frozen=True, slots=True)
class Supervisor:
    """An authenticated supervisor: its jurisdiction, and the name the audit log records."""

    jurisdiction: str  # CN, HK, TH, AE, SA
    name: str  # e.g. "supervisor:CN/officer-7"

    @property
    def account_prefix(self) -> str:
        """Accounts of this jurisdiction start with it (`cn.`)."""
        return f"{self.jurisdiction.lower()}."

    def owns(self, account_id: str) -> bool:
        return account_jurisdiction(account_id) == self.jurisdiction


def caller_name(caller: Caller) -> str:
    return f"{caller.role}:{caller.subject}" if caller.subject else caller.role


def supervisor_of(caller: Caller) -> Supervisor:
    """Authenticate the caller as a supervisor of one jurisdiction, or refuse
    (PERMISSION_DENIED NOT_A_SUPERVISOR). The only authentication check of the service."""
    if caller.role != SUPERVISOR_ROLE:
        raise permission_denied(
            "NOT_A_SUPERVISOR",
            f"supervision answers supervisors only (caller {caller_name(caller)!r}); "
            "send x-corridor-caller: supervisor:<jurisdiction>",
        )
    code = caller.subject.partition("/")[0].upper()
    if code not in JURISDICTIONS:
        raise permission_denied(
            "NOT_A_SUPERVISOR",
            f"unknown supervisor jurisdiction {code!r}; expected one of {', '.join(JURISDICTIONS)}",
        )
    return Supervisor(code, caller_name(caller))


def visible_legs(
    supervisor: Supervisor, legs: Iterable[Posting]
) -> tuple[list[Posting], list[str]]:
    """The legs of one payment a supervisor may see, and the ledgers withheld.

    A payment with no leg on the supervisor's ledger is not its business: nothing is visible.
    Otherwise its own legs and the bridge legs are, and other jurisdictions' legs are withheld."""
    legs = list(legs)
    if not any(leg.ledger == supervisor.jurisdiction for leg in legs):
        return [], sorted({leg.ledger for leg in legs})
    mine = (supervisor.jurisdiction, BRIDGE)
    visible = [leg for leg in legs if leg.ledger in mine]
    withheld = sorted({leg.ledger for leg in legs if leg.ledger not in mine})
    return visible, withheld


def _default_thresholds() -> Mapping[str, int]:
    return MappingProxyType(
        {
            cur: min(levels) * 10 ** DEFAULT_MINOR_EXPONENT.get(cur, 2)
            for cur, levels in DEFAULT_REPORTING_THRESHOLDS_MAJOR.items()
        }
    )


@dataclass(frozen=True)
class RevealPolicy:
    """When an identity may be revealed without a case: a payment at or above the threshold of
    its currency (minor units). Defaults are the large-value reporting levels the structuring
    detector watches (CNY 50,000; HKD 120,000; THB 2M; AED 55,000; SAR 60,000)."""

    thresholds_minor: Mapping[str, int] = field(default_factory=_default_thresholds)

    def reaches(self, amount_minor: int, currency: str) -> bool:
        """A payment this large may be traced to a person (an unknown currency never is)."""
        threshold = self.thresholds_minor.get(currency)
        return threshold is not None and amount_minor >= threshold
