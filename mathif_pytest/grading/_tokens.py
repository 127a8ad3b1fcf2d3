"""Lexing for the safe expression parser: Python's own tokenizer, as sympy's ``parse_expr`` uses.

``tokenize`` only splits text into tokens and executes nothing, so it is safe on untrusted input,
and it reproduces ``parse_expr``'s token boundaries exactly (``033`` is ``0`` then ``33``, ``2x``
is ``2`` then ``x``, ``1e5x`` is ``1e5`` then ``x``).
"""

from __future__ import annotations

import enum
import io
import keyword
import re
import tokenize
from dataclasses import dataclass

__all__ = ["FUNCTIONS", "Kind", "Mode", "Tok", "Unparseable", "lex"]


class Mode(enum.Enum):
    """Which ``parse_expr`` call of the official grader the parser imitates."""

    #: PRM800K stage: ``parse_expr(s.replace("^", "**"), standard + implicit multiplication and
    #: application)``: ``2x`` is ``2*x``, ``xy`` is ``x*y``, ``x(2)`` is ``2*x``.
    PRM = "prm"
    #: ToRA stage: ``parse_expr(s)`` with the default transformations; ``^`` is Python's XOR and
    #: ``2x`` is a syntax error.
    STANDARD = "standard"
    #: ``N(s)`` on a string: ``sympify(s, rational=True)``; ``^`` is a power, decimals exact.
    SYMPIFY = "sympify"


class Kind(enum.Enum):
    """Token kinds the parser sees."""

    NUM = "number"
    NAME = "name"
    OP = "operator"
    END = "end"


@dataclass(frozen=True, slots=True)
class Tok:
    """One token: its kind and text."""

    kind: Kind
    text: str


class Unparseable(Exception):
    """The official ``parse_expr`` call would raise (or never finish) on this input."""


#: Sympy functions the parser knows, with their accepted argument counts. A name of sympy's
#: namespace that is not here makes the expression unparseable (a documented difference).
FUNCTIONS: dict[str, tuple[int, ...]] = {
    **{name: (1,) for name in (
        "sqrt", "cbrt", "exp", "ln", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos",
        "atan", "acot", "asec", "acsc", "sinh", "cosh", "tanh", "coth", "asinh", "acosh",
        "atanh", "Abs", "sign", "factorial", "floor", "ceiling", "frac", "re", "im", "arg",
        "conjugate", "gamma", "li", "erf",
    )},
    "log": (1, 2),
    "root": (2,),
    "atan2": (2,),
    "binomial": (2,),
    "ff": (2,),
    "rf": (2,),
    "gcd": (2,),
    "lcm": (2,),
    "Max": (1, 2, 3, 4, 5, 6, 7, 8),
    "Min": (1, 2, 3, 4, 5, 6, 7, 8),
}  # fmt: skip

_SKIPPED = {tokenize.NL, tokenize.COMMENT}
#: Characters the tokenizer always rejects outside comments and strings (a backslash is fine only
#: as a line continuation). Checking first spares tokenizing most LaTeX answers.
_ALWAYS_REJECTED = re.compile(r"[$?`]|\\(?![\r\n])")
#: Python keywords whose meaning survives on sympy values: ``5 or 6`` is 5, a bare ``True``
#: subtracts like the integer 1 from a sympy Integer. Any other keyword makes the parse fail.
_KEYWORDS = frozenset({"or", "and", "True", "False"})
_FINAL = {tokenize.NEWLINE, tokenize.ENDMARKER}


def _number_tokens(text: str) -> list[Tok]:
    """A NUMBER token; an imaginary literal becomes ``<number> * I`` (sympy's ``auto_number``)."""
    if text[-1] in "jJ":
        return [Tok(Kind.NUM, text[:-1]), Tok(Kind.OP, "*"), Tok(Kind.NAME, "I")]
    return [Tok(Kind.NUM, text)]


def _convert(token: tokenize.TokenInfo, mode: Mode) -> list[Tok]:
    kind, text = token.type, token.string
    if kind == tokenize.NUMBER:
        return _number_tokens(text)
    if kind == tokenize.NAME:
        if keyword.iskeyword(text) and (mode is Mode.PRM or text not in _KEYWORDS):
            raise Unparseable(f"keyword {text!r}")
        return [Tok(Kind.NAME, text)]
    if text == "!" and kind in (tokenize.ERRORTOKEN, tokenize.OP):
        return [Tok(Kind.OP, "!")]
    if kind == tokenize.OP:
        if text == "^" and mode is Mode.SYMPIFY:
            return [Tok(Kind.OP, "**")]
        return [Tok(Kind.OP, text)]
    raise Unparseable(f"token {text!r}")


def lex(text: str, mode: Mode) -> list[Tok]:
    """Tokens of ``text`` as the given ``parse_expr`` call would see them, ending with END.

    Raises:
        Unparseable: the tokenizer fails, or meets a string, a stray character, a keyword or a
            second logical line, all of which make the official call raise.
    """
    if mode is Mode.PRM:
        text = text.replace("^", "**")
    elif mode is Mode.SYMPIFY:
        text = text.replace("\n", "")  # sympify() joins the lines of a string first
    if "#" not in text and _ALWAYS_REJECTED.search(text):
        raise Unparseable("character the tokenizer rejects")
    tokens: list[Tok] = []
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(text.strip()).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise Unparseable(str(error)) from None
    for index, token in enumerate(raw):
        if token.type in _SKIPPED:
            continue
        if token.type in _FINAL:
            if token.type == tokenize.NEWLINE and index != len(raw) - 2:
                raise Unparseable("more than one line")
            continue
        tokens.extend(_convert(token, mode))
    tokens.append(Tok(Kind.END, ""))
    return tokens
