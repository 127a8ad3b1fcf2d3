"""The grade records: :class:`AnswerGrade`, :class:`Grade`, and how their details are worded."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mathif_pytest.grading._match import Extraction

if TYPE_CHECKING:
    from mathif_pytest.grading._decide import Decision

__all__ = ["AnswerGrade", "Grade", "from_decision", "internal_error", "make_grade"]

_SHOWN_CHARS = 80


class AnswerGrade(enum.Enum):
    """The outcome of grading one answer."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    #: The grader timed out or failed internally; count it as not correct.
    UNGRADABLE = "ungradable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Grade:
    """One graded answer.

    Attributes:
        outcome: correct, incorrect or ungradable.
        extracted: the final answer that was graded; ``None`` when there was none (empty).
        reference: the reference answer.
        detail: one sentence saying why, e.g. "extracted '52.' equals reference '52'
            numerically".
    """

    outcome: AnswerGrade
    extracted: str | None
    reference: str
    detail: str

    @property
    def correct(self) -> bool:
        """Whether the answer counts as correct (ungradable does not)."""
        return self.outcome is AnswerGrade.CORRECT


def _shorten(text: str) -> str:
    shown = text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
    return repr(shown)


def _verdict_detail(decision: Decision, extraction: Extraction, reference: str) -> str:
    shown, ref = _shorten(extraction.answer), _shorten(reference)
    if decision.correct:
        return f"extracted {shown} equals reference {ref} {decision.how}"
    if not extraction.answer.strip():
        return f"no answer found (the extracted answer is empty); reference {ref}"
    if not (extraction.boxed or extraction.hashed):
        return f"no \\boxed{{}} answer found; the text's last answer {shown} is not {ref}"
    return f"extracted {shown} does not equal reference {ref}"


def make_grade(
    outcome: AnswerGrade, extraction: Extraction | None, reference: str, detail: str
) -> Grade:
    """A grade; ``extracted`` is ``None`` when the extraction is missing or blank."""
    answer = extraction.answer if extraction is not None else None
    return Grade(
        outcome=outcome,
        extracted=answer if answer and answer.strip() else None,
        reference=reference,
        detail=detail,
    )


def from_decision(decision: Decision, extraction: Extraction, reference: str) -> Grade:
    """The grade of a decided answer, with its detail sentence."""
    outcome = AnswerGrade.CORRECT if decision.correct else AnswerGrade.INCORRECT
    detail = _verdict_detail(decision, extraction, reference)
    return make_grade(outcome, extraction, reference, detail)


def internal_error(error: BaseException, extraction: Extraction | None, reference: str) -> Grade:
    """An UNGRADABLE grade for a failure of our own code."""
    detail = f"internal grader error ({type(error).__name__}: {error})"
    return make_grade(AnswerGrade.UNGRADABLE, extraction, reference, detail)
