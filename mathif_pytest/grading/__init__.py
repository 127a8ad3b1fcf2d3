"""Correctness grading: split off the reasoning, extract the final answer, grade it.

Decisions follow the official MathIF grader (``prime_math.compute_score``); the differences are
deliberate and documented in :mod:`mathif_pytest.grading.answer`. Importing this package is
cheap: sympy and pylatexenc load on first use (sympy only in the worker processes).
"""

from __future__ import annotations

from mathif_pytest.grading.answer import (
    AnswerGrade,
    Grade,
    Grader,
    extract_answer,
    grade_answer,
)
from mathif_pytest.grading.extract import ResponseParts, split_response

__all__ = [
    "AnswerGrade",
    "Grade",
    "Grader",
    "ResponseParts",
    "extract_answer",
    "grade_answer",
    "split_response",
]
