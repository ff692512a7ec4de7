"""Voucher conditions: named CEL clauses, checked at issue, evaluated at every redemption.

A programmable voucher is money locked under a condition. The condition is *data*: a list of named
clauses, each a CEL expression over the redemption context below. A redemption is allowed when
every clause is true; a refusal names the first clause (in program order) that is false or fails
to evaluate, so a merchant sees `merchant_category`, not "condition false".

Lifecycle of a condition
- **Issue** (`compile_condition`): each clause is parsed by `cel` (syntax errors keep its position),
  parsed again by `cel_syntax` for a tree, type-checked against `VOUCHER_CONTEXT` (`cel_types`),
  priced against `ConditionLimits`, and must be of type bool. Any problem raises `ConditionError`
  naming the clause, line, column and message. The clauses are then compiled *once* into one `cel`
  program that evaluates them all as a list.
- **Redemption** (`CompiledCondition.evaluate`): the context is built from the payment, the program's
  counters and business time (`build_context`); evaluation is pure -- no functions are registered,
  so there is no I/O and no clock, and the same inputs always give the same verdict.

Redemption context (every variable, its CEL type, its meaning) -- see `VOUCHER_CONTEXT`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import cel

from services.vouchers.cel_syntax import CelSyntaxError, line_and_column, parse
from services.vouchers.cel_types import (
    BOOL,
    INT,
    STRING,
    TIMESTAMP,
    CelType,
    CelTypeError,
    ConditionLimits,
    check,
    map_of,
    record,
)

# --- the redemption context -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContextField:
    """One documented variable (or record field) of the redemption context."""

    path: str
    type: CelType
    doc: str


MAX_EVIDENCE_ITEMS = 16
MAX_EVIDENCE_KEY_CHARS = 64
MAX_EVIDENCE_VALUE_CHARS = 128
MAX_TEXT_CHARS = 128

CONTEXT_FIELDS: tuple[ContextField, ...] = (
    ContextField("amount", INT, "this payment, in minor units of `currency` (fen for CNY)"),
    ContextField("currency", STRING, "ISO 4217 code of this payment (must equal the program's)"),
    ContextField("merchant.id", STRING, "pseudonymous id of the merchant or provider being paid"),
    ContextField(
        "merchant.category", STRING, "merchant category code (ISO 18245 MCC, e.g. '5411')"
    ),
    ContextField(
        "merchant.region",
        STRING,
        "where the merchant trades: a mainland administrative-division code (GB/T 2260, e.g. "
        "'440303' Luohu, Shenzhen) or an ISO 3166 code ('HK') abroad",
    ),
    ContextField(
        "now", TIMESTAMP, "business time of the redemption (the business clock, never wall time)"
    ),
    ContextField("local.date", STRING, "`now` in the program's time zone, as 'YYYY-MM-DD'"),
    ContextField("local.hour", INT, "`now` in the program's time zone: hour 0-23"),
    ContextField("local.minute", INT, "`now` in the program's time zone: minute 0-59"),
    ContextField(
        "local.day_of_week", INT, "`now` in the program's time zone: 0 = Sunday ... 6 = Saturday"
    ),
    ContextField("payer.id", STRING, "pseudonymous wallet id presenting the voucher"),
    ContextField(
        "payer.tier", INT, "payer's e-CNY wallet tier, 1 (full KYC) ... 4 (phone number only)"
    ),
    ContextField("payee.id", STRING, "pseudonymous wallet id being paid"),
    ContextField("payee.tier", INT, "payee's e-CNY wallet tier, 1 ... 4"),
    ContextField(
        "evidence",
        map_of(STRING, STRING, max_size=MAX_EVIDENCE_ITEMS),
        "documents presented with the payment: kind -> lowercase hex SHA-256, e.g. "
        "evidence.bill_of_lading; test presence with has(evidence.kind) or 'kind' in evidence",
    ),
    ContextField("spent", INT, "cumulative amount redeemed from the program before this payment"),
    ContextField("remaining", INT, "amount still locked in the program before this payment"),
    ContextField("issued", INT, "amount the program was funded with"),
    ContextField("redemptions", INT, "number of earlier successful redemptions of the program"),
)


def _schema(fields: Sequence[ContextField]) -> dict[str, CelType]:
    """Fold dotted paths into records: `merchant.category` -> record merchant {category}."""
    top: dict[str, CelType] = {}
    grouped: dict[str, dict[str, CelType]] = {}
    for item in fields:
        head, _, tail = item.path.partition(".")
        if tail:
            grouped.setdefault(head, {})[tail] = item.type
        else:
            top[head] = item.type
    for head, members in grouped.items():
        top[head] = record(head, members)
    return top


VOUCHER_CONTEXT: dict[str, CelType] = _schema(CONTEXT_FIELDS)


@dataclass(frozen=True, slots=True)
class Party:
    """A wallet taking part in a redemption: pseudonymous id and e-CNY tier."""

    id: str
    tier: int


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    category: str
    region: str


@dataclass(frozen=True, slots=True)
class RedemptionFacts:
    """What a redemption request states. Everything a condition can see about the payment."""

    amount_minor: int
    currency: str
    merchant: Merchant
    payer: Party
    payee: Party
    business_at: dt.datetime
    evidence: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ProgramCounters:
    """What the program's own state contributes to the context."""

    issued_minor: int
    spent_minor: int
    remaining_minor: int
    redemptions: int


class ContextError(ValueError):
    """A redemption request whose facts cannot enter a condition's context (names the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_EVIDENCE_KEY_RE = re.compile(r"[a-z][a-z0-9_]*\Z")


def _check_text(field: str, value: str) -> str:
    if len(value) > MAX_TEXT_CHARS:
        raise ContextError(field, f"longer than {MAX_TEXT_CHARS} characters")
    return value


def _check_evidence(evidence: Mapping[str, str]) -> dict[str, str]:
    # The condition's cost bound assumes at most MAX_EVIDENCE_ITEMS short entries.
    if len(evidence) > MAX_EVIDENCE_ITEMS:
        raise ContextError("evidence", f"more than {MAX_EVIDENCE_ITEMS} documents")
    for key, value in evidence.items():
        if len(key) > MAX_EVIDENCE_KEY_CHARS or not _EVIDENCE_KEY_RE.match(key):
            raise ContextError(
                f"evidence[{key!r}]", "kind must be a lowercase name like bill_of_lading"
            )
        if not isinstance(value, str) or len(value) > MAX_EVIDENCE_VALUE_CHARS:
            raise ContextError(
                f"evidence[{key!r}]",
                f"must be a string of at most {MAX_EVIDENCE_VALUE_CHARS} characters",
            )
    return dict(evidence)


def build_context(
    facts: RedemptionFacts,
    counters: ProgramCounters,
    time_zone: ZoneInfo,
    needs: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The CEL activation for one redemption. Pure: business time comes in with the facts.

    Every field is validated (an over-long id or too much evidence is refused by name even if
    no clause reads it); `needs`, when given, limits the result to the variables a compiled
    condition reads, which is what makes evaluation cheap."""
    at = facts.business_at
    if at.tzinfo is None:
        raise ContextError("business_at", "must carry a time zone (business time is an instant)")
    merchant = facts.merchant
    context: dict[str, Any] = {
        "amount": facts.amount_minor,
        "currency": _check_text("currency", facts.currency),
        "merchant": {
            "id": _check_text("merchant.id", merchant.id),
            "category": _check_text("merchant.category", merchant.category),
            "region": _check_text("merchant.region", merchant.region),
        },
        "payer": {"id": _check_text("payer.id", facts.payer.id), "tier": facts.payer.tier},
        "payee": {"id": _check_text("payee.id", facts.payee.id), "tier": facts.payee.tier},
        "evidence": _check_evidence(facts.evidence),
        "spent": counters.spent_minor,
        "remaining": counters.remaining_minor,
        "issued": counters.issued_minor,
        "redemptions": counters.redemptions,
    }
    if needs is None or "now" in needs:
        context["now"] = at.astimezone(dt.UTC)
    if needs is None or "local" in needs:
        local = at.astimezone(time_zone)
        context["local"] = {
            "date": local.date().isoformat(),
            "hour": local.hour,
            "minute": local.minute,
            "day_of_week": (local.weekday() + 1) % 7,  # CEL's getDayOfWeek: 0 = Sunday
        }
    if needs is None:
        return context
    return {name: value for name, value in context.items() if name in needs}


# --- clauses ----------------------------------------------------------------------------------

_CLAUSE_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
_CEL_POSITION_RE = re.compile(r"<input>:(\d+):(\d+): (.*)")


@dataclass(frozen=True, slots=True)
class Clause:
    """A named part of a condition: `name` is what a refusal reports, `cel` what must hold."""

    name: str
    cel: str


class ConditionError(ValueError):
    """A condition rejected at issue: which clause, where (1-based line:column), and why."""

    def __init__(self, clause: str, line: int, column: int, message: str) -> None:
        super().__init__(f"clause {clause!r} at {line}:{column}: {message}")
        self.clause = clause
        self.line = line
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class CompiledClause:
    name: str
    source: str
    program: Any  # cel.Program
    cost: int
    variables: frozenset[str]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one evaluation. `failed_clause` is empty when allowed; `reason` is
    `clause_false` (the clause evaluated to false) or `evaluation_error` (it could not be
    evaluated, e.g. a missing evidence key: refused, never allowed by accident)."""

    allowed: bool
    failed_clause: str = ""
    reason: str = ""
    detail: str = ""


ALLOWED = Verdict(True)
# What the evaluator raises at run time: a missing key or index, a type the checker could not
# see through `dyn`, overflow, division by zero, a bad conversion. Each refuses the payment.
EVALUATION_ERRORS = (KeyError, IndexError, TypeError, ValueError, RuntimeError, ArithmeticError)


class CompiledCondition:
    """A condition compiled once per program; `evaluate` is called once per redemption."""

    def __init__(self, clauses: Sequence[CompiledClause]) -> None:
        self.clauses = tuple(clauses)
        self.cost = sum(c.cost for c in self.clauses)
        # Converting the context into CEL values is most of an evaluation's time, so only the
        # variables some clause reads are built and passed (`build_context(..., needs=...)`).
        self.needs: frozenset[str] = frozenset().union(*(c.variables for c in self.clauses))
        # All clauses in one program: one context conversion per redemption instead of one per
        # clause. If it raises, `_explain` re-runs the clauses one by one, in order.
        combined = "[" + ", ".join(f"({c.source}\n)" for c in self.clauses) + "]"
        self._combined = cel.compile(combined)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.clauses)

    def evaluate(self, context: dict[str, Any]) -> Verdict:
        try:
            results = self._combined.execute(context)
        except EVALUATION_ERRORS:  # a refusal, pinned to its clause below
            return self._explain(context)
        for clause, result in zip(self.clauses, results, strict=True):
            if result is not True:
                return Verdict(False, clause.name, "clause_false", clause.source)
        return ALLOWED

    def _explain(self, context: dict[str, Any]) -> Verdict:
        for clause in self.clauses:
            try:
                result = clause.program.execute(context)
            except EVALUATION_ERRORS as exc:
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                return Verdict(
                    False, clause.name, "evaluation_error", f"{type(exc).__name__}: {detail}"
                )
            if result is not True:
                return Verdict(False, clause.name, "clause_false", clause.source)
        return ALLOWED  # pragma: no cover - only a flaky evaluator could get here


def compile_clause(
    clause: Clause,
    variables: Mapping[str, CelType] = VOUCHER_CONTEXT,
    limits: ConditionLimits | None = None,
) -> CompiledClause:
    """Parse, type-check and price one clause; raise `ConditionError` with its position."""
    limits = limits or ConditionLimits()
    if not _CLAUSE_NAME_RE.match(clause.name):
        raise ConditionError(
            clause.name, 1, 1, "clause name must be lowercase letters, digits, '_'"
        )
    source = clause.cel
    if not source.strip():
        raise ConditionError(clause.name, 1, 1, "empty condition")
    if len(source) > limits.max_source_chars:
        raise ConditionError(clause.name, 1, 1, f"longer than {limits.max_source_chars} characters")
    try:
        tree = parse(source, max_depth=limits.max_depth)
    except CelSyntaxError as exc:
        if not exc.over_limit:  # prefer the evaluator's own diagnosis of a real syntax error
            _raise_if_cel_rejects(clause.name, source)
        raise _at(clause.name, source, exc.offset, exc.message) from exc
    program = _cel_compile(clause.name, source)
    try:
        result = check(tree, variables, limits)
    except CelTypeError as exc:
        raise _at(clause.name, source, exc.offset, exc.message) from exc
    if result.result_type != BOOL:
        raise _at(
            clause.name,
            source,
            tree.offset,
            f"a clause must be bool, but this is {result.result_type}",
        )
    return CompiledClause(clause.name, source, program, result.cost, result.variables)


def compile_condition(
    clauses: Sequence[Clause],
    variables: Mapping[str, CelType] = VOUCHER_CONTEXT,
    limits: ConditionLimits | None = None,
) -> CompiledCondition:
    """Compile a program's clauses once; raise `ConditionError` on the first bad one."""
    limits = limits or ConditionLimits()
    if not clauses:
        raise ConditionError("", 1, 1, "a condition needs at least one clause")
    if len(clauses) > limits.max_clauses:
        raise ConditionError("", 1, 1, f"more than {limits.max_clauses} clauses")
    seen: set[str] = set()
    compiled = []
    for clause in clauses:
        if clause.name in seen:
            raise ConditionError(clause.name, 1, 1, "duplicate clause name")
        seen.add(clause.name)
        compiled.append(compile_clause(clause, variables, limits))
    total = sum(c.cost for c in compiled)
    if total > limits.max_cost:
        raise ConditionError(
            "", 1, 1, f"total worst-case cost {total} exceeds the limit {limits.max_cost}"
        )
    return CompiledCondition(compiled)


def _cel_compile(name: str, source: str) -> Any:
    try:
        return cel.compile(source)
    except ValueError as exc:
        raise _from_cel_message(name, source, str(exc)) from exc


def _raise_if_cel_rejects(name: str, source: str) -> None:
    _cel_compile(name, source)


def _from_cel_message(name: str, source: str, message: str) -> ConditionError:
    found = _CEL_POSITION_RE.search(message)
    if found is None:
        return ConditionError(name, 1, 1, message.splitlines()[0])
    return ConditionError(name, int(found.group(1)), int(found.group(2)), found.group(3).strip())


def _at(name: str, source: str, offset: int, message: str) -> ConditionError:
    line, column = line_and_column(source, offset)
    return ConditionError(name, line, column, message)


def cel_string(value: str) -> str:
    """A CEL string literal for `value` (templates splice parameters into clauses with this)."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def cel_string_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(cel_string(v) for v in values) + "]"


def context_reference() -> str:
    """The context documented as a Markdown table (for docs and `GetProgram` clients)."""
    rows = ["| variable | CEL type | meaning |", "|---|---|---|"]
    rows += [f"| `{f.path}` | {f.type} | {f.doc} |" for f in CONTEXT_FIELDS]
    return "\n".join(rows)
