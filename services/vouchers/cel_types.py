"""Static type checking and cost bounding for voucher conditions.

The `cel` evaluator is dynamically typed: `amount + "x"` compiles and only fails when a payment
arrives. A voucher whose condition can never hold would lock a funder's money until expiry, so
conditions are checked against the declared redemption context when the program is *issued*.

Types follow CEL's: int, uint, double, bool, string, bytes, null, timestamp, duration,
list(T), map(K, V), dyn, plus *records* for the context's structured variables (`merchant`,
`payer`, `payee`, `local`), whose fields are fixed: a misspelt `merchant.categry` is an error at
issue time, not a refusal at the till.

Cost. CEL has no loops, no recursion and no user-defined functions; the only iteration is the
comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`), each of which visits a list
or map that already exists. So the work of an evaluation is bounded by the size of the tree times
the sizes of the collections it iterates. We bound every factor: the tree (nodes, depth), literal
collections and strings, the collections the context supplies (declared `max_size`, enforced when
the context is built), and comprehension nesting; then we compute a static cost -- one unit per
node, each comprehension multiplying its body by the largest size its range can have -- and refuse
a condition whose worst case exceeds the limit. A condition that "tries to loop" can at most nest
comprehensions over bounded lists, which this estimate prices before it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import cel

from services.vouchers.cel_syntax import (
    Call,
    Comprehension,
    Has,
    Ident,
    Index,
    ListExpr,
    Literal,
    MapExpr,
    Node,
    Select,
)


class CelTypeError(Exception):
    """A condition that parses but is ill-typed or too costly, with the offending offset."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


# --- types ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CelType:
    """A CEL type. `params` holds list(T) -> (T,) and map(K, V) -> (K, V); records carry their
    named fields. `max_size` is the declared upper bound on a context collection's length."""

    kind: str
    params: tuple[CelType, ...] = ()
    name: str = ""
    fields: tuple[tuple[str, CelType], ...] = ()
    max_size: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list({self.params[0]})"
        if self.kind == "map":
            return f"map({self.params[0]}, {self.params[1]})"
        if self.kind == "record":
            return self.name
        return self.kind

    def field_type(self, name: str) -> CelType | None:
        return dict(self.fields).get(name)


INT = CelType("int")
UINT = CelType("uint")
DOUBLE = CelType("double")
BOOL = CelType("bool")
STRING = CelType("string")
BYTES = CelType("bytes")
NULL = CelType("null")
TIMESTAMP = CelType("timestamp")
DURATION = CelType("duration")
DYN = CelType("dyn")

NUMERIC_KINDS = frozenset({"int", "uint", "double"})
ORDERED_KINDS = NUMERIC_KINDS | {"string", "bytes", "bool", "timestamp", "duration"}


def list_of(element: CelType, max_size: int | None = None) -> CelType:
    return CelType("list", (element,), max_size=max_size)


def map_of(key: CelType, value: CelType, max_size: int | None = None) -> CelType:
    return CelType("map", (key, value), max_size=max_size)


def record(name: str, fields: Mapping[str, CelType]) -> CelType:
    return CelType("record", name=name, fields=tuple(fields.items()))


# --- limits and results -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionLimits:
    """Bounds that make every condition's evaluation cheap and finite (all configurable)."""

    max_clauses: int = 16
    max_source_chars: int = 2_048
    max_depth: int = 48
    max_nodes: int = 400
    max_literal_elements: int = 256
    max_literal_chars: int = 1_024
    max_comprehension_nesting: int = 2
    max_cost: int = 20_000
    # The assumed size of a collection whose size cannot be bounded statically (only `dyn`).
    unknown_collection_size: int = 1_000


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What the checker learnt about a condition: its type and its worst-case cost."""

    result_type: CelType
    nodes: int
    cost: int
    variables: frozenset[str]  # the context variables the condition reads


@dataclass(slots=True)
class _Info:
    type: CelType
    cost: int
    size: int = 0  # upper bound on element count, for list/map values
    element_size: int = 0  # same bound for the elements, when they are collections themselves


# Functions the evaluator provides and the checker admits. Anything else -- including a
# wall-clock `now()` -- is refused at issue time, so evaluation can do no I/O.
TIMESTAMP_GETTERS = frozenset(
    {
        "getFullYear",
        "getMonth",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)
DURATION_GETTERS = frozenset({"getHours", "getMinutes", "getSeconds", "getMilliseconds"})
STRING_PREDICATES = frozenset({"contains", "startsWith", "endsWith", "matches"})
_CONVERSIONS: dict[str, tuple[frozenset[str], CelType]] = {
    "int": (frozenset({"int", "uint", "double", "string"}), INT),
    "uint": (frozenset({"int", "uint", "double", "string"}), UINT),
    "double": (frozenset({"int", "uint", "double", "string"}), DOUBLE),
    "string": (
        frozenset({"int", "uint", "double", "string", "bytes", "bool", "timestamp", "duration"}),
        STRING,
    ),
    "bytes": (frozenset({"string", "bytes"}), BYTES),
    "timestamp": (frozenset({"string", "timestamp"}), TIMESTAMP),
    "duration": (frozenset({"string", "duration"}), DURATION),
}
_ARITHMETIC = {"_+_", "_-_", "_*_", "_/_", "_%_"}
_ORDERING = {"_<_", "_<=_", "_>_", "_>=_"}


def compatible(a: CelType, b: CelType) -> bool:
    """Whether values of the two types may be compared for equality (CEL's heterogeneous numeric
    equality included: `1 == 1.0` holds)."""
    if a.kind == "dyn" or b.kind == "dyn" or a.kind == "null" or b.kind == "null":
        return True
    if a.kind in NUMERIC_KINDS and b.kind in NUMERIC_KINDS:
        return True
    if a.kind != b.kind:
        return False
    if a.kind == "record":
        return a.name == b.name
    return all(compatible(x, y) for x, y in zip(a.params, b.params, strict=True))


def _join(a: CelType, b: CelType) -> CelType | None:
    """The common type of two branches or elements, or None if they differ."""
    if a == b:
        return a
    if a.kind == "dyn" or b.kind == "dyn":
        return DYN
    if a.kind == b.kind and a.kind in ("list", "map"):
        params = [_join(x, y) for x, y in zip(a.params, b.params, strict=True)]
        if all(p is not None for p in params):
            return CelType(a.kind, tuple(p for p in params if p is not None))
    return None


class TypeChecker:
    """Checks one condition against a context schema (name -> type) and prices it."""

    def __init__(self, variables: Mapping[str, CelType], limits: ConditionLimits) -> None:
        self.variables = variables
        self.limits = limits
        self.nodes = 0
        self.scopes: list[tuple[str, CelType, int]] = []  # comprehension variables
        self.used: set[str] = set()

    def check(self, root: Node) -> CheckResult:
        info = self.visit(root)
        if info.cost > self.limits.max_cost:
            raise CelTypeError(
                root.offset,
                f"worst-case evaluation cost {info.cost} exceeds the limit {self.limits.max_cost}"
                " (nested comprehensions over large lists?)",
            )
        return CheckResult(info.type, self.nodes, info.cost, frozenset(self.used))

    def visit(self, node: Node) -> _Info:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise CelTypeError(
                node.offset, f"condition has more than {self.limits.max_nodes} nodes"
            )
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Ident):
            return self.ident(node)
        if isinstance(node, Select):
            return self.select(node)
        if isinstance(node, Has):
            return self.has(node)
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, ListExpr):
            return self.list_expr(node)
        if isinstance(node, MapExpr):
            return self.map_expr(node)
        if isinstance(node, Comprehension):
            return self.comprehension(node)
        if isinstance(node, Call):
            return self.call(node)
        raise CelTypeError(node.offset, f"unsupported expression {type(node).__name__}")

    # leaves
    def literal(self, node: Literal) -> _Info:
        if node.kind in ("string", "bytes") and len(node.value) > self.limits.max_literal_chars:
            raise CelTypeError(
                node.offset,
                f"{node.kind} literal longer than {self.limits.max_literal_chars} characters",
            )
        return _Info(CelType(node.kind), 1, size=len(node.value) if node.kind == "string" else 0)

    def ident(self, node: Ident) -> _Info:
        for name, var_type, size in reversed(self.scopes):
            if name == node.name:
                return _Info(var_type, 1, size=size)
        declared = self.variables.get(node.name)
        if declared is None:
            known = ", ".join(sorted(self.variables))
            raise CelTypeError(
                node.offset, f"undeclared reference {node.name!r} (context: {known})"
            )
        self.used.add(node.name)
        return _Info(declared, 1, size=self._declared_size(declared))

    def _declared_size(self, declared: CelType) -> int:
        if declared.kind in ("list", "map"):
            return declared.max_size or self.limits.unknown_collection_size
        return 0

    # selection
    def select(self, node: Select) -> _Info:
        operand = self.visit(node.operand)
        field_type = self._field(node.offset, operand.type, node.field)
        return _Info(field_type, operand.cost + 1, size=self._declared_size(field_type))

    def has(self, node: Has) -> _Info:
        operand = self.visit(node.operand)
        self._field(node.offset, operand.type, node.field)
        return _Info(BOOL, operand.cost + 1)

    def _field(self, offset: int, operand: CelType, name: str) -> CelType:
        if operand.kind == "record":
            found = operand.field_type(name)
            if found is None:
                fields = ", ".join(f for f, _ in operand.fields)
                raise CelTypeError(
                    offset, f"{operand.name} has no field {name!r} (fields: {fields})"
                )
            return found
        if operand.kind == "map":
            if operand.params[0].kind not in ("string", "dyn"):
                raise CelTypeError(offset, f"cannot select a field from {operand}")
            return operand.params[1]
        if operand.kind == "dyn":
            return DYN
        raise CelTypeError(offset, f"cannot select field {name!r} from a value of type {operand}")

    def index(self, node: Index) -> _Info:
        operand = self.visit(node.operand)
        index = self.visit(node.index)
        cost = operand.cost + index.cost + 1
        kind = operand.type.kind
        if kind == "list":
            if index.type.kind not in ("int", "uint", "dyn"):
                raise CelTypeError(node.offset, f"a list index must be int, not {index.type}")
            return _Info(operand.type.params[0], cost, size=operand.element_size)
        if kind == "map":
            if not compatible(operand.type.params[0], index.type):
                raise CelTypeError(
                    node.offset, f"a key of type {index.type} cannot index {operand.type}"
                )
            return _Info(operand.type.params[1], cost, size=operand.element_size)
        if kind == "dyn":
            return _Info(DYN, cost, size=self.limits.unknown_collection_size)
        raise CelTypeError(node.offset, f"a value of type {operand.type} cannot be indexed")

    # construction
    def list_expr(self, node: ListExpr) -> _Info:
        self._bound_literal(node.offset, len(node.elements), "list")
        infos = [self.visit(element) for element in node.elements]
        element_type = DYN if not infos else infos[0].type
        for element, info in zip(node.elements[1:], infos[1:], strict=True):
            joined = _join(element_type, info.type)
            if joined is None:
                raise CelTypeError(
                    element.offset,
                    f"list elements must share one type: found {element_type} and {info.type}",
                )
            element_type = joined
        return _Info(
            list_of(element_type),
            1 + sum(i.cost for i in infos),
            size=len(infos),
            element_size=max((i.size for i in infos), default=0),
        )

    def map_expr(self, node: MapExpr) -> _Info:
        self._bound_literal(node.offset, len(node.entries), "map")
        key_type: CelType | None = None
        value_type: CelType | None = None
        cost = 1
        element_size = 0
        for key, value in node.entries:
            key_info, value_info = self.visit(key), self.visit(value)
            if key_info.type.kind not in ("int", "uint", "bool", "string", "dyn"):
                raise CelTypeError(
                    key.offset, f"a map key must be int, uint, bool or string, not {key_info.type}"
                )
            key_type = key_info.type if key_type is None else _join(key_type, key_info.type)
            value_type = (
                value_info.type if value_type is None else _join(value_type, value_info.type)
            )
            if key_type is None or value_type is None:
                raise CelTypeError(key.offset, "map keys and values must each share one type")
            cost += key_info.cost + value_info.cost
            element_size = max(element_size, value_info.size)
        return _Info(
            map_of(key_type or DYN, value_type or DYN),
            cost,
            size=len(node.entries),
            element_size=element_size,
        )

    def _bound_literal(self, offset: int, count: int, what: str) -> None:
        if count > self.limits.max_literal_elements:
            raise CelTypeError(
                offset,
                f"{what} literal has {count} elements; the limit is {self.limits.max_literal_elements}",
            )

    # iteration
    def comprehension(self, node: Comprehension) -> _Info:
        depth = 1 + sum(1 for _ in self.scopes)
        if depth > self.limits.max_comprehension_nesting:
            raise CelTypeError(
                node.offset,
                f"comprehensions nested {depth} deep; the limit is {self.limits.max_comprehension_nesting}",
            )
        source = self.visit(node.iter_range)
        var_type = self._iteration_type(node, source.type)
        if node.var in self.variables or any(node.var == s[0] for s in self.scopes):
            raise CelTypeError(
                node.offset, f"{node.macro}(): variable {node.var!r} shadows a name already in use"
            )
        self.scopes.append((node.var, var_type, source.element_size))
        try:
            body = self.visit(node.body)
            predicate = self.visit(node.predicate) if node.predicate is not None else None
        finally:
            self.scopes.pop()
        for part, info in ((node.predicate, predicate), (node.body, body)):
            needs_bool = part is node.predicate or node.macro != "map"
            if (
                part is not None
                and info is not None
                and needs_bool
                and info.type.kind not in ("bool", "dyn")
            ):
                raise CelTypeError(
                    part.offset, f"{node.macro}() needs a bool predicate, got {info.type}"
                )
        per_item = body.cost + (predicate.cost if predicate else 0) + 1
        cost = source.cost + max(source.size, 1) * per_item
        if node.macro == "map":
            return _Info(list_of(body.type), cost, size=source.size, element_size=body.size)
        if node.macro == "filter":
            return _Info(
                list_of(var_type), cost, size=source.size, element_size=source.element_size
            )
        return _Info(BOOL, cost)

    def _iteration_type(self, node: Comprehension, range_type: CelType) -> CelType:
        if range_type.kind in ("list", "map"):
            return range_type.params[0]
        if range_type.kind == "dyn":
            return DYN
        raise CelTypeError(node.offset, f"{node.macro}() iterates a list or map, not {range_type}")

    # calls and operators
    def call(self, node: Call) -> _Info:
        target = self.visit(node.target) if node.target is not None else None
        args = [self.visit(arg) for arg in node.args]
        cost = 1 + sum(a.cost for a in args) + (target.cost if target else 0)
        result = self._call_type(node, target, args)
        size = 0
        if result.kind == "list" and node.function in ("_+_", "_?_:_"):
            size = (
                sum(a.size for a in args) if node.function == "_+_" else max(a.size for a in args)
            )
        elif result.kind == "string":
            size = sum(a.size for a in args)
        return _Info(result, cost, size=size)

    def _call_type(self, node: Call, target: _Info | None, args: list[_Info]) -> CelType:
        name = node.function
        types = [a.type for a in args]
        if name in ("_&&_", "_||_", "!_"):
            return self._logical(node, types)
        if name == "_?_:_":
            return self._conditional(node, types)
        if name in ("_==_", "_!=_"):
            if not compatible(types[0], types[1]):
                raise CelTypeError(
                    node.offset, f"cannot compare {types[0]} with {types[1]} using {name[1:-1]}"
                )
            return BOOL
        if name in _ORDERING:
            return self._ordering(node, types)
        if name == "@in":
            return self._membership(node, types)
        if name in _ARITHMETIC:
            return self._arithmetic(node, types)
        if name == "-_":
            if types[0].kind not in ("int", "double", "dyn"):
                raise CelTypeError(node.offset, f"cannot negate a value of type {types[0]}")
            return types[0]
        if target is not None:
            return self._method(node, target.type, args)
        return self._function(node, types)

    def _logical(self, node: Call, types: list[CelType]) -> CelType:
        for arg, arg_type in zip(node.args, types, strict=True):
            if arg_type.kind not in ("bool", "dyn"):
                raise CelTypeError(
                    arg.offset, f"operator {node.function.strip('_')} needs bool, got {arg_type}"
                )
        return BOOL

    def _conditional(self, node: Call, types: list[CelType]) -> CelType:
        if types[0].kind not in ("bool", "dyn"):
            raise CelTypeError(node.args[0].offset, f"a ?: condition must be bool, got {types[0]}")
        joined = _join(types[1], types[2])
        if joined is None:
            raise CelTypeError(
                node.offset, f"?: branches differ in type: {types[1]} and {types[2]}"
            )
        return joined

    def _ordering(self, node: Call, types: list[CelType]) -> CelType:
        a, b = types
        ok = (
            "dyn" in (a.kind, b.kind)
            or (a.kind in NUMERIC_KINDS and b.kind in NUMERIC_KINDS)
            or (a.kind == b.kind and a.kind in ORDERED_KINDS)
        )
        if not ok:
            raise CelTypeError(node.offset, f"cannot order {a} and {b} with {node.function[1:-1]}")
        return BOOL

    def _membership(self, node: Call, types: list[CelType]) -> CelType:
        element, container = types
        if container.kind == "dyn":
            return BOOL
        if container.kind not in ("list", "map"):
            raise CelTypeError(
                node.offset, f"'in' needs a list or map on the right, got {container}"
            )
        if not compatible(element, container.params[0]):
            raise CelTypeError(node.offset, f"a {element} can never be in a {container}")
        return BOOL

    def _arithmetic(self, node: Call, types: list[CelType]) -> CelType:
        a, b = types
        operator = node.function[1:-1]
        if a.kind == "dyn" or b.kind == "dyn":
            return DYN
        if a.kind == b.kind and a.kind in NUMERIC_KINDS:
            if operator == "%" and a.kind == "double":
                raise CelTypeError(node.offset, "% needs int or uint operands, not double")
            return a
        combos: dict[tuple[str, str, str], CelType] = {
            ("+", "string", "string"): STRING,
            ("+", "bytes", "bytes"): BYTES,
            ("+", "timestamp", "duration"): TIMESTAMP,
            ("+", "duration", "timestamp"): TIMESTAMP,
            ("+", "duration", "duration"): DURATION,
            ("-", "timestamp", "timestamp"): DURATION,
            ("-", "timestamp", "duration"): TIMESTAMP,
            ("-", "duration", "duration"): DURATION,
        }
        found = combos.get((operator, a.kind, b.kind))
        if found is not None:
            return found
        if operator == "+" and a.kind == "list" and b.kind == "list":
            joined = _join(a, b)
            if joined is not None:
                return joined
        hint = " (CEL never converts between int, uint and double: use int()/double())"
        numeric_mix = a.kind in NUMERIC_KINDS and b.kind in NUMERIC_KINDS
        raise CelTypeError(
            node.offset, f"no operator {operator} for {a} and {b}" + (hint if numeric_mix else "")
        )

    def _method(self, node: Call, target: CelType, args: list[_Info]) -> CelType:
        name = node.function
        if name == "size" and not args:
            return self._size(node, target)
        if target.kind == "dyn":
            return DYN
        if target.kind == "string" and name in STRING_PREDICATES:
            self._arity(node, args, 1)
            if args[0].type.kind not in ("string", "dyn"):
                raise CelTypeError(
                    node.args[0].offset, f"{name}() needs a string, got {args[0].type}"
                )
            if name == "matches":
                self._check_pattern(node)
            return BOOL
        getters = TIMESTAMP_GETTERS if target.kind == "timestamp" else DURATION_GETTERS
        if target.kind in ("timestamp", "duration") and name in getters:
            if args:
                raise CelTypeError(
                    node.offset,
                    f"{name}() takes no time-zone argument here: use local.hour, local.minute, "
                    "local.day_of_week or local.date for the program's time zone",
                )
            return INT
        raise CelTypeError(node.offset, f"no method {name}() on a value of type {target}")

    def _check_pattern(self, node: Call) -> None:
        pattern = node.args[0]
        if not isinstance(pattern, Literal):
            raise CelTypeError(
                pattern.offset, "matches() needs a literal pattern, fixed at issue time"
            )
        try:
            cel.evaluate("''.matches(p)", {"p": pattern.value})
        except Exception as exc:  # the evaluator's own regex engine is the authority
            first_line = str(exc).splitlines()[0]
            raise CelTypeError(pattern.offset, f"invalid pattern: {first_line}") from exc

    def _size(self, node: Call, operand: CelType) -> CelType:
        if operand.kind not in ("string", "bytes", "list", "map", "dyn"):
            raise CelTypeError(node.offset, f"size() of a {operand} is undefined")
        return INT

    def _arity(self, node: Call, args: list[_Info], count: int) -> None:
        if len(args) != count:
            raise CelTypeError(
                node.offset, f"{node.function}() takes {count} argument(s), got {len(args)}"
            )

    def _function(self, node: Call, types: list[CelType]) -> CelType:
        name = node.function
        if name == "size":
            self._arity(node, [_Info(t, 0) for t in types], 1)
            return self._size(node, types[0])
        if name == "dyn":
            self._arity(node, [_Info(t, 0) for t in types], 1)
            return DYN
        if name in _CONVERSIONS:
            return self._conversion(node, types)
        if name == "now":
            raise CelTypeError(
                node.offset, "now() is not available: business time is the context variable `now`"
            )
        raise CelTypeError(node.offset, f"unknown function {name}()")

    def _conversion(self, node: Call, types: list[CelType]) -> CelType:
        accepted, result = _CONVERSIONS[node.function]
        self._arity(node, [_Info(t, 0) for t in types], 1)
        if types[0].kind not in accepted and types[0].kind != "dyn":
            raise CelTypeError(node.offset, f"{node.function}() cannot convert a {types[0]}")
        argument = node.args[0]
        if node.function in ("timestamp", "duration") and isinstance(argument, Literal):
            try:
                cel.evaluate(f"{node.function}(v)", {"v": argument.value})
            except Exception as exc:
                raise CelTypeError(
                    argument.offset, f"invalid {node.function} literal {argument.value!r}"
                ) from exc
        return result


def check(
    root: Node, variables: Mapping[str, CelType], limits: ConditionLimits | None = None
) -> CheckResult:
    """Type-check and price a parsed condition against a context schema."""
    return TypeChecker(variables, limits or ConditionLimits()).check(root)
