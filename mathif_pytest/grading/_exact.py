"""Exact arithmetic on parsed answers, for the decisions that need no sympy.

When both sides of a comparison are rational numbers written with integer literals (``3/4``,
``2^-1``, ``7+3/4``) sympy's answer is plain fraction arithmetic, and :func:`exact_value` gives it
without starting the worker. A decimal literal with at most 15 significant digits is a sympy
``Float`` of 53 bits, i.e. a Python ``float`` (:func:`float_literal`). Anything else (symbols,
functions, other floats, division by zero, huge results) raises :class:`NotExact` and the worker
decides with sympy itself.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from mathif_pytest.grading._expr import Bin, Dec, Either, Fact, Int, Neg, Node, Unparseable
from mathif_pytest.grading._pyeval import MAX_POWER_BITS, power_too_big

__all__ = ["NotExact", "decimal_exponent_ok", "exact_value", "float_literal", "to_float"]

_MAX_FACTORIAL = 10_000
_FLOAT_DIGITS = 15
_FLOAT_RANGE = (1e-300, 1e300)
#: Decimal literals with a larger exponent would expand to enormous exact numbers.
MAX_DECIMAL_EXPONENT = 10_000


def decimal_exponent_ok(text: str) -> bool:
    """Whether ``text`` is a decimal literal whose exponent is small enough to expand exactly."""
    try:
        return abs(Decimal(text.replace("_", "")).adjusted()) <= MAX_DECIMAL_EXPONENT
    except (InvalidOperation, ValueError):
        return False


class NotExact(Exception):
    """Plain fraction arithmetic cannot tell what sympy would compute here."""


def _check_size(value: Fraction) -> Fraction:
    if value.numerator.bit_length() + value.denominator.bit_length() > MAX_POWER_BITS:
        raise NotExact
    return value


def _integer(value: Fraction) -> int | None:
    return value.numerator if value.denominator == 1 else None


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    power = _integer(exponent)
    if power is None or (base == 0 and power < 0):
        raise NotExact
    if power_too_big(max(abs(base.numerator), base.denominator), abs(power)):
        raise NotExact
    return base**power


def _xor(left: Fraction, right: Fraction) -> Fraction:
    """Python's ``^`` on two sympy numbers: only two integers have one."""
    a, b = _integer(left), _integer(right)
    if a is None or b is None:
        raise Unparseable("^ between non-integers")
    return Fraction(a ^ b)


def _binary(node: Bin) -> Fraction:
    left, right = exact_value(node.left), exact_value(node.right)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return _check_size(left * right)
    if node.op == "/":
        if right == 0:
            raise NotExact
        return left / right
    if node.op == "**":
        return _power(left, right)
    if node.op in ("%", "//"):
        if right == 0:
            raise NotExact
        return left % right if node.op == "%" else Fraction(left // right)
    return _xor(left, right)


def _factorial(node: Fact) -> Fraction:
    value = _integer(exact_value(node.operand))
    if node.double or value is None or not 0 <= value <= _MAX_FACTORIAL:
        raise NotExact
    return Fraction(math.factorial(value))


def exact_value(node: Node) -> Fraction:
    """The exact rational value sympy would compute for ``node``.

    Raises:
        NotExact: the value is not a rational number built from integer (or exact decimal)
            literals, or it would be huge.
        Unparseable: ``^`` between numbers that are not both integers (sympy raises).
    """
    if isinstance(node, Int):
        return Fraction(node.value)
    if isinstance(node, Dec) and node.exact:
        if not decimal_exponent_ok(node.text):
            raise NotExact
        try:
            return Fraction(node.text)
        except ValueError:
            raise NotExact from None
    if isinstance(node, Neg):
        return -exact_value(node.operand)
    if isinstance(node, Bin):
        return _binary(node)
    if isinstance(node, Fact):
        return _factorial(node)
    if isinstance(node, Either):
        left = exact_value(node.left)
        if (node.op == "or") == (left != 0):  # Python: `or` keeps a truthy left, `and` a falsy
            return left
        return exact_value(node.right)
    raise NotExact


def _significant_digits(text: str) -> int:
    """The decimal precision sympy's ``Float(text)`` picks (before its floor of 15)."""
    value = Decimal(text)
    digits = len(value.as_tuple().digits)
    if "." not in text and value == value.to_integral_value():
        digits = max(digits, len(str(abs(int(value)))))
    return digits


def float_literal(node: Node) -> float | None:
    """The value of a lone decimal literal (maybe negated) that is exactly a 53-bit ``Float``.

    Returns:
        The value, or ``None`` when ``node`` is not such a literal (more than 15 digits, outside
        the normal double range, an underscore, or not a decimal literal at all).
    """
    sign = 1.0
    if isinstance(node, Neg):
        sign, node = -1.0, node.operand
    if not isinstance(node, Dec) or node.exact or "_" in node.text:
        return None
    if not decimal_exponent_ok(node.text):
        return None
    try:
        if _significant_digits(node.text) > _FLOAT_DIGITS:
            return None
    except (InvalidOperation, ValueError, OverflowError):
        return None
    value = float(node.text)
    if value != 0 and not _FLOAT_RANGE[0] < abs(value) < _FLOAT_RANGE[1]:
        return None
    return sign * value


def to_float(value: Fraction) -> float:
    """``float(value)``, correctly rounded like sympy's ``N``; NotExact when out of range."""
    try:
        result = float(value)
    except OverflowError:
        raise NotExact from None
    if result != 0 and not _FLOAT_RANGE[0] < abs(result) < _FLOAT_RANGE[1]:
        raise NotExact
    return result
