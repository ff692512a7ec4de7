"""A small parser for the CEL subset voucher conditions are written in.

The `common-expression-language` package (import name `cel`) parses and evaluates CEL but exposes
no syntax tree and no type checker. To type-check a condition against the declared redemption
context *when the program is issued* -- and to bound its cost before it ever runs -- we need the
tree, so this module parses the same grammar (the CEL language definition, `langdef.md`):

    Expr           = ConditionalOr ["?" ConditionalOr ":" Expr]
    ConditionalOr  = [ConditionalOr "||"] ConditionalAnd
    ConditionalAnd = [ConditionalAnd "&&"] Relation
    Relation       = [Relation Relop] Addition          Relop = < <= >= > == != in
    Addition       = [Addition ("+" | "-")] Multiplication
    Multiplication = [Multiplication ("*" | "/" | "%")] Unary
    Unary          = Member | "!" {"!"} Member | "-" {"-"} Member
    Member         = Primary | Member "." IDENT ["(" [ExprList] ")"] | Member "[" Expr "]"
    Primary        = IDENT ["(" [ExprList] ")"] | "(" Expr ")" | "[" [ExprList] [","] "]"
                   | "{" [MapInits] [","] "}" | LITERAL

The `cel` package stays the authority on syntax (it parses first, see `conditions.py`); this parser
only has to agree with it on the subset we accept, and rejects the rest (message construction,
optional syntax `.?`) with a position. Literal values are decoded by `cel` itself, so escape rules
can never disagree between the check and the evaluation.

Nesting depth is bounded *during* parsing, so a hostile `((((((...` cannot exhaust Python's stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import cel


class CelSyntaxError(Exception):
    """A condition that does not parse, with the 0-based character offset of the problem."""

    def __init__(self, offset: int, message: str, *, over_limit: bool = False) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.over_limit = over_limit  # a bound was hit, the text itself may be valid CEL


# --- tokens -----------------------------------------------------------------------------------

RESERVED_WORDS = frozenset(
    {"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let"}
    | {"loop", "package", "namespace", "return", "var", "void", "while"}
)

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<bytes>[bB][rR]?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<string>[rR]?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<double>(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<uint>(?:0[xX][0-9a-fA-F]+|\d+)[uU])
  | (?P<int>0[xX][0-9a-fA-F]+|\d+)
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[<>!?:+\-*/%.,\[\](){}])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string, bytes, double, uint, int, ident, op, eof
    text: str
    offset: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            raise CelSyntaxError(pos, f"unexpected character {source[pos]!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(source)))
    return tokens


# --- syntax tree ------------------------------------------------------------------------------


@dataclass(slots=True)
class Node:
    """One node of the syntax tree; `offset` points at the token that gives the node its meaning
    (the operator of a binary expression, the `.` of a selection, the name of a call)."""

    offset: int


@dataclass(slots=True)
class Literal(Node):
    kind: str  # int, uint, double, string, bytes, bool, null
    value: Any


@dataclass(slots=True)
class Ident(Node):
    name: str


@dataclass(slots=True)
class Select(Node):
    operand: Node
    field: str


@dataclass(slots=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(slots=True)
class Call(Node):
    """A function or operator. Operators use CEL's overload names (`_+_`, `_&&_`, `!_`, `-_`,
    `_?_:_`, `@in`); member calls (`s.startsWith(p)`) carry the receiver in `target`."""

    function: str
    args: list[Node]
    target: Node | None = None


@dataclass(slots=True)
class ListExpr(Node):
    elements: list[Node]


@dataclass(slots=True)
class MapExpr(Node):
    entries: list[tuple[Node, Node]]


@dataclass(slots=True)
class Has(Node):
    """The `has(e.f)` macro: a presence test, not a read."""

    operand: Node
    field: str


@dataclass(slots=True)
class Comprehension(Node):
    """A macro that iterates a finite range: all, exists, exists_one, map, filter.

    `body` is the predicate (all/exists/exists_one/filter) or the transform (map); a three-argument
    map (`l.map(x, p, t)`) filters by `predicate` first."""

    macro: str
    iter_range: Node
    var: str
    body: Node
    predicate: Node | None = None


COMPREHENSION_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

_BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",),
    ("&&",),
    ("<", "<=", ">", ">=", "==", "!=", "in"),
    ("+", "-"),
    ("*", "/", "%"),
)


@dataclass
class _Parser:
    source: str
    max_depth: int
    tokens: list[Token] = field(default_factory=list)
    pos: int = 0
    depth: int = 0

    # token helpers
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_op(self, *texts: str) -> bool:
        token = self.peek()
        return (token.kind == "op" and token.text in texts) or (
            token.kind == "ident" and token.text == "in" and "in" in texts
        )

    def expect(self, text: str) -> Token:
        token = self.next()
        if token.kind != "op" or token.text != text:
            found = token.text or "end of input"
            raise CelSyntaxError(token.offset, f"expected {text!r}, found {found!r}")
        return token

    def enter(self, offset: int) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            message = f"expression nested deeper than {self.max_depth} levels"
            raise CelSyntaxError(offset, message, over_limit=True)

    def leave(self) -> None:
        self.depth -= 1

    # grammar
    def parse(self) -> Node:
        self.tokens = tokenize(self.source)
        node = self.expr()
        token = self.peek()
        if token.kind != "eof":
            raise CelSyntaxError(token.offset, f"unexpected {token.text!r} after expression")
        return node

    def expr(self) -> Node:
        self.enter(self.peek().offset)
        try:
            condition = self.binary(0)
            if not self.at_op("?"):
                return condition
            question = self.next()
            when_true = self.binary(0)
            self.expect(":")
            when_false = self.expr()
            return Call(question.offset, "_?_:_", [condition, when_true, when_false])
        finally:
            self.leave()

    def binary(self, level: int) -> Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        operators = _BINARY_LEVELS[level]
        chained = 0
        try:
            while self.at_op(*operators):
                operator = self.next()
                self.enter(operator.offset)  # a long chain is a deep left-leaning tree
                chained += 1
                right = self.binary(level + 1)
                name = "@in" if operator.text == "in" else f"_{operator.text}_"
                left = Call(operator.offset, name, [left, right])
            return left
        finally:
            self.depth -= chained

    def unary(self) -> Node:
        if self.at_op("!", "-"):
            operator = self.next()
            self.enter(operator.offset)
            try:
                if operator.text == "-" and self.peek().kind in ("int", "double"):
                    return self.member(self.negative_literal(operator))
                operand = self.unary()
                return Call(operator.offset, "!_" if operator.text == "!" else "-_", [operand])
            finally:
                self.leave()
        return self.member(self.primary())

    def negative_literal(self, minus: Token) -> Literal:
        # `-9223372036854775808` is only representable as one literal, so fold the sign in.
        token = self.next()
        return _literal(minus.offset, token.kind, "-" + token.text)

    def member(self, node: Node) -> Node:
        while True:
            if self.at_op("."):
                dot = self.next()
                name = self.next()
                if name.kind != "ident":
                    if name.kind == "op" and name.text == "?":
                        raise CelSyntaxError(
                            name.offset, "optional field selection '.?' is not supported"
                        )
                    raise CelSyntaxError(name.offset, "expected a field or method name after '.'")
                if self.at_op("("):
                    self.next()
                    args = self.expr_list(")")
                    node = self.member_call(node, name, args)
                else:
                    node = Select(dot.offset, node, name.text)
            elif self.at_op("["):
                bracket = self.next()
                index = self.expr()
                self.expect("]")
                node = Index(bracket.offset, node, index)
            else:
                return node

    def member_call(self, target: Node, name: Token, args: list[Node]) -> Node:
        if name.text in COMPREHENSION_MACROS:
            return self.comprehension(target, name, args)
        return Call(name.offset, name.text, args, target)

    def comprehension(self, target: Node, name: Token, args: list[Node]) -> Node:
        arity = (2, 3) if name.text == "map" else (2,)
        if len(args) not in arity:
            raise CelSyntaxError(
                name.offset, f"{name.text}() takes {' or '.join(map(str, arity))} arguments"
            )
        var = args[0]
        if not isinstance(var, Ident):
            raise CelSyntaxError(
                var.offset, f"{name.text}(): the first argument must be a simple name"
            )
        if len(args) == 3:
            return Comprehension(name.offset, "map", target, var.name, args[2], predicate=args[1])
        return Comprehension(name.offset, name.text, target, var.name, args[1])

    def expr_list(self, closer: str) -> list[Node]:
        items: list[Node] = []
        while not self.at_op(closer):
            items.append(self.expr())
            if not self.at_op(","):
                break
            self.next()
        self.expect(closer)
        return items

    def primary(self) -> Node:
        token = self.next()
        if token.kind == "ident":
            return self.identifier(token)
        if token.kind in ("int", "uint", "double", "string", "bytes"):
            return _literal(token.offset, token.kind, token.text)
        if token.kind == "op" and token.text == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        if token.kind == "op" and token.text == "[":
            return ListExpr(token.offset, self.expr_list("]"))
        if token.kind == "op" and token.text == "{":
            return MapExpr(token.offset, self.map_entries())
        if token.kind == "op" and token.text == ".":
            raise CelSyntaxError(
                token.offset, "leading-dot (root namespace) names are not supported"
            )
        found = token.text or "end of input"
        raise CelSyntaxError(token.offset, f"unexpected {found!r}")

    def identifier(self, token: Token) -> Node:
        if token.text in ("true", "false"):
            return Literal(token.offset, "bool", token.text == "true")
        if token.text == "null":
            return Literal(token.offset, "null", None)
        if token.text in RESERVED_WORDS or token.text == "in":
            raise CelSyntaxError(token.offset, f"{token.text!r} is a reserved word")
        if self.at_op("{"):
            raise CelSyntaxError(token.offset, "message construction is not supported")
        if not self.at_op("("):
            return Ident(token.offset, token.text)
        self.next()
        args = self.expr_list(")")
        if token.text == "has":
            return _has(token, args)
        return Call(token.offset, token.text, args)

    def map_entries(self) -> list[tuple[Node, Node]]:
        entries: list[tuple[Node, Node]] = []
        while not self.at_op("}"):
            key = self.expr()
            self.expect(":")
            entries.append((key, self.expr()))
            if not self.at_op(","):
                break
            self.next()
        self.expect("}")
        return entries


def _has(token: Token, args: list[Node]) -> Has:
    if len(args) != 1 or not isinstance(args[0], Select):
        raise CelSyntaxError(
            token.offset, "has() takes one field selection, e.g. has(evidence.bill_of_lading)"
        )
    selection = args[0]
    return Has(token.offset, selection.operand, selection.field)


def _literal(offset: int, kind: str, text: str) -> Literal:
    # Decoding is delegated to `cel`, so quoting, escapes and radix rules match the evaluator.
    try:
        value = cel.evaluate(text)
    except (ValueError, TypeError, OverflowError, RuntimeError) as exc:
        raise CelSyntaxError(offset, f"invalid {kind} literal {text!r}: {exc}") from exc
    return Literal(offset, kind, value)


def parse(source: str, *, max_depth: int = 32) -> Node:
    """Parse a condition into a syntax tree, or raise `CelSyntaxError` with an offset."""
    return _Parser(source, max_depth).parse()


def line_and_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset, as `cel` reports them."""
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column
