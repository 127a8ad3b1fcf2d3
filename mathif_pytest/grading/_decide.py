r"""The official correctness decision, ``compute_score(output, reference)[0]``, over swappable ops.

:func:`decide` runs the PRM800K stage, then the ToRA stage (twice, with pi as ``math.pi`` and as
3.14, when either side mentions ``\pi``). Both stages reach sympy only through ``ops``: the
in-process :class:`CheapOps` answers what plain arithmetic can decide exactly and raises
:class:`NeedsSympy` for the rest, which the caller then sends to a worker process running
:class:`~mathif_pytest.grading._symbolic.SympyOps`. The decision is the same either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from mathif_pytest.grading._exact import NotExact, exact_value, float_literal, to_float
from mathif_pytest.grading._expr import Bin, Bool, Mode, Node, Unparseable, parse
from mathif_pytest.grading._prm import PrmOps, prm_grade
from mathif_pytest.grading._strings import string_literal
from mathif_pytest.grading._tora import Raised, ToraOps, ToraSettings, math_equal

__all__ = ["CheapOps", "Decision", "GradingOps", "NeedsSympy", "decide", "numeric_source"]

_PI = "\\pi"


class NeedsSympy(Exception):
    """Only sympy can tell; grade this pair in a worker process."""


class GradingOps(PrmOps, ToraOps, Protocol):
    """Both sympy-dependent steps."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The official verdict, with the step that decided it (a phrase for the grade's detail)."""

    correct: bool
    how: str


def _tora(extracted: str, reference: str, settings: ToraSettings, ops: ToraOps) -> str | None:
    pis = (math.pi, 3.14) if _PI in extracted or _PI in reference else (math.pi,)
    try:
        results = [
            math_equal(extracted, reference, settings=settings, ops=ops, pi=pi) for pi in pis
        ]
    except (Raised, RecursionError):  # compute_score turns any escaping error into "incorrect"
        return None
    return next((how for how in results if how is not None), None)


def decide(reference: str, extracted: str, *, settings: ToraSettings, ops: GradingOps) -> Decision:
    """Decide like the official ``compute_score(extracted-from, reference)[0]``.

    Raises:
        NeedsSympy: ``ops`` cannot decide a step without sympy.
    """
    how = prm_grade(extracted, reference, ops)
    if how is not None:
        return Decision(True, how)
    how = _tora(extracted, reference, settings, ops)
    return Decision(how is not None, how or "")


Number = Fraction | float


def _number(node: Node) -> Number:
    """Exact value, or the value of a lone 53-bit decimal literal; NotExact otherwise."""
    try:
        return exact_value(node)
    except NotExact:
        literal = float_literal(node)
        if literal is None:
            raise
        return literal


def _same(left: Number, right: Number) -> bool:
    """Whether sympy's ``left - right`` is exactly zero (a Float side works at 53 bits)."""
    if isinstance(left, Fraction) and isinstance(right, Fraction):
        return left == right
    as_float = (value if isinstance(value, float) else to_float(value) for value in (left, right))
    return next(as_float) == next(as_float)


class _Unknown:
    """The parse succeeds but only sympy can evaluate the result."""


_UNKNOWN = _Unknown()
Parsed = Number | bool | None | _Unknown


def _parsed(text: str, mode: Mode) -> Parsed:
    """The number (or bare boolean) ``text`` parses to.

    ``None`` when the parse fails, ``_UNKNOWN`` when only sympy can evaluate the result.
    """
    try:
        node = parse(text, mode)
        return node.value if isinstance(node, Bool) else _number(node)
    except Unparseable:
        return None
    except NotExact:
        return _UNKNOWN


def _bool_equal(left: Parsed, right: Parsed) -> bool:
    """``simplify(left - right) == 0`` with a Python bool on at least one side.

    Only a sympy Integer (or another bool) can be subtracted from or to a bool, and ``N()`` of a
    bool fails, so there is no numeric second chance.
    """
    if isinstance(left, bool) and isinstance(right, bool):
        return left == right
    other = right if isinstance(left, bool) else left
    flag = int(bool(left if isinstance(left, bool) else right))
    if isinstance(other, _Unknown):
        raise NeedsSympy
    return isinstance(other, Fraction) and other.denominator == 1 and other == flag


def numeric_source(text: str) -> str:
    """The string ``N()`` sympifies when ``parse_expr(text)`` gives no sympy value.

    That is ``text`` itself (the parse failed), or the value of a string literal, which
    ``parse_expr`` evaluates to a Python string (``"236"`` gives ``236``).
    """
    value = string_literal(text)
    return text if value is None else value


def _for_numeric(text: str, parsed: Parsed) -> Parsed:
    """What ``N()`` sees: the parsed value, or ``sympify(source, rational=True)`` if it failed.

    ``N()`` of a boolean fails, so a boolean counts as a failed parse here.
    """
    value = _parsed(numeric_source(text), Mode.SYMPIFY) if parsed is None else parsed
    return None if isinstance(value, bool) else value


def _float(value: Number) -> float:
    return value if isinstance(value, float) else to_float(value)


class CheapOps:
    """The sympy steps, decided with exact arithmetic where that is certain; see module doc."""

    def prm_equal(self, expr: str) -> bool:
        try:
            node = parse(expr, Mode.PRM)
            if isinstance(node, Bin) and node.op == "-":
                return _same(_number(node.left), _number(node.right))
            return exact_value(node) == 0
        except Unparseable:
            return False
        except NotExact:
            raise NeedsSympy from None

    def symbolic_equal(self, prediction: str, reference: str, tolerance: float) -> bool:
        """``simplify(a - b) == 0``, else ``isclose(N(a), N(b))``; unparseable sides fail both."""
        pred, ref = _parsed(prediction, Mode.STANDARD), _parsed(reference, Mode.STANDARD)
        if isinstance(pred, bool) or isinstance(ref, bool):
            return pred is not None and ref is not None and _bool_equal(pred, ref)
        pred_n, ref_n = _for_numeric(prediction, pred), _for_numeric(reference, ref)
        if pred_n is None or ref_n is None:
            return False  # N() fails on that side, and simplify() needs both parsed
        try:
            if isinstance(pred, Fraction | float) and isinstance(ref, Fraction | float):
                if _same(pred, ref):
                    return True
            elif pred is not None and ref is not None:
                raise NeedsSympy
            if isinstance(pred_n, _Unknown) or isinstance(ref_n, _Unknown):
                raise NeedsSympy
            return math.isclose(_float(pred_n), _float(ref_n), rel_tol=tolerance)
        except NotExact:
            raise NeedsSympy from None
