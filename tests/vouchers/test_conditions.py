"""Voucher conditions: compile-time checks (syntax, types, cost) and pure evaluation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.vouchers.cel_types import ConditionLimits
from services.vouchers.conditions import (
    CONTEXT_FIELDS,
    VOUCHER_CONTEXT,
    Clause,
    ConditionError,
    ContextError,
    Merchant,
    build_context,
    cel_string,
    compile_clause,
    compile_condition,
    context_reference,
)
from tests.vouchers.helpers import T0, counters, facts

SHANGHAI = ZoneInfo("Asia/Shanghai")


def ctx(**overrides):  # type: ignore[no-untyped-def]
    return build_context(facts(**overrides), counters(), SHANGHAI)


def rejection(source: str, limits: ConditionLimits | None = None) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition([Clause("rule", source)], limits=limits)
    assert caught.value.clause in ("rule", "")
    return caught.value


# --- well-formed conditions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "holds"),
    [
        ('merchant.category in ["5411", "5812"]', True),
        ('merchant.category == "5812"', False),
        ('merchant.region.startsWith("4403")', True),
        ("amount <= 5000 && spent + amount <= remaining", True),
        ("amount > 3000", False),
        ("local.hour == 10 && local.day_of_week == 1", True),  # Monday 10:00 Shanghai
        ('local.date == "2025-03-03"', True),
        ('now < timestamp("2025-03-03T02:00:01Z")', True),
        ('now - timestamp("2025-03-01T00:00:00Z") > duration("48h")', True),
        ("payer.tier >= 3 && payee.tier <= 2", True),
        ("has(evidence.bill_of_lading)", False),
        ("size(evidence) == 0 && !('x' in evidence)", True),
        ("[1, 2, 3].exists(x, x == redemptions + 1)", True),
        ('["44", "31"].filter(r, merchant.region.startsWith(r)).size() == 1', True),
        ("double(amount) / double(issued) < 0.05", True),
        ('string(amount) + " " + currency == "3000 CNY"', True),
        ('merchant.id.matches("^m-[0-9]{3}$")', True),
        ("amount == 3000u", True),  # CEL compares numbers across int/uint/double
    ],
)
def test_well_typed_conditions_evaluate_as_written(source: str, holds: bool) -> None:
    condition = compile_condition([Clause("rule", source)])
    verdict = condition.evaluate(ctx())
    assert verdict.allowed is holds
    assert verdict.failed_clause == ("" if holds else "rule")


def test_refusal_names_the_first_failing_clause_in_program_order() -> None:
    condition = compile_condition(
        [
            Clause("category", 'merchant.category == "5411"'),
            Clause("small", "amount <= 1000"),
            Clause("region", 'merchant.region == "310000"'),
        ]
    )
    verdict = condition.evaluate(ctx())
    assert (verdict.allowed, verdict.failed_clause, verdict.reason) == (
        False,
        "small",
        "clause_false",
    )
    assert condition.evaluate(ctx(amount_minor=500)).failed_clause == "region"


def test_a_clause_that_cannot_evaluate_is_a_refusal_naming_it() -> None:
    condition = compile_condition(
        [Clause("category", "amount > 0"), Clause("document", 'evidence.invoice == "ab"')]
    )
    verdict = condition.evaluate(ctx())
    assert (verdict.allowed, verdict.failed_clause, verdict.reason) == (
        False,
        "document",
        "evaluation_error",
    )


def test_an_earlier_false_clause_wins_over_a_later_error() -> None:
    # The guard pattern: clause 2 is only meaningful once clause 1 holds.
    condition = compile_condition(
        [
            Clause("has_invoice", "has(evidence.invoice)"),
            Clause("invoice", 'evidence.invoice == "ab"'),
        ]
    )
    verdict = condition.evaluate(ctx())
    assert (verdict.failed_clause, verdict.reason) == ("has_invoice", "clause_false")
    assert condition.evaluate(ctx(evidence={"invoice": "ab"})).allowed


def test_evaluation_is_pure_business_time_comes_from_the_context() -> None:
    condition = compile_condition(
        [Clause("before_2026", 'now < timestamp("2026-01-01T00:00:00Z")')]
    )
    later = T0.replace(year=2031)
    verdicts = {condition.evaluate(ctx(business_at=later)) for _ in range(50)}
    assert len(verdicts) == 1 and not verdicts.pop().allowed  # whatever the wall clock says
    assert condition.evaluate(ctx()).allowed


def test_context_is_limited_to_what_the_condition_reads() -> None:
    condition = compile_condition(
        [Clause("small", "amount < 10"), Clause("hour", "local.hour > 1")]
    )
    assert condition.needs == {"amount", "local"}
    trimmed = build_context(facts(), counters(), SHANGHAI, condition.needs)
    assert set(trimmed) == {"amount", "local"}
    assert condition.evaluate(trimmed).failed_clause == "small"


# --- malformed and ill-typed conditions -------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "column", "fragment"),
    [
        ("amount > ", 1, 10, "Syntax error"),
        ("amount >> 1", 1, 9, "Syntax error"),
        ('merchant.category == "5411', 1, 22, ""),
        ("amount > 1 &&\n  merchant.categry == '5411'", 2, 11, "no field 'categry'"),
        ("merchant.?category == 'x'", 1, 9, ""),
        ("let x = 1", 1, 1, ""),
        ("Voucher{amount: 1}", 1, 1, "message construction"),
    ],
)
def test_syntax_errors_report_line_and_column(
    source: str, line: int, column: int, fragment: str
) -> None:
    error = rejection(source)
    assert (error.line, error.column) == (line, column), str(error)
    assert fragment in error.message


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ('amount + "x" > 1', 8, "no operator + for int and string"),
        ("amount + 1.5 > 2.0", 8, "never converts between int, uint and double"),
        ('amount == "100"', 8, "cannot compare int with string"),
        ("amount in ['a']", 8, "can never be in"),
        ("payer.name == 'x'", 6, "payer has no field 'name'"),
        ("wallet.tier == 1", 1, "undeclared reference 'wallet'"),
        ("amount", 1, "must be bool, but this is int"),
        ("evidence", 1, "must be bool, but this is map(string, string)"),
        ("merchant.category.startsWith(1)", 30, "needs a string"),
        ("amount.size() > 1", 8, "size() of a int"),
        ("now() < now", 1, "now() is not available"),
        ("system('rm -rf /') == 0", 1, "unknown function system()"),
        ('now.getHours("Asia/Shanghai") > 9', 5, "no time-zone argument"),
        ('merchant.id.matches("[")', 21, "invalid pattern"),
        ("merchant.id.matches(merchant.region)", 29, "literal pattern"),
        ('now < timestamp("next tuesday")', 17, "invalid timestamp literal"),
        ("[1, 'a'].size() == 2", 5, "must share one type"),
        ("amount > 0 ? 1 : 'x'", 12, "branches differ"),
        ("amount.all(x, x > 0)", 8, "iterates a list or map"),
        ("[1].all(amount, amount > 0)", 5, "shadows"),
        ("[1].map(x, x + 1)", 5, "must be bool, but this is list(int)"),
        ("[1].all(x, x + 1)", 14, "needs a bool predicate"),
        ("amount % 2.0 == 0.0", 8, "no operator % for int and double"),
        ("!amount", 2, "needs bool"),
        ("merchant[0] == 'x'", 9, "cannot be indexed"),
    ],
)
def test_ill_typed_conditions_are_refused_at_issue(source: str, column: int, fragment: str) -> None:
    error = rejection(source)
    assert fragment in error.message, str(error)
    assert (error.line, error.column) == (1, column), str(error)


def test_condition_list_rules() -> None:
    with pytest.raises(ConditionError, match="at least one clause"):
        compile_condition([])
    with pytest.raises(ConditionError, match="duplicate"):
        compile_condition([Clause("a", "true"), Clause("a", "false")])
    with pytest.raises(ConditionError, match="clause name"):
        compile_condition([Clause("Bad Name", "true")])
    with pytest.raises(ConditionError, match="empty"):
        compile_condition([Clause("a", "  ")])
    with pytest.raises(ConditionError, match="more than 2 clauses"):
        compile_condition(
            [Clause(f"c{i}", "true") for i in range(3)], limits=ConditionLimits(max_clauses=2)
        )


# --- cost -------------------------------------------------------------------------------------


def numbers(n: int) -> str:
    return "[" + ", ".join(str(i) for i in range(n)) + "]"


def test_nested_comprehensions_over_big_lists_are_priced_and_refused() -> None:
    source = f"{numbers(120)}.all(x, {numbers(120)}.all(y, x != y || x == y))"
    error = rejection(source)
    assert "worst-case evaluation cost" in error.message


def test_comprehension_nesting_is_bounded() -> None:
    error = rejection("[[[1]]].all(a, a.all(b, b.all(c, c > 0)))")
    assert "nested 3 deep" in error.message
    assert (error.line, error.column) == (1, 27)  # the innermost all


def test_context_collections_are_priced_by_their_declared_bound() -> None:
    cheap = compile_clause(Clause("docs", "evidence.all(k, evidence.exists(j, k != j))"))
    assert 16 * 16 <= cheap.cost < 20_000
    tight = ConditionLimits(max_cost=100)
    with pytest.raises(ConditionError, match="worst-case evaluation cost"):
        compile_clause(Clause("docs", "evidence.all(k, evidence.exists(j, k != j))"), limits=tight)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("(" * 400 + "true" + ")" * 400, "nested deeper"),
        ("!" * 1000 + "true", "nested deeper"),
        (" || ".join(["true"] * 100), "nested deeper"),
        ("size(" + cel_string("x" * 1500) + ") > 0", "literal longer"),
        (numbers(300) + ".size() > 0", "300 elements"),
        ("amount > 0" + " " * 3000, "longer than 2048"),
    ],
)
def test_huge_or_deep_constructions_are_refused(source: str, fragment: str) -> None:
    assert fragment in rejection(source).message


def test_node_count_is_bounded() -> None:
    source = " + ".join(["amount"] * 40) + " > 0"
    error = rejection(source, ConditionLimits(max_nodes=30))
    assert "more than 30 nodes" in error.message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="amount<>=!&|+-*/%()[]{}.,?:'\"\\ 0123456789xyz_inevdcsr\n", max_size=60))
def test_any_text_compiles_or_is_refused_cleanly(source: str) -> None:
    try:
        compiled = compile_clause(Clause("fuzz", source))
    except ConditionError as error:
        assert error.line >= 1 and error.column >= 1
        return
    verdict = compile_condition([Clause("fuzz", compiled.source)]).evaluate(ctx())
    assert verdict.allowed in (True, False)


# --- context ----------------------------------------------------------------------------------


def test_every_context_variable_is_documented_and_declared() -> None:
    documented = {f.path.split(".")[0] for f in CONTEXT_FIELDS}
    assert documented == set(VOUCHER_CONTEXT)
    assert all(f.doc for f in CONTEXT_FIELDS)
    assert set(build_context(facts(), counters(), SHANGHAI)) == set(VOUCHER_CONTEXT)
    table = context_reference()
    assert all(f"`{f.path}`" in table for f in CONTEXT_FIELDS)


def test_local_time_follows_the_programs_time_zone() -> None:
    late = dt.datetime(2025, 3, 2, 17, 30, tzinfo=dt.UTC)  # Monday 01:30 in Shanghai
    local = build_context(facts(business_at=late), counters(), SHANGHAI)["local"]
    assert local == {"date": "2025-03-03", "hour": 1, "minute": 30, "day_of_week": 1}
    utc = build_context(facts(business_at=late), counters(), ZoneInfo("UTC"))["local"]
    assert (utc["hour"], utc["day_of_week"]) == (17, 0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"evidence": {f"doc{i}": "a" for i in range(17)}}, "evidence"),
        ({"evidence": {"Bad-Kind": "a"}}, "evidence['Bad-Kind']"),
        ({"evidence": {"bill": "a" * 200}}, "evidence['bill']"),
        ({"merchant": Merchant("m", "x" * 200, "r")}, "merchant.category"),
        ({"business_at": dt.datetime(2025, 1, 1)}, "business_at"),
    ],
)
def test_context_refuses_oversized_or_ambiguous_facts(overrides, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContextError) as caught:
        build_context(facts(**overrides), counters(), SHANGHAI)
    assert caught.value.field == field


def test_cel_string_quotes_anything_safely() -> None:
    hostile = 'x" || true || "'
    condition = compile_condition(
        [Clause("category", f"merchant.category == {cel_string(hostile)}")]
    )
    assert not condition.evaluate(ctx()).allowed
    assert condition.evaluate(ctx(merchant=Merchant("m", hostile, "r"))).allowed
