"""The sympy steps of the grader, run in the worker process on trees from the safe parser.

Sympy objects are built node by node with sympy's own constructors and Python operators, which is
what ``parse_expr`` evaluates, only without ``eval``. Building follows the official exception
paths: anything that raises while building counts as "the parse raised". Only this module (and
the worker) imports sympy.
"""

from __future__ import annotations

import math
from typing import Any

import sympy  # type: ignore[import-untyped]

from mathif_pytest.grading._decide import CheapOps, NeedsSympy, numeric_source
from mathif_pytest.grading._exact import decimal_exponent_ok
from mathif_pytest.grading._expr import (
    Bin,
    Bool,
    Call,
    Const,
    Dec,
    Either,
    Fact,
    Int,
    Mode,
    Neg,
    Node,
    Sym,
    Undef,
    Unparseable,
    parse,
)
from mathif_pytest.grading._pyeval import power_too_big

__all__ = ["SympyOps", "build"]

#: Functions whose integer arguments make sympy compute huge exact numbers.
_COMBINATORIAL = frozenset({"factorial", "factorial2", "gamma", "binomial", "ff", "rf"})
_MAX_COMBINATORIAL_ARG = 10_000


def _guard_power(base: Any, exponent: Any) -> None:
    if not (getattr(base, "is_Rational", False) and getattr(exponent, "is_Rational", False)):
        return
    magnitude = max(abs(int(base.p)), int(base.q))
    if power_too_big(magnitude, abs(int(exponent))):
        raise Unparseable("power too large")


def _xor(left: Any, right: Any) -> Any:
    if not (isinstance(left, sympy.Integer) and isinstance(right, sympy.Integer)):
        raise Unparseable("^ between non-integers")
    return sympy.Integer(int(left) ^ int(right))


def _binary(node: Bin) -> Any:
    left, right = build(node.left), build(node.right)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if node.op == "/":
        return left / right
    if node.op == "**":
        _guard_power(left, right)
        return left**right
    if node.op == "%":
        return left % right
    if node.op == "//":
        return left // right
    return _xor(left, right)


def _call(node: Call) -> Any:
    args = [build(arg) for arg in node.args]
    if node.func in _COMBINATORIAL:
        for arg in args:
            if isinstance(arg, sympy.Integer) and abs(int(arg)) > _MAX_COMBINATORIAL_ARG:
                raise Unparseable("combinatorial argument too large")
    return getattr(sympy, node.func)(*args)


def _leaf(node: Node) -> Any:
    if isinstance(node, Int):
        return sympy.Integer(node.value)
    if isinstance(node, Dec):
        if not decimal_exponent_ok(node.text):  # sympy expands these exactly: it never returns
            raise Unparseable("decimal exponent too large")
        return sympy.Rational(node.text) if node.exact else sympy.Float(node.text)
    if isinstance(node, Sym):
        return sympy.Symbol(node.name)
    if isinstance(node, Const):
        return getattr(sympy, node.name)
    raise TypeError(f"not a leaf: {node!r}")


def _build(node: Node) -> Any:
    if isinstance(node, Bin):
        return _binary(node)
    if isinstance(node, Neg):
        return -build(node.operand)
    if isinstance(node, Fact):
        return _call(Call("factorial2" if node.double else "factorial", (node.operand,)))
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Undef):
        return sympy.Function(node.name)(*(build(arg) for arg in node.args))
    if isinstance(node, Either):
        left = build(node.left)
        return left if (node.op == "or") == bool(left) else build(node.right)
    if isinstance(node, Bool):
        return node.value
    return _leaf(node)


def build(node: Node) -> Any:
    """The sympy object ``parse_expr`` would have returned for ``node``.

    Raises:
        Unparseable: building raises, as evaluating the official parse would.
    """
    try:
        return _build(node)
    except Unparseable:
        raise
    except Exception as error:  # the official parse raises here too (TypeError, ValueError...)
        raise Unparseable(f"{type(error).__name__}: {error}") from None


def _value(text: str, mode: Mode) -> Any | None:
    try:
        return build(parse(text, mode))
    except Unparseable:
        return None


def _expression(text: str, mode: Mode) -> Any | None:
    value = _value(text, mode)
    return value if isinstance(value, sympy.Expr) else None


def _sympified(text: str) -> Any | None:
    """``N()``'s own parse of a side ``parse_expr`` gave no sympy value (see ``numeric_source``)."""
    return _expression(numeric_source(text), Mode.SYMPIFY)


def _zero_difference(left: Any, right: Any) -> bool:
    try:
        return bool(sympy.simplify(left - right) == 0)
    except Exception:  # official: any error means "not equal by simplification"
        return False


def _numeric(value: Any) -> float | None:
    try:
        return float(sympy.N(value))
    except Exception:  # symbols, complex values, zoo: isclose() raises on them officially
        return None


class SympyOps:
    """The sympy steps, for real: exact shortcuts first, then ``simplify`` and ``N``."""

    def __init__(self) -> None:
        self._cheap = CheapOps()

    def prm_equal(self, expr: str) -> bool:
        try:
            return self._cheap.prm_equal(expr)
        except NeedsSympy:
            pass
        value = _expression(expr, Mode.PRM)
        if value is None:
            return False
        try:
            return bool(sympy.simplify(value) == 0)
        except Exception:  # the official step swallows every error as "not equal"
            return False

    def symbolic_equal(self, prediction: str, reference: str, tolerance: float) -> bool:
        try:
            return self._cheap.symbolic_equal(prediction, reference, tolerance)
        except NeedsSympy:
            pass
        pred, ref = _value(prediction, Mode.STANDARD), _value(reference, Mode.STANDARD)
        if isinstance(pred, bool) or isinstance(ref, bool):  # N() of a bool fails: no 2nd step
            return pred is not None and ref is not None and _zero_difference(pred, ref)
        pred = pred if isinstance(pred, sympy.Expr) else None
        ref = ref if isinstance(ref, sympy.Expr) else None
        if pred is not None and ref is not None and _zero_difference(pred, ref):
            return True
        pred_n = _numeric(pred if pred is not None else _sympified(prediction))
        ref_n = _numeric(ref if ref is not None else _sympified(reference))
        if pred_n is None or ref_n is None:
            return False
        return math.isclose(pred_n, ref_n, rel_tol=tolerance)
