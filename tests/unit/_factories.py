"""Builders of results for tests of the pure modules (no model, no grading)."""

from __future__ import annotations

from collections.abc import Sequence

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.grading import AnswerGrade, Grade
from mathif_pytest.results import CaseResult


def case(
    uid: str,
    follow: Sequence[bool] = (True,),
    correct: bool = True,
    *,
    sample: int = 0,
    source: str = "gsm8k",
    level: str | None = None,
    ids: Sequence[str] | None = None,
    outcome: AnswerGrade | None = None,
) -> CaseResult:
    ids = tuple(ids or [f"c:{i}" for i in range(len(follow))])
    grade = Grade(
        outcome=outcome or (AnswerGrade.CORRECT if correct else AnswerGrade.INCORRECT),
        extracted="1",
        reference="1",
        detail="test",
    )
    return CaseResult(
        uid=uid,
        sample=sample,
        source=source,
        level=level or ("single", "double", "triple")[len(ids) - 1],
        constraint_ids=ids,
        verdicts=tuple(
            Verdict(constraint_id=i, followed=f, detail="d")
            for i, f in zip(ids, follow, strict=True)
        ),
        grade=grade,
    )
