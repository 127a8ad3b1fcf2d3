"""The gate: thresholds on pass rates, their verdicts, and the one function owning the exit code.

:mod:`.thresholds` parses the expressions, this module judges them against a run's summary, and
:mod:`.exit_status` decides the run's exit status; :mod:`.evidence` holds what a row decided by a
statistical test carries.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mathif_pytest.gate.evidence import RowTest
from mathif_pytest.gate.exit_status import RunOutcome, decide_exit_status
from mathif_pytest.gate.thresholds import (
    COST_METRICS,
    DELTA_METRICS,
    DELTA_PREFIX,
    Threshold,
    parse_threshold,
)
from mathif_pytest.stats import Rate, Summary

if TYPE_CHECKING:
    from mathif_pytest.analyses import ConstraintCost

__all__ = [
    "COST_METRICS",
    "DELTA_METRICS",
    "DELTA_PREFIX",
    "GateReport",
    "GateRow",
    "RunOutcome",
    "Threshold",
    "decide_exit_status",
    "evaluate_constraint_cost",
    "evaluate_gate",
    "parse_threshold",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GateRow:
    """A threshold's verdict: the observed rate (None if it could not be measured) and why.

    Attributes:
        threshold: the condition.
        rate: the observed rate (for a delta row: the delta, with its bootstrap interval).
        passed: the verdict.
        reason: one sentence that explains it.
        test: for rows decided by a test (``delta.*`` rows, absolute rows with
            ``--mathif-absolute significant``): the p-values, the family, the power.
    """

    threshold: Threshold
    rate: Rate | None
    passed: bool
    reason: str
    test: RowTest | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"threshold", "passed", "observed", "reason", "test"}`` (the results JSON row)."""
        return {
            "threshold": self.threshold.text,
            "passed": self.passed,
            "observed": None if self.rate is None else self.rate.to_dict(),
            "reason": self.reason,
            "test": None if self.test is None else self.test.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GateReport:
    """Every threshold's verdict. A gate with no thresholds passes vacuously."""

    rows: tuple[GateRow, ...]

    @property
    def passed(self) -> bool:
        """All thresholds hold."""
        return all(row.passed for row in self.rows)


def evaluate_gate(summary: Summary, thresholds: Sequence[Threshold]) -> GateReport:
    """Check each threshold against the summary's point estimates.

    A threshold whose group has no samples, or whose metric does not apply (hard accuracy of a
    run without constraints), FAILS with a reason: a gate never passes on missing data. So does a
    delta threshold (it needs a baseline run; with one, use
    :func:`mathif_pytest.compare.evaluate_gate_with_baseline`).
    """
    return GateReport(rows=tuple(_evaluate(summary, t) for t in thresholds))


def evaluate_constraint_cost(
    cost: ConstraintCost | None, thresholds: Sequence[Threshold]
) -> GateReport:
    """Judge ``constraint_cost.*`` thresholds on a suite's paired constraint cost.

    The observed value is the drop ``without - with`` (or that drop over the correctness
    without constraints), with its 95% interval; the verdict compares the point estimate. No
    paired prompts (a suite without ``constraints: both``), or no prompt of the group, FAILS.
    """
    return GateReport(rows=tuple(_cost_row(cost, t) for t in thresholds))


def _cost_row(cost: ConstraintCost | None, threshold: Threshold) -> GateRow:
    row = None if cost is None else cost.group(threshold.group)
    if row is None:
        reason = (
            "no prompt was asked both with and without its constraints (constraints: both)"
            if cost is None
            else f"no paired prompts in group {threshold.group!r}"
        )
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    value, low, high = row.drop, row.low, row.high
    if threshold.metric != COST_METRICS[0]:
        if row.relative_drop is None:
            reason = "no answer was correct without constraints: the relative drop is undefined"
            return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
        base = row.without_constraints
        value, low, high = row.relative_drop, low / base, high / base
    rate = Rate(successes=value * row.prompts, n=row.prompts, low=low, high=high)
    passed = threshold.holds(value)
    verdict = "satisfies" if passed else "violates"
    reason = (
        f"{value:+.4f} {verdict} {threshold.op} {threshold.value:g} (correctness "
        f"{row.without_constraints:.4f} without, {row.with_constraints:.4f} with constraints; "
        f"exact paired p={row.test.p_two_sided:.3g})"
    )
    return GateRow(threshold=threshold, rate=rate, passed=passed, reason=reason)


def _evaluate(summary: Summary, threshold: Threshold) -> GateRow:
    if threshold.constraint_cost:
        reason = f"{threshold.label} is judged on the suite's constraint cost, not its summary"
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    if threshold.relative_to_baseline:
        reason = (
            f"{threshold.label} compares with a baseline run; pass --mathif-baseline RESULTS.json"
        )
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    group = summary.group(threshold.group)
    if group is None:
        close = difflib.get_close_matches(threshold.group or "", summary.group_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        reason = f"no samples in group {threshold.group!r}{hint}"
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    if group.prompts == 0:
        reason = "no sample was scored (see the errors above)"
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    rate = group.metric(threshold.metric)
    if rate is None or rate.n == 0:
        reason = f"{threshold.metric} does not apply to {threshold.group or 'this run'}"
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    passed = threshold.holds(rate.value)
    verdict = "satisfies" if passed else "violates"
    reason = f"{rate.value:.4f} {verdict} {threshold.op} {threshold.value:g}"
    return GateRow(threshold=threshold, rate=rate, passed=passed, reason=reason)
