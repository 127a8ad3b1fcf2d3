r"""A safe stand-in for the ``eval()`` the official grader runs on answers that contain ``\pi``.

The official ToRA stage rewrites ``2\pi`` as ``2*3.141592653589793`` and calls ``eval`` on the
result, keeping the string when that raises. Here the text is only *parsed* (``ast.parse``, which
executes nothing) and then evaluated over a whitelist: number literals, ``+ - * / // % **``, unary
signs, the bitwise ``^ & | ~`` of integers, and tuples. Anything else (a name, a call, an
attribute, a string) counts as "eval raised", as do results the real ``eval`` could not reach in
reasonable time or memory (a power with a huge exponent); the caller then keeps the string.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

__all__ = ["MAX_POWER_BITS", "evaluate"]

#: Largest integer result the evaluators compute (bits); beyond it the official code would hang
#: or run out of memory, and we report "could not evaluate" instead.
MAX_POWER_BITS = 100_000

# Characters of arithmetic on number literals (hex, exponent and imaginary letters included). Any
# other character means a name, a string or a keyword, which the whitelist refuses anyway;
# refusing before `ast.parse` also keeps its SyntaxWarnings from ever being emitted.
_ARITHMETIC_TEXT = re.compile(r"[0-9a-fA-FjJxXoO_.+\-*/%()^&|~, \t\n]*")

Number = int | float | complex
Value = Number | tuple["Value", ...]


class _Refused(Exception):
    """The real ``eval`` would raise (or never finish) on this input."""


def power_too_big(base: float | int, exponent: int) -> bool:
    """Whether ``base ** exponent`` with an integral base would exceed :data:`MAX_POWER_BITS`."""
    magnitude = abs(base)
    if magnitude <= 1 or exponent <= 0:
        return False
    return exponent * math.log2(magnitude) > MAX_POWER_BITS


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, int) and isinstance(exponent, int) and power_too_big(base, abs(exponent)):
        raise _Refused
    return base**exponent


def _product(left: Number, right: Number) -> Number:
    both_int = isinstance(left, int) and isinstance(right, int)
    if both_int and left.bit_length() + right.bit_length() > MAX_POWER_BITS:  # type: ignore[union-attr]
        raise _Refused
    return left * right


_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _product,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_BITWISE: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}


def _number(value: Value) -> Number:
    if isinstance(value, tuple | bool):
        raise _Refused
    return value


def _binary(node: ast.BinOp) -> Value:
    left, right = _number(_eval(node.left)), _number(_eval(node.right))
    kind = type(node.op)
    if kind is ast.Pow:
        return _power(left, right)
    if kind in _BITWISE:
        if not (isinstance(left, int) and isinstance(right, int)):
            raise _Refused
        return _BITWISE[kind](left, right)
    if kind not in _BINARY:
        raise _Refused
    return _BINARY[kind](left, right)


def _unary(node: ast.UnaryOp) -> Value:
    operand = _number(_eval(node.operand))
    if isinstance(node.op, ast.USub):
        return -operand
    if isinstance(node.op, ast.UAdd):
        return +operand
    if isinstance(node.op, ast.Invert) and isinstance(operand, int):
        return ~operand
    raise _Refused


def _eval(node: ast.AST) -> Value:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, int | float | complex) and not isinstance(value, bool):
            return value
        raise _Refused
    if isinstance(node, ast.BinOp):
        return _binary(node)
    if isinstance(node, ast.UnaryOp):
        return _unary(node)
    if isinstance(node, ast.Tuple):
        return tuple(_eval(element) for element in node.elts)
    raise _Refused


def evaluate(text: str) -> Value | None:
    """Evaluate ``text`` as the official ``eval`` would, within the whitelist.

    Returns:
        The Python value (``int``, ``float``, ``complex`` or a tuple of them), or ``None`` where
        the official ``eval`` would raise or where the expression leaves the whitelist.
    """
    if _ARITHMETIC_TEXT.fullmatch(text) is None:
        return None
    try:
        tree = ast.parse(text.lstrip(" \t"), mode="eval")
        return _eval(tree.body)
    except (_Refused, SyntaxError, ArithmeticError, ValueError, TypeError, MemoryError):
        return None
    except RecursionError:  # deeply nested input: the real eval fails on it too
        return None
