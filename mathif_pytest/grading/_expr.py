"""A safe recursive-descent parser that builds what sympy's ``parse_expr`` would have evaluated.

The official grader hands answers to ``parse_expr``, i.e. to ``eval``. Here the same token stream
(see :mod:`._tokens`) is parsed over a whitelist into a small tree of :data:`Node`; evaluating
that tree (exactly in :mod:`._exact`, with sympy in :mod:`._symbolic`) never runs model text.
Python precedence is kept (``-2**2`` is ``-4``, ``^`` binds loosest in the ToRA mode), and in the
PRM mode juxtaposition is multiplication with ``*``'s precedence, as sympy's token-inserting
transformations make it. Anything outside the whitelist (tuples, lists, sets, comparisons,
strings, attribute access, unknown sympy names) raises :class:`Unparseable`, which the grader
reads as the official "the parse raised".
"""

from __future__ import annotations

import builtins
import keyword
import types
import unicodedata

from mathif_pytest.grading._memo import memoized
from mathif_pytest.grading._nodes import (
    Bin,
    Bool,
    Call,
    Const,
    Dec,
    Either,
    Fact,
    Int,
    Neg,
    Node,
    Sym,
    Undef,
)
from mathif_pytest.grading._sympy_names import SYMPY_NAMES
from mathif_pytest.grading._tokens import FUNCTIONS, Kind, Mode, Tok, Unparseable, lex

__all__ = [
    "Bin", "Bool", "Call", "Const", "Dec", "Either", "Fact", "Int", "Mode", "Neg", "Node", "Sym",
    "Undef", "Unparseable", "parse",
]  # fmt: skip

CONSTANTS = frozenset({"pi", "E", "I", "oo", "zoo", "nan"})
MAX_DEPTH = 100
#: ``parse_expr`` also resolves Python's builtin functions (``abs``, ``max`` as ``Max``...).
_BUILTIN_FUNCTIONS = frozenset(
    name for name, obj in vars(builtins).items() if isinstance(obj, types.BuiltinFunctionType)
)
_BUILTIN_ALIASES = {"abs": "Abs", "max": "Max", "min": "Min"}
_KNOWN_NAMES = SYMPY_NAMES | _BUILTIN_FUNCTIONS


_STARTS_OPERAND = (Kind.NUM, Kind.NAME)


def _number(text: str, mode: Mode) -> Node:
    """``auto_number``: Integer for integer literals, Float (Rational in SYMPIFY) otherwise."""
    lowered = text.lower()
    if "." in text or ("e" in lowered and not lowered.startswith("0x")):
        return Dec(text, exact=mode is Mode.SYMPIFY)
    try:
        return Int(int(text, 0))
    except ValueError:
        raise Unparseable(f"number {text!r}") from None


def _splittable(name: str) -> bool:
    """Sympy's ``split_symbols`` test: split unless ``_``, a Greek letter name, or one char."""
    if "_" in name:
        return False
    try:
        unicodedata.lookup("GREEK SMALL LETTER " + name)
    except KeyError:
        return len(name) > 1
    return False


def _split_tokens(name: str) -> list[Tok]:
    """``split_symbols``: one token per character, digit runs kept together."""
    parts: list[Tok] = []
    index = 0
    while index < len(name):
        end = index + 1
        if name[index].isdigit():
            while end < len(name) and name[end].isdigit():
                end += 1
            parts.append(Tok(Kind.NUM, name[index:end]))
        else:
            parts.append(Tok(Kind.NAME, name[index]))
        index = end
    return parts


def _split_names(tokens: list[Tok]) -> list[Tok]:
    """Split unknown multi-letter names into letters *before* parsing, as sympy does.

    Splitting at token level keeps precedence right: ``xy^2`` is ``x*y**2`` and ``3/ab`` is
    ``3/a*b``. A split name followed by ``!`` stays grouped (``xy!`` is ``factorial(x*y)``).
    """
    out: list[Tok] = []
    for index, token in enumerate(tokens):
        name = _BUILTIN_ALIASES.get(token.text, token.text)
        if token.kind is not Kind.NAME or name in _KNOWN_NAMES or not _splittable(name):
            out.append(token)
            continue
        pieces = _split_tokens(name)
        if tokens[index + 1].text == "!":
            pieces = [Tok(Kind.OP, "("), *pieces, Tok(Kind.OP, ")")]
        out.extend(pieces)
    return out


def _known_value(name: str) -> Node:
    if name in CONSTANTS:
        return Const(name)
    raise Unparseable(f"sympy name {name!r} is not a value the parser supports")


class _Parser:
    """One parse of one token list; see the module docstring for the grammar."""

    def __init__(self, tokens: list[Tok], mode: Mode) -> None:
        self.tokens = _split_names(tokens) if mode is Mode.PRM else tokens
        self.pos = 0
        self.mode = mode
        self.depth = 0

    def peek(self) -> Tok:
        return self.tokens[self.pos]

    def take(self) -> Tok:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_op(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind is Kind.OP and token.text in texts

    def expect(self, text: str) -> None:
        if not self.at_op(text):
            raise Unparseable(f"expected {text!r}")
        self.pos += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unparseable("nested too deeply")

    def at_keyword(self, text: str) -> bool:
        token = self.peek()
        return token.kind is Kind.NAME and token.text == text

    def whole(self) -> Node:
        first = self.peek()
        if first.text in ("True", "False") and self.tokens[self.pos + 1].kind is Kind.END:
            return Bool(first.text == "True")
        node = self.expression()
        if self.peek().kind is not Kind.END:
            raise Unparseable(f"unexpected {self.peek().text!r}")
        return node

    def expression(self) -> Node:
        node = self.conjunction()
        while self.at_keyword("or"):
            self.take()
            node = Either("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.exclusive_or()
        while self.at_keyword("and"):
            self.take()
            node = Either("and", node, self.exclusive_or())
        return node

    def exclusive_or(self) -> Node:
        node = self.arith()
        while self.mode is Mode.STANDARD and self.at_op("^"):
            self.take()
            node = Bin("^", node, self.arith())
        return node

    def arith(self) -> Node:
        node = self.term()
        while self.at_op("+", "-"):
            op = self.take().text
            node = Bin(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.at_op("*", "/", "%", "//"):
                op = self.take().text
                node = Bin(op, node, self.unary())
            elif self.implicit_follows():
                node = Bin("*", node, self.power())
            else:
                return node

    def implicit_follows(self) -> bool:
        return self.mode is Mode.PRM and (self.peek().kind in _STARTS_OPERAND or self.at_op("("))

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            self.enter()
            sign = self.take().text
            operand = self.unary()
            self.depth -= 1
            return Neg(operand) if sign == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if not self.at_op("**"):
            return base
        self.take()
        self.enter()
        exponent = self.unary()
        self.depth -= 1
        return Bin("**", base, exponent)

    def postfix(self) -> Node:
        node = self.primary()
        if self.at_op("!"):
            self.take()
            double = self.at_op("!")
            if double:
                self.take()
                if self.at_op("!"):
                    raise Unparseable("triple factorial")
            node = Fact(node, double)
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind is Kind.NUM:
            return _number(token.text, self.mode)
        if token.kind is Kind.NAME:
            return self.name(token.text)
        if token.kind is Kind.OP and token.text == "(":
            self.enter()
            node = self.expression()
            self.expect(")")
            self.depth -= 1
            return node
        raise Unparseable(f"unexpected {token.text!r}")

    def name(self, name: str) -> Node:
        if keyword.iskeyword(name):
            raise Unparseable(f"keyword {name!r} in an expression")
        name = _BUILTIN_ALIASES.get(name, name)
        if name in FUNCTIONS:
            return self.function(name)
        if name in _KNOWN_NAMES:
            return _known_value(name)
        if self.at_op("(") and self.mode is not Mode.PRM:
            return Undef(name, self.arguments())
        return Sym(name)

    def function(self, name: str) -> Node:
        if self.at_op("("):
            args = self.arguments()
        elif self.mode is Mode.PRM and self.peek().kind in _STARTS_OPERAND:
            args = (self.applied_argument(),)
        else:
            raise Unparseable(f"function {name!r} used as a value")
        if len(args) not in FUNCTIONS[name]:
            raise Unparseable(f"{name} takes {FUNCTIONS[name]} arguments, got {len(args)}")
        return Call(name, args)

    def applied_argument(self) -> Node:
        """``implicit_application``: ``sqrt 2x`` is ``sqrt(2*x)`` (the ``*`` chain is captured)."""
        node = self.power()
        while self.at_op("*") or self.implicit_follows():
            if self.at_op("*"):
                self.take()
            node = Bin("*", node, self.power())
        return node

    def arguments(self) -> tuple[Node, ...]:
        self.expect("(")
        self.enter()
        args: list[Node] = []
        while not self.at_op(")"):
            args.append(self.expression())
            if not self.at_op(","):
                break
            self.take()
        self.expect(")")
        self.depth -= 1
        return tuple(args)


@memoized
def _parse_or_error(text: str, mode: Mode) -> Node | Unparseable:
    try:
        return _Parser(lex(text, mode), mode).whole()
    except Unparseable as error:
        return error
    except RecursionError:
        return Unparseable("nested too deeply")


def parse(text: str, mode: Mode) -> Node:
    """Parse ``text`` the way the official grader's ``parse_expr`` call for ``mode`` would.

    Raises:
        Unparseable: the official call would raise, return something that is not an
            expression (a tuple, a list, a boolean), or the input leaves the whitelist.
    """
    result = _parse_or_error(text, mode)
    if isinstance(result, Unparseable):
        raise Unparseable(*result.args)
    return result
