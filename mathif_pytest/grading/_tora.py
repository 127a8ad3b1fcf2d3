r"""The ToRA stage of the official grader (``math_equal``), reproduced step by step.

The order of the steps and their quirks are the official ones (``MATHIF_PROTOCOL.md`` §2):
``$``/``%`` stripping, base subscripts (``1011_2`` is 1011; ``x_1`` raises), ``\pi`` rewritten
and evaluated (here by :mod:`._pyeval`, never ``eval``), predictions cut at 1000 characters,
case- and space-insensitive string match, numeric match with ``rel_tol`` that also accepts the
reference times or divided by 100, bracket and comma lists compared element by element, and
finally ``ops.symbolic_equal``. The two ``pmatrix`` branches of the official code are
unreachable there (its ``"\begin{pmatrix}"`` literal starts with a backspace, ``\b``) and are
left out. Where the official code lets an exception escape, :class:`Raised` is raised; the
caller grades that as incorrect, as ``compute_score`` does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

from mathif_pytest.grading._pyeval import Value, evaluate
from mathif_pytest.grading._strings import string_literal

__all__ = ["Raised", "ToraOps", "ToraSettings", "math_equal"]

_DOLLAR_NUMBER = re.compile(r"\$\d+(\.\d+)?")
_PERCENT_NUMBER = (re.compile(r"^\d+(\.\d+)?%$"), re.compile(r"^\d+(\.\d+)?\\%$"))
_INTERVALS = (
    (re.compile(r"^Interval\((.*)\)$"), "[", "]"),
    (re.compile(r"^Interval\.Ropen\((.*)\)$"), "[", ")"),
    (re.compile(r"^Interval\.Lopen\((.*)\)$"), "(", "]"),
    (re.compile(r"^Interval\.open\((.*)\)$"), "(", ")"),
)
_PI = "\\pi"
_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(,\d{3})+(\.\d*)?\s*$")
_MAX_PREDICTION = 1000

Answer = str | Value


class Raised(Exception):
    """The official code raises here, out of ``math_equal``; ``compute_score`` says incorrect."""


class ToraOps(Protocol):
    """The sympy-dependent last step of ``math_equal``."""

    def symbolic_equal(self, prediction: str, reference: str, tolerance: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class ToraSettings:
    """``math_equal``'s keyword arguments that matter for the decision."""

    include_percentage: bool = True
    tolerance: float = 1e-4
    elementwise_lists: bool = False


def _handle_base(answer: str) -> Answer:
    """``1011_2`` → 1011 (the digits, not the value); a non-number before ``_`` raises."""
    if "_" not in answer:
        return answer
    try:
        return int(float(answer.split("_")[0]))
    except (ValueError, OverflowError):
        raise Raised from None


def _handle_pi(answer: str, pi: float) -> Answer:
    r"""Write ``\pi`` as ``*<pi>`` (after a digit) or ``1*<pi>`` and evaluate, if that works.

    A string literal evaluates to its content (``"2\pi"`` → ``'2*3.14...'``), a plain string.
    """
    index = answer.find(_PI)
    while index != -1:
        glue = "*" if index > 0 and answer[index - 1].isdigit() else "1*"
        answer = answer[:index] + f"{glue}{pi}" + answer[index + len(_PI) :]
        index = answer.find(_PI, index + 1)
    value: Answer | None = evaluate(answer)
    if value is None:
        value = string_literal(answer)  # eval() gives a string literal's value, a str
    return answer if value is None else value


def _normalize(answer: Answer, pi: float) -> Answer:
    if not isinstance(answer, str):
        return answer
    if _DOLLAR_NUMBER.match(answer):
        return answer[1:]
    if any(pattern.match(answer) for pattern in _PERCENT_NUMBER):
        return answer.replace("\\%", "").replace("%", "")
    answer = _handle_base(answer)
    if isinstance(answer, str) and _PI in answer:
        return _handle_pi(answer, pi)
    return answer


def _text(answer: Answer) -> str:
    try:
        return str(answer)
    except ValueError:  # an integer too long for str(): the official str() raises too
        raise Raised from None


def _as_number(answer: Answer, settings: ToraSettings) -> float | None:
    """The official ``is_digit``: ``float()`` after dropping ``{,}`` or all commas.

    With the ``elementwise_lists`` deviation, commas are dropped only where they separate
    thousands, so ``11,19,37,73`` is a list (compared element by element), not ``11193773``.
    """
    try:
        text = str(answer)
        if "{,}" in text:
            text = text.replace("{,}", "")
        elif settings.elementwise_lists and "," in text and not _THOUSANDS.match(text):
            return None
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _numbers_close(prediction: float, reference: float, settings: ToraSettings) -> str | None:
    """How the numbers match (the reference itself, or it times or over 100), or None."""
    if math.isclose(reference, prediction, rel_tol=settings.tolerance):
        return "numerically"
    if settings.include_percentage and any(
        math.isclose(item, prediction, rel_tol=settings.tolerance)
        for item in (reference / 100, reference * 100)
    ):
        return "numerically up to a factor of 100 (the official percentage leniency)"
    return None


def _format_interval(prediction: str) -> str:
    for pattern, left, right in _INTERVALS:
        match = pattern.match(prediction)
        if match:
            return f"{left}{match.group(1)}{right}"
    return prediction


def _brackets_stripped_equal(prediction: str, reference: str) -> bool:
    pred, ref = prediction, reference
    if (pred.startswith("[") and pred.endswith("]") and not ref.startswith("(")) or (
        pred.startswith("(") and pred.endswith(")") and not ref.startswith("[")
    ):
        pred, ref = pred.strip("[]()"), ref.strip("[]()")
    for char in "{}()":
        pred, ref = pred.replace(char, ""), ref.replace(char, "")
    return pred == ref


class _Comparer:
    """One top-level ``math_equal`` call and its recursive element comparisons."""

    def __init__(self, settings: ToraSettings, ops: ToraOps) -> None:
        self.settings = settings
        self.ops = ops
        self.depth = 0
        self.reason = ""

    def accept(self, reason: str) -> bool:
        """Say yes, remembering why when this is the top-level comparison."""
        if self.depth == 0:
            self.reason = reason
        return True

    def all_equal(self, predictions: list[str], references: list[str]) -> bool:
        # The official list comprehension compares every pair before all(): an exception in
        # any pair escapes, whatever the others say. The nested calls use the real pi.
        self.depth += 1
        try:
            results = [
                self.equal(pred, ref, math.pi)
                for pred, ref in zip(predictions, references, strict=True)
            ]
        finally:
            self.depth -= 1
        return all(results) and self.accept("element by element")

    def equal(self, prediction: Answer, reference: Answer, pi: float) -> bool:
        prediction, reference = _normalize(prediction, pi), _normalize(reference, pi)
        if isinstance(prediction, str):
            prediction = prediction[:_MAX_PREDICTION]
            if isinstance(reference, str) and (
                prediction.strip().lower() == reference.strip().lower()
                or prediction.replace(" ", "") == reference.replace(" ", "")
            ):
                return self.accept("as strings (ignoring case and spaces)")
        pred_number = _as_number(prediction, self.settings)
        ref_number = _as_number(reference, self.settings)
        if pred_number is not None and ref_number is not None:
            how = _numbers_close(pred_number, ref_number, self.settings)
            return how is not None and self.accept(how)
        if not prediction and prediction not in (0, False):
            return False
        reference = _text(reference).strip()
        return self.structured(_format_interval(_text(prediction).strip()), reference)

    def structured(self, prediction: str, reference: str) -> bool:
        if _brackets_stripped_equal(prediction, reference):
            return self.accept("as strings once brackets are removed")
        if (
            prediction
            and reference
            and prediction[0] in "(["
            and prediction[-1] in ")]"
            and prediction[0] == reference[0]
            and prediction[-1] == reference[-1]
        ):
            preds, refs = prediction[1:-1].split(","), reference[1:-1].split(",")
            if len(preds) == len(refs) and self.all_equal(preds, refs):
                return True
        if "," in prediction and "," in reference:
            preds = [part.strip() for part in prediction.split(",")]
            refs = [part.strip() for part in reference.split(",")]
            if len(preds) == len(refs):
                return self.all_equal(preds, refs)
        if prediction.startswith("Point") and self.point_equal(prediction, reference):
            return True
        if self.ops.symbolic_equal(prediction, reference, self.settings.tolerance):
            return self.accept("symbolically (sympy)")
        return False

    def point_equal(self, prediction: str, reference: str) -> bool:
        if not reference:
            raise Raised  # the official code indexes reference[0]
        if reference[0] != "(" or reference[-1] != ")":
            return False
        preds = prediction[prediction.find("(") + 1 : -1].split(",")
        refs = reference[1:-1].split(",")
        return len(preds) == len(refs) and self.all_equal(preds, refs)


def math_equal(
    prediction: str, reference: str, *, settings: ToraSettings, ops: ToraOps, pi: float
) -> str | None:
    """The official ``math_equal(prediction, reference, pi=pi)``.

    Returns:
        How the answers matched (a phrase for the grade's detail), or ``None`` if they do not.

    Raises:
        Raised: where the official function lets an exception escape.
    """
    comparer = _Comparer(settings, ops)
    return comparer.reason if comparer.equal(prediction, reference, pi) else None
