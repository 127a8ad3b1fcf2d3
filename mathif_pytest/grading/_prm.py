"""The PRM800K stage of the official grader: normalise both answers, then compare element-wise.

An answer is correct here when (a) the Hendrycks normalisations are equal, (b) the PRM800K
normalisations are equal, or (c) every element of the (tuple-split) answers passes the element
rules: unreduced fractions must match exactly, an integer must face an integer and is compared
exactly, anything else goes to the "difference simplifies to 0" test (``ops.prm_equal``), which is
skipped for expressions with more than two distinct letters or with risky exponents.
"""

from __future__ import annotations

import contextlib
import re
from typing import Protocol

from mathif_pytest.grading._latex import latex_to_text
from mathif_pytest.grading._mathd import normalize_answer
from mathif_pytest.grading._memo import memoized

__all__ = ["PrmOps", "normalize", "prm_grade", "should_allow_eval"]

_TEXT_WRAPPER = re.compile(r"^\\text\{(?P<text>.+?)\}$")
_WORD_REPLACEMENTS = (
    ("\\%", "%"),
    ("\\$", "$"),
    ("$", ""),
    ("%", ""),
    (" or ", " , "),
    (" and ", " , "),
    ("million", "*10^6"),
    ("billion", "*10^9"),
    ("trillion", "*10^12"),
)
_UNITS = (
    "degree", "cm", "centimeter", "meter", "mile", "second", "minute", "hour", "day", "week",
    "month", "year", "foot", "feet", "inch", "yard", "liter",
)  # fmt: skip
_UNIT_PATTERNS = tuple(re.compile(unit + r"(es)?(s)? *(\^[0-9]+)?") for unit in _UNITS)
_DEGREES = re.compile(r"\^ *\\circ")
_THIN_SPACE_COMMA = re.compile(r",\\! *")
_MINUS_SPACES = re.compile(r"- *")
_MIXED_NUMBER = re.compile(r"([0-9]) +([0-9])")
_THOUSANDS_COMMA = re.compile(r"(\d)(,)(\d\d\d)($|\D)")
_FRACTION = re.compile(r"^-?[0-9]+.?/0*[1-9][0-9]*.?$")
_BAD_EXPONENTS = (re.compile(r"\^[0-9]+\^"), re.compile(r"\^[0-9][0-9]+"))
_TUPLE_CHARS = "()[]"


class PrmOps(Protocol):
    """The sympy-dependent step: does ``(a)-(b)`` (already vetted) simplify to zero?"""

    def prm_equal(self, expr: str) -> bool: ...


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_integral(value: float) -> bool:
    try:
        return abs(value - round(value)) <= 1e-7
    except (OverflowError, ValueError):
        return False


def strip_thousands_commas(expr: str) -> str:
    """``1,000,000`` → ``1000000``, leaving tuple commas such as ``(1,2)`` alone."""
    while True:
        stripped = _THOUSANDS_COMMA.sub(r"\1\3\4", expr)
        if stripped == expr:
            return stripped
        expr = stripped


def str_is_int(text: str) -> bool:
    """Whether ``text`` (thousands commas allowed) reads as a float within 1e-7 of an integer."""
    value = _float_or_none(strip_thousands_commas(text))
    return value is not None and _is_integral(value)


def _int_text(text: str) -> str:
    return str(int(float(text.replace(",", ""))))


@memoized
def normalize(expr: str) -> str:
    r"""PRM800K normalisation: units, ``\text{}``, ``$``/``%``, LaTeX to text, mixed numbers."""
    match = _TEXT_WRAPPER.search(expr)
    if match is not None:
        expr = match.group("text")
    for old, new in _WORD_REPLACEMENTS:
        expr = expr.replace(old, new)
    for pattern in _UNIT_PATTERNS:
        expr = pattern.sub("", expr)
    expr = _DEGREES.sub("", expr)
    if expr and expr[0] == "{" and expr[-1] == "}":
        expr = expr[1:-1]
    expr = _THIN_SPACE_COMMA.sub("", expr)
    value = _float_or_none(expr)
    if value is not None and _is_integral(value):
        expr = str(round(value))
    if "\\" in expr:
        # The official normalisation keeps the input on any failure of the conversion.
        with contextlib.suppress(Exception):
            expr = latex_to_text(expr)
    expr = _MIXED_NUMBER.sub(r"\1+\2", _MINUS_SPACES.sub("-", expr)).lower()
    return _int_text(expr) if str_is_int(expr) else expr


def should_allow_eval(expr: str) -> bool:
    """Whether the official grader lets sympy see ``expr`` (≤ 2 letters, no risky exponents)."""
    letters = {char for char in expr.replace("sqrt", "").replace("frac", "") if char.isalpha()}
    if len(letters) > 2 or "^{" in expr or "^(" in expr:
        return False
    return not any(pattern.search(expr) for pattern in _BAD_EXPONENTS)


def split_tuple(expr: str) -> list[str]:
    """Elements of a bracketed, non-nested tuple or interval; otherwise the expression itself."""
    expr = strip_thousands_commas(expr)
    if not expr:
        return []
    inner = expr[1:-1]
    if (
        len(expr) > 2
        and expr[0] in _TUPLE_CHARS
        and expr[-1] in _TUPLE_CHARS
        and not any(char in inner for char in _TUPLE_CHARS)
    ):
        return [element.strip() for element in inner.split(",")]
    return [expr]


def _elements_equal(truth: str, given: str, ops: PrmOps) -> bool:
    if _FRACTION.search(truth) and _FRACTION.search(given):
        return truth == given
    if str_is_int(truth) != str_is_int(given):
        return False
    expr = f"({truth})-({given})"
    return should_allow_eval(expr) and ops.prm_equal(expr)


def prm_grade(given: str, truth: str, ops: PrmOps) -> str | None:
    """Decide the PRM800K stage.

    Returns:
        How the answers matched (a phrase for the grade's detail), or ``None`` when this stage
        does not accept the answer (the caller then tries the ToRA stage).
    """
    if normalize_answer(truth) == normalize_answer(given):
        return "after MATH normalisation"
    truth_norm, given_norm = normalize(truth), normalize(given)
    if truth_norm == given_norm:
        return "after normalisation"
    if not given_norm:
        return None
    truth_elems, given_elems = split_tuple(truth_norm), split_tuple(given_norm)
    if len(truth_elems) > 1 and (
        truth_norm[0] != given_norm[0] or truth_norm[-1] != given_norm[-1]
    ):
        return None
    if len(truth_elems) != len(given_elems):
        return None
    pairs = zip(truth_elems, given_elems, strict=True)
    if all(_elements_equal(truth, given, ops) for truth, given in pairs):
        return "symbolically (difference simplifies to 0)"
    return None
