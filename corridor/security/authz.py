"""Authorisation: one rule per RPC, checked by the server interceptor before the handler runs.

`RULES` maps a full method name to the callers allowed (`Grant`s, tried in order) and, for
privileged actions, the audit action written to the hash-chained log. A caller pattern is a role,
optionally `@here` (the credential's jurisdiction must be this server's: the central bank of CN
acts on the CN node only). A grant's `check` looks at the request — e.g. every wallet a payment
debits must be the caller's own (holder) or operated by the caller (operator). An RPC without a
rule is refused (default deny); health and reflection are exempt.

The three rules the corridor cannot do without:
  - a wallet is debited only by its holder, or by its operator acting for the holder
    (Wallets.Pay/PayBatch, Bridge.CrossBorderPay/Batch, raw Ledger transfers);
  - CBDC is issued only by that currency's central bank (CentralBank.Issue, `central_bank@here`);
  - an identity is revealed only to a supervisor of the wallet's jurisdiction (Supervision.
    RevealIdentity; the open-case rule is checked by supervision, which holds the cases) and the
    node's KYC store answers the supervision service only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corridor.config import JURISDICTIONS
from corridor.errors import CorridorError, permission_denied
from corridor.security.credentials import ADMIN_ROLES, SERVICE_ROLES

if TYPE_CHECKING:
    from corridor.security.resources import ServerResources
    from corridor.server import Caller

EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
ANY = "*"  # any authenticated caller
STAFF = ("admin", "simulator", "central_bank@here", "supervisor@here", *sorted(SERVICE_ROLES))


@dataclass
class AuthzContext:
    method: str
    request: Any
    caller: Caller
    resources: ServerResources

    @property
    def here(self) -> str:
        return self.resources.here


Check = Callable[[AuthzContext], Awaitable[None]]


@dataclass(frozen=True)
class Grant:
    who: tuple[str, ...]
    check: Check | None = None

    def matches(self, caller: Caller, here: str) -> bool:
        for pattern in self.who:
            role, _, scope = pattern.partition("@")
            if pattern == ANY or (role == caller.role and (not scope or acts_in(caller, here))):
                return True
        return False


def acts_in(caller: Caller, jurisdiction: str) -> bool:
    """A credential names one jurisdiction, or several ("CN,HK") for a bank group that each of
    those central banks has authorised."""
    return bool(jurisdiction) and jurisdiction in caller.jurisdiction.split(",")


@dataclass(frozen=True)
class Rule:
    grants: tuple[Grant, ...]
    audit: str = ""  # privileged action name: every attempt goes to the audit chain
    summary: str = ""

    def callers(self) -> list[str]:
        return [w for g in self.grants for w in g.who]


def grant(*who: str, check: Check | None = None) -> Grant:
    return Grant(tuple(who), check)


def deny(reason: str, message: str) -> CorridorError:
    return permission_denied(reason, message)


# ----------------------------------------------------------------------------- checks
def _is_node(ledger: str) -> bool:
    return ledger in JURISDICTIONS


def _account_jurisdiction(account_id: str) -> str:
    return account_id.split(".", 1)[0].upper() if "." in account_id else ""


async def _debit_wallets(ctx: AuthzContext, jurisdiction: str, wallets: list[str]) -> None:
    """Every wallet must be the caller's (named in the credential) or, for an operator of that
    jurisdiction, one it operates."""
    c = ctx.caller
    rest = [w for w in dict.fromkeys(wallets) if w not in c.wallets]
    if not rest:
        return
    if c.role != "operator" or not acts_in(c, jurisdiction):
        raise deny(
            "NOT_WALLET_HOLDER",
            f"{c.role} {c.subject!r} may not debit wallet {rest[0]!r}: only its holder or its"
            " operator may",
        )
    operators = await ctx.resources.wallet_operators(jurisdiction, rest)
    for w in rest:
        if operators.get(w) != c.subject:
            raise deny(
                "NOT_WALLET_OPERATOR",
                f"operator {c.subject!r} does not operate wallet {w!r} on {jurisdiction}",
            )


def _ledger_owner(ctx: AuthzContext) -> bool:
    """Who runs this ledger may write it without per-transfer checks."""
    c, here = ctx.caller, ctx.here
    if _is_node(here):
        return (c.role == "central_bank" and acts_in(c, here)) or c.role == "bridge"
    if here == "BRIDGE":
        return c.role == "bridge"
    if here == "VOUCHERS":
        return c.role == "vouchers"
    return c.role in ADMIN_ROLES


async def _raw_debits(ctx: AuthzContext, transfers: Iterable[Any]) -> None:
    """Raw ledger writes by anyone but the ledger's owner: each debited account must be the
    caller's own (its reserve, its liquidity, its or its holders' wallets)."""
    if _ledger_owner(ctx):
        return
    c, here = ctx.caller, ctx.here
    if not _is_node(here):
        raise deny(
            "NOT_LEDGER_OWNER", f"only the operator of the {here or 'this'} ledger writes it"
        )
    wallets: list[str] = []
    own_reserve = f"{here.lower()}.op.{c.subject}"
    for i, t in enumerate(transfers):
        if t.post_pending_id or t.void_pending_id:
            raise deny(
                "NOT_LEDGER_OWNER", f"transfers[{i}]: only the ledger's owner posts or voids"
            )
        acct = t.debit_account_id
        if acct.startswith(f"{here.lower()}.w."):
            wallets.append(acct)
        elif acct == own_reserve and (
            (c.role == "operator" and acts_in(c, here)) or c.role == "liquidity_provider"
        ):
            continue
        else:
            raise deny(
                "NOT_ACCOUNT_OWNER",
                f"transfers[{i}]: {c.role} {c.subject!r} may not debit {acct!r}",
            )
    if wallets:
        await _debit_wallets(ctx, here, wallets)


async def ledger_transfers(ctx: AuthzContext) -> None:
    await _raw_debits(ctx, ctx.request.transfers)


async def ledger_transfer(ctx: AuthzContext) -> None:
    await _raw_debits(ctx, [ctx.request])


async def ledger_owner_only(ctx: AuthzContext) -> None:
    if not _ledger_owner(ctx):
        raise deny("NOT_LEDGER_OWNER", f"only the operator of the {ctx.here} ledger may do this")


async def _readable_accounts(ctx: AuthzContext, ids: list[str]) -> None:
    c, here = ctx.caller, ctx.here
    wallets = [a for a in ids if a.startswith(f"{here.lower()}.w.")]
    others = [a for a in ids if a not in wallets and a != f"{here.lower()}.op.{c.subject}"]
    if others:
        raise deny("NOT_ACCOUNT_OWNER", f"{c.role} {c.subject!r} may not read {others[0]!r}")
    if wallets and c.role == "holder" and not set(wallets) <= c.wallets:
        raise deny("NOT_WALLET_HOLDER", "a holder reads only its own wallets")
    if wallets and c.role == "operator":
        await _debit_wallets(ctx, here, wallets)  # same test: does it operate them?


async def read_accounts(ctx: AuthzContext) -> None:
    await _readable_accounts(ctx, list(ctx.request.ids))


async def read_account(ctx: AuthzContext) -> None:
    await _readable_accounts(ctx, [ctx.request.account_id])


async def read_wallet(ctx: AuthzContext) -> None:
    await _readable_accounts(ctx, [ctx.request.wallet_id])


async def own_operator(ctx: AuthzContext) -> None:
    if ctx.request.operator_id != ctx.caller.subject:
        raise deny("NOT_OPERATOR", f"operator {ctx.caller.subject!r} acts for itself only")


async def own_operators(ctx: AuthzContext) -> None:
    for i, w in enumerate(ctx.request.wallets):
        if w.operator_id != ctx.caller.subject:
            raise deny(
                "NOT_OPERATOR",
                f"wallets[{i}]: operator {ctx.caller.subject!r} acts for itself only",
            )


async def load_wallet(ctx: AuthzContext) -> None:
    await _debit_wallets(ctx, ctx.here, [ctx.request.wallet_id])


async def pay(ctx: AuthzContext) -> None:
    await _debit_wallets(ctx, ctx.here, [ctx.request.from_wallet_id])


async def pay_batch(ctx: AuthzContext) -> None:
    await _debit_wallets(ctx, ctx.here, [p.from_wallet_id for p in ctx.request.payments])


async def _cross_border(ctx: AuthzContext, payments: Iterable[Any]) -> None:
    by_j: dict[str, list[str]] = {}
    for p in payments:
        by_j.setdefault(p.payer_jurisdiction.upper(), []).append(p.payer_wallet_id)
    for j, wallets in by_j.items():
        await _debit_wallets(ctx, j, wallets)


async def cross_border_pay(ctx: AuthzContext) -> None:
    await _cross_border(ctx, [ctx.request])


async def cross_border_batch(ctx: AuthzContext) -> None:
    await _cross_border(ctx, ctx.request.payments)


async def own_liquidity(ctx: AuthzContext) -> None:
    """The LP's inventory comes from its reserve: only that bank moves it."""
    r, c = ctx.request, ctx.caller
    lp = r.liquidity_provider
    owner = lp.rpartition(":")[2] if lp.startswith("amm:") else lp
    if owner != c.subject or (c.role == "operator" and not acts_in(c, r.jurisdiction.upper())):
        raise deny("NOT_LIQUIDITY_PROVIDER", f"{c.subject!r} may not move {lp!r}'s liquidity")


async def redeem(ctx: AuthzContext) -> None:
    if ctx.caller.role == "operator":
        await own_operator(ctx)


async def eod_sweep(ctx: AuthzContext) -> None:
    c = ctx.caller
    j = ctx.request.jurisdiction.upper()
    if c.role == "central_bank" and j and not acts_in(c, j):
        raise deny("OUT_OF_SCOPE", f"the central bank of {c.jurisdiction} sweeps its own CBDC only")


async def reveal_in_scope(ctx: AuthzContext) -> None:
    """A supervisor sees identities behind its own jurisdiction's wallets only."""
    j = _account_jurisdiction(ctx.request.wallet_id)
    if not acts_in(ctx.caller, j):
        raise deny(
            "OUT_OF_SCOPE",
            f"a supervisor of {ctx.caller.jurisdiction or '?'} may not reveal a {j or 'foreign'} wallet",
        )


async def funder_is_caller(ctx: AuthzContext) -> None:
    program = ctx.request.program
    if program.funder_id and program.funder_id != ctx.caller.subject:
        raise deny("NOT_FUNDER", "a program is funded by the caller's own deposit only")


async def redeem_as_payer(ctx: AuthzContext) -> None:
    reqs = getattr(ctx.request, "redemptions", None)
    payers = [r.payer.id for r in reqs] if reqs is not None else [ctx.request.payer.id]
    c = ctx.caller
    for p in payers:
        if p and p != c.subject and p not in c.wallets:
            raise deny("NOT_VOUCHER_HOLDER", f"{c.subject!r} may not present {p!r}'s voucher")


# ----------------------------------------------------------------------------- the table
L, CB, W, K, B = (
    "/corridor.v1.Ledger/", "/corridor.v1.CentralBank/", "/corridor.v1.Wallets/",
    "/corridor.v1.KycRegistry/", "/corridor.v1.Bridge/",
)  # fmt: skip
V, S, SC = "/corridor.v1.Vouchers/", "/corridor.v1.Supervision/", "/corridor.v1.StablecoinRail/"
_RAW = ("operator", "holder", "liquidity_provider", "admin", "simulator")
_READ_OWN = ("holder", "operator@here")
_EVERYONE = (ANY,)

RULES: dict[str, Rule] = {
    # Ledger: the engine's raw interface, on every node, the bridge and vouchers.
    L + "CreateAccounts": Rule((grant(*_RAW, "bridge", "vouchers", "central_bank", check=ledger_owner_only),)),
    L + "CreateTransfers": Rule((grant(*_RAW, "central_bank", "bridge", "vouchers", check=ledger_transfers),)),
    L + "CreateTransfer": Rule((grant(*_RAW, "central_bank", "bridge", "vouchers", check=ledger_transfer),)),
    L + "LookupAccounts": Rule((grant(*STAFF), grant(*_READ_OWN, check=read_accounts))),
    L + "LookupTransfers": Rule((grant(*STAFF),)),
    L + "GetAccountTransfers": Rule((grant(*STAFF), grant(*_READ_OWN, check=read_account))),
    L + "ExpirePending": Rule((grant("admin", "simulator", "central_bank@here", *sorted(SERVICE_ROLES)),)),
    L + "StreamPostings": Rule((grant(*STAFF),)),
    L + "Echo": Rule((grant(*_EVERYONE),)),
    # Central bank: two-tier issuance.
    CB + "RegisterOperator": Rule((grant("central_bank@here", "admin", "simulator"),), audit="register_operator"),
    CB + "Issue": Rule((grant("central_bank@here"),), audit="issue", summary="issuance by that currency's central bank only"),
    CB + "Redeem": Rule((grant("central_bank@here", "operator@here", check=redeem),), audit="redeem"),
    CB + "GetSupply": Rule((grant(*_EVERYONE),)),
    CB + "GetPolicy": Rule((grant(*_EVERYONE),)),
    # Wallets: operators serve them, holders spend them.
    W + "OpenWallet": Rule((grant("admin", "simulator"), grant("operator@here", check=own_operator))),
    W + "OpenWallets": Rule((grant("admin", "simulator"), grant("operator@here", check=own_operators))),
    W + "LoadWallet": Rule((grant("operator@here", check=load_wallet),)),
    W + "Pay": Rule((grant("holder", "operator@here", check=pay),), summary="debited by holder or operator"),
    W + "PayBatch": Rule((grant("holder", "operator@here", check=pay_batch),)),
    W + "GetWallet": Rule((grant(*STAFF), grant(*_READ_OWN, check=read_wallet))),
    W + "GetHistory": Rule((grant(*STAFF), grant(*_READ_OWN, check=read_wallet))),
    W + "FreezeWallet": Rule((grant("supervisor@here", "central_bank@here", "supervision"),), audit="freeze"),
    # KYC store: identities leave a node only through supervision's audited reveal.
    K + "DescribeWallets": Rule((grant("supervision"),)),
    K + "RevealHolder": Rule((grant("supervision"),), audit="reveal"),
    # Bridge.
    B + "RequestQuote": Rule((grant(*_EVERYONE),)),
    B + "CrossBorderPay": Rule((grant("holder", "operator", "vouchers", check=cross_border_pay),)),
    B + "CrossBorderPayBatch": Rule((grant("holder", "operator", "vouchers", check=cross_border_batch),)),
    B + "GetPayment": Rule((grant(*_EVERYONE),)),
    B + "ResolvePayments": Rule((grant("node", "bridge", "admin", "simulator"),)),
    B + "FundLiquidity": Rule((grant("liquidity_provider", "operator", check=own_liquidity),)),
    B + "WithdrawLiquidity": Rule((grant("liquidity_provider", "operator", check=own_liquidity),)),
    B + "GetFxMarket": Rule((grant(*_EVERYONE),)),
    B + "RunEndOfDaySweep": Rule((grant("admin", "simulator", "bridge", "central_bank", check=eod_sweep),)),
    # Vouchers.
    V + "Deposit": Rule((grant("admin", "simulator", "operator", "central_bank", "vouchers"),)),
    V + "IssueProgram": Rule((grant("admin", "simulator", "central_bank"), grant("operator", "authority", "holder", check=funder_is_caller))),
    V + "Redeem": Rule((grant("admin", "simulator", "operator", "vouchers"), grant("holder", check=redeem_as_payer))),
    V + "RedeemBatch": Rule((grant("admin", "simulator", "operator", "vouchers"), grant("holder", check=redeem_as_payer))),
    V + "ExpireDue": Rule((grant("admin", "simulator", "vouchers", "central_bank"),)),
    V + "Clawback": Rule((grant("authority", "central_bank"),), audit="clawback"),
    V + "GetProgram": Rule((grant(*_EVERYONE),)),
    V + "ListEvaluations": Rule((grant(*STAFF, "authority", "operator"),)),
    V + "ListSettlements": Rule((grant(*STAFF),)),
    # Supervision: supervisors only; scope within a jurisdiction is the service's own rule.
    S + "ListAlerts": Rule((grant("supervisor"),)),
    S + "GetPaymentPath": Rule((grant("supervisor"),)),
    S + "GetCounterparties": Rule((grant("supervisor"),)),
    S + "GetJurisdictionFlows": Rule((grant("supervisor"),)),
    S + "OpenCase": Rule((grant("supervisor"),), audit="case_open"),
    S + "CloseCase": Rule((grant("supervisor"),), audit="case_close"),
    S + "RevealIdentity": Rule((grant("supervisor", check=reveal_in_scope),), audit="reveal",
                               summary="a supervisor of the wallet's jurisdiction (open case: supervision)"),
    S + "FreezeWallet": Rule((grant("supervisor"),), audit="freeze"),
    S + "GetFeedStatus": Rule((grant("supervisor", "admin", "simulator"),)),
    S + "GetAuditLog": Rule((grant("supervisor", "admin"),)),
    S + "VerifyAuditLog": Rule((grant("supervisor", "admin"),)),
    # Stablecoin rail comparator: the simulator drives the episode; counterparties mint/redeem.
    SC + "Advance": Rule((grant("admin", "simulator", "stablecoin"),)),
    SC + "SubmitTransfer": Rule((grant("admin", "simulator", "holder", "operator"),)),
    SC + "SubmitTransfers": Rule((grant("admin", "simulator", "holder", "operator"),)),
    SC + "GetTimeseries": Rule((grant(*_EVERYONE),)),
    SC + "Mint": Rule((grant("admin", "simulator", "operator", "liquidity_provider"),), audit="issue"),
    SC + "Redeem": Rule((grant("admin", "simulator", "operator", "liquidity_provider"),), audit="redeem"),
    SC + "GetMarket": Rule((grant(*_EVERYONE),)),
    SC + "GetSummary": Rule((grant(*_EVERYONE),)),
}  # fmt: skip

# Privileged actions by name (for docs and tests); a future policy-changing RPC must name
# `audit="policy"` in its rule.
PRIVILEGED = ("issue", "redeem", "freeze", "reveal", "policy", "clawback")


def is_exempt(method: str) -> bool:
    return method.startswith(EXEMPT_PREFIXES)


async def authorize(method: str, request: Any, caller: Caller, resources: ServerResources) -> Rule:
    """Allow or raise PERMISSION_DENIED. Returns the rule (for its audit action)."""
    rule = RULES.get(method)
    if rule is None:
        raise deny("NO_RULE", f"{method} has no authorisation rule (default deny)")
    ctx = AuthzContext(method, request, caller, resources)
    for g in rule.grants:
        if g.matches(caller, resources.here):
            if g.check is not None:
                await g.check(ctx)
            return rule
    scope = f" of {caller.jurisdiction}" if caller.jurisdiction else ""
    raise deny(
        "ROLE_NOT_ALLOWED",
        f"{caller.role}{scope} may not call {method.rsplit('/', 1)[-1]} here"
        f" (allowed: {', '.join(dict.fromkeys(rule.callers()))})",
    )


@dataclass
class RuleRow:
    method: str
    callers: list[str] = field(default_factory=list)
    checked: bool = False
    audit: str = ""


def table() -> list[RuleRow]:
    """The rules as rows (for `corridor certs rules` and the docs)."""
    return [
        RuleRow(m, list(dict.fromkeys(r.callers())), any(g.check for g in r.grants), r.audit)
        for m, r in sorted(RULES.items())
    ]
