"""One MathIF test case: the sample, its responses, their scores, and the assertion message."""

from __future__ import annotations

from dataclasses import dataclass

from mathif_pytest.dataset import Sample
from mathif_pytest.grading import ResponseParts
from mathif_pytest.results import CaseResult

__all__ = ["CaseFailure", "CaseSpec", "MathIFCase"]


class CaseFailure(AssertionError):
    """A case did not pass: a constraint was violated or the answer is wrong (expected, no bug)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseSpec:
    """What a collected item runs (stashed on the pytest item).

    Attributes:
        suite: the suite's name.
        sample: the MathIF sample.
        constrained: whether the prompt carries the constraints (and they are scored).
        quarantined: the suite lists this uid as known-flaky: it runs, the gate ignores it.
    """

    suite: str
    sample: Sample
    constrained: bool
    quarantined: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MathIFCase:
    """The ``mathif_case`` fixture's value: everything about one sample's scored responses.

    Attributes:
        spec: what was collected.
        prompt: the user-turn text sent to the model.
        responses: the raw responses, one per sample index.
        parts: each response split into thinking and answer.
        results: each response's scores.
        baseline: the same prompt's results in the ``--mathif-baseline`` run (empty without one).
    """

    spec: CaseSpec
    prompt: str
    responses: tuple[str, ...]
    parts: tuple[ResponseParts, ...]
    results: tuple[CaseResult, ...]
    baseline: tuple[CaseResult, ...] = ()

    def regressions(self) -> list[str]:
        """What got worse since the baseline, per response paired by sample index."""
        before = {r.sample: r for r in self.baseline if r.constrained == self.spec.constrained}
        lines = []
        for result in self.results:
            old = before.get(result.sample)
            if old is None:
                continue
            if old.hard and result.hard is False:
                broken = ", ".join(v.constraint_id for v in result.violations)
                lines.append(f"regressed since the baseline: constraints followed, now {broken}")
            if old.correct and not result.correct:
                lines.append("regressed since the baseline: the answer was correct, now it is not")
        return lines

    @property
    def constraints_followed(self) -> bool:
        """Every response followed every constraint (vacuously true without constraints)."""
        return all(r.hard is not False for r in self.results)

    @property
    def correct(self) -> bool:
        """Every response's final answer is right."""
        return all(r.correct for r in self.results)

    @property
    def passed(self) -> bool:
        """Constraints followed and answers right, for every response."""
        return self.constraints_followed and self.correct

    def explain(self) -> str:
        """Why the case failed: violated constraints, a wrong answer, regressions vs baseline."""
        if len(self.results) == 1:
            text = self.results[0].explain()
        else:
            blocks = [
                f"response {r.sample}:\n  " + r.explain().replace("\n", "\n  ")
                for r in self.results
                if not (r.hard is not False and r.correct)
            ]
            text = "\n".join(blocks) or "all responses passed"
        return "\n".join([text, *self.regressions()])

    def check(self) -> None:
        """Raise :class:`CaseFailure` with :meth:`explain` unless the case passed."""
        if not self.passed:
            raise CaseFailure(f"{self.spec.sample.uid}: {self.explain()}")
