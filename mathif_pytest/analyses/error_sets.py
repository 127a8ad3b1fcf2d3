"""Error sets (paper Figure 4): constraints followed or not, crossed with the answer right or not.

Over the responses to prompts with constraints, one count per response: the 2x2 table and the
conditional correctness P(correct | all followed) and P(correct | some violated), each with its
95% Wilson interval.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Rate

__all__ = ["ErrorSet", "ErrorSets", "error_sets"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorSet:
    """The 2x2 of (all constraints followed) x (answer correct) over some responses."""

    followed_correct: int
    followed_wrong: int
    violated_correct: int
    violated_wrong: int

    @property
    def responses(self) -> int:
        """All four cells."""
        return (
            self.followed_correct
            + self.followed_wrong
            + self.violated_correct
            + self.violated_wrong
        )

    def correct_given_followed(self) -> Rate | None:
        """P(correct | every constraint followed), None when none was."""
        n = self.followed_correct + self.followed_wrong
        return _rate(self.followed_correct, n)

    def correct_given_violated(self) -> Rate | None:
        """P(correct | some constraint violated), None when none was."""
        n = self.violated_correct + self.violated_wrong
        return _rate(self.violated_correct, n)

    def to_dict(self) -> dict[str, Any]:
        """The four counts, ``n``, and both conditional rates (null when undefined)."""
        given_f, given_v = self.correct_given_followed(), self.correct_given_violated()
        return {
            "n": self.responses,
            "followed_correct": self.followed_correct,
            "followed_wrong": self.followed_wrong,
            "violated_correct": self.violated_correct,
            "violated_wrong": self.violated_wrong,
            "p_correct_given_followed": None if given_f is None else given_f.to_dict(),
            "p_correct_given_violated": None if given_v is None else given_v.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorSets:
    """Error sets over all constrained responses, and per source."""

    overall: ErrorSet
    by_source: dict[str, ErrorSet] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{**overall, "by_source": {...}}``."""
        return {
            **self.overall.to_dict(),
            "by_source": {k: v.to_dict() for k, v in self.by_source.items()},
        }


def error_sets(results: Iterable[CaseResult]) -> ErrorSets | None:
    """The error sets of the constrained responses; None when there are none."""
    constrained = [r for r in results if r.constrained]
    if not constrained:
        return None
    by_source: dict[str, list[CaseResult]] = defaultdict(list)
    for result in constrained:
        by_source[result.source].append(result)
    return ErrorSets(
        overall=_cells(constrained),
        by_source={k: _cells(v) for k, v in sorted(by_source.items())},
    )


def _cells(results: Sequence[CaseResult]) -> ErrorSet:
    def count(followed: bool, correct: bool) -> int:
        return sum(bool(r.hard) is followed and r.correct is correct for r in results)

    return ErrorSet(
        followed_correct=count(True, True),
        followed_wrong=count(True, False),
        violated_correct=count(False, True),
        violated_wrong=count(False, False),
    )


def _rate(successes: int, n: int) -> Rate | None:
    return Rate.of([1.0] * successes + [0.0] * (n - successes)) if n else None
