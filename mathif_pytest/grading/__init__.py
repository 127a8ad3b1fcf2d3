"""Correctness grading: split off the reasoning, extract the final answer, grade it.

Decisions follow the official MathIF grader (``prime_math.compute_score``); the differences are
deliberate and documented in :mod:`mathif_pytest.grading.answer`. Importing this package is
cheap: sympy and pylatexenc load on first use (sympy only in the worker processes), and the
grader itself (``Grader``, ``grade_answer``, ``extract_answer``) on first access, so that a
process that only splits responses and reads grades (the pytest process, whose scoring runs in
worker processes) does not import, nor have pytest assertion-rewrite, the grading machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mathif_pytest.grading._grades import AnswerGrade, Grade
from mathif_pytest.grading.extract import ResponseParts, split_response

if TYPE_CHECKING:
    from mathif_pytest.grading.answer import Grader, extract_answer, grade_answer

__all__ = [
    "AnswerGrade",
    "Grade",
    "Grader",
    "ResponseParts",
    "extract_answer",
    "grade_answer",
    "split_response",
]


_LAZY = frozenset({"Grader", "extract_answer", "grade_answer"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from mathif_pytest.grading import answer

        return getattr(answer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
