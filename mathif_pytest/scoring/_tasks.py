"""What the parent sends a scoring worker and what comes back (shared by both sides)."""

from __future__ import annotations

from dataclasses import dataclass

from mathif_pytest.constraints import Checker, Verdict
from mathif_pytest.grading import Grade
from mathif_pytest.protocol import Deviations

__all__ = ["Outcome", "Task", "WorkerSettings"]


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What a chunk is scored with (sent with every chunk, so one pool serves every suite)."""

    deviations: Deviations
    grading_timeout: float
    check_timeout: float


@dataclass(frozen=True, slots=True)
class Task:
    """One response to score: the sample's checkers, the answer segment, the reference."""

    checkers: tuple[Checker, ...]
    answer: str
    reference: str
    constrained: bool


#: A scored response: its verdicts (empty when scored without constraints) and its grade.
Outcome = tuple[tuple[Verdict, ...], Grade]
