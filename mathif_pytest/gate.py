"""The gate: thresholds on pass rates, their verdicts, and the one function owning the exit code."""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate_evidence import RowTest
from mathif_pytest.stats import METRICS, Rate, Summary

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

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_EXPRESSION = re.compile(
    r"^\s*(?P<metric>[a-z_.]+)\s*(?:\[\s*(?P<group>[^\]]+?)\s*\])?\s*"
    r"(?P<op>>=|<=|>|<)\s*(?P<value>-?[0-9]*\.?[0-9]+)\s*(?P<percent>%?)\s*$"
)
_FORM = (
    "METRIC[GROUP]>=VALUE, e.g. hard_accuracy>=0.40, correctness[aime]>=20%, "
    "delta.hard_accuracy>=-0.02 or constraint_cost.correctness<=0.10"
)
#: ``constraint_cost[aime].correctness`` is written ``constraint_cost.correctness[aime]``.
_COST_GROUP_FIRST = re.compile(r"^\s*constraint_cost\s*\[([^\]]+)\]\s*\.\s*([a-z_]+)")
#: A metric written ``delta.<metric>`` is a change against a baseline run (candidate - baseline).
DELTA_PREFIX = "delta."
#: The metrics a delta threshold may name (``compliance`` is a per-instance rate, not paired).
DELTA_METRICS = ("hard_accuracy", "soft_accuracy", "correctness")
#: The constraint cost (a ``constraints: both`` suite): ``constraint_cost.correctness`` is the
#: drop ``without - with`` in correctness, ``constraint_cost.relative_correctness`` that drop
#: over the correctness without constraints; ``constraint_cost`` alone means the first.
COST_METRICS = ("constraint_cost.correctness", "constraint_cost.relative_correctness")


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """One gate condition: ``metric[group] op value``.

    Attributes:
        metric: ``hard_accuracy``, ``soft_accuracy``, ``correctness`` or ``compliance``.
        group: ``None`` for overall, else a source, level or constraint id.
        op: one of ``>=``, ``>``, ``<=``, ``<``.
        value: the bound, as a fraction in [0, 1] (in [-1, 1] for a delta threshold).
        text: the expression as written (for messages).
        relative_to_baseline: a ``delta.<metric>`` threshold: ``value`` bounds the change
            candidate - baseline, judged by a paired test against a baseline run
            (:mod:`mathif_pytest.compare`); :func:`evaluate_gate` alone cannot judge it.
    """

    metric: str
    group: str | None
    op: str
    value: float
    text: str
    relative_to_baseline: bool = False

    @property
    def constraint_cost(self) -> bool:
        """A ``constraint_cost.*`` threshold: judged on the paired with/without correctness."""
        return self.metric in COST_METRICS

    @property
    def in_points(self) -> bool:
        """Its value is a difference of rates (a delta or the absolute constraint cost)."""
        return self.relative_to_baseline or self.metric == COST_METRICS[0]

    @property
    def label(self) -> str:
        """``metric[group]`` or ``metric`` (``delta.metric…`` for a delta threshold)."""
        name = f"{DELTA_PREFIX}{self.metric}" if self.relative_to_baseline else self.metric
        return f"{name}[{self.group}]" if self.group else name

    def holds(self, observed: float) -> bool:
        """Whether an observed rate satisfies the condition."""
        return _OPERATORS[self.op](observed, self.value)


def parse_threshold(text: str) -> Threshold:
    """Parse ``hard_accuracy>=0.40``, ``correctness[aime]>=20%``, ``delta.hard_accuracy>=-0.02``.

    A ``delta.`` metric (``hard_accuracy``, ``soft_accuracy``, ``correctness``) bounds the change
    against a baseline run; its value may be negative.

    A rate bound is a fraction in [0, 1] (``0.40``) or a percentage in [0%, 100%] (``40%``);
    a delta bound lies in [-1, 1] (or [-100%, 100%]). ``hard_accuracy>=10`` is an error, not
    1000%.

    Raises:
        GateSpecError: not of that form, an unknown metric (with a did-you-mean), or a bound
            outside its range (with the fraction and the percentage the user may have meant).
    """
    match = _EXPRESSION.match(_COST_GROUP_FIRST.sub(r"constraint_cost.\2[\1]", text))
    if not match:
        raise GateSpecError(f"{text!r} is not a gate expression; use {_FORM}")
    written = match["metric"]
    if written == "constraint_cost":
        written = COST_METRICS[0]
    relative = written.startswith(DELTA_PREFIX)
    metric = written[len(DELTA_PREFIX) :] if relative else written
    if metric not in (DELTA_METRICS if relative else (*METRICS, *COST_METRICS)):
        known = [*METRICS, *(DELTA_PREFIX + m for m in DELTA_METRICS), *COST_METRICS]
        close = difflib.get_close_matches(written, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
        raise GateSpecError(f"{text!r}: unknown metric {written!r}{hint}")
    value = float(match["value"]) / (100 if match["percent"] else 1)
    signed = relative or metric in COST_METRICS
    _check_range(text, value, signed, written_as_percent=bool(match["percent"]))
    return Threshold(
        metric=metric,
        group=match["group"],
        op=match["op"],
        value=value,
        text=text,
        relative_to_baseline=relative,
    )


def _check_range(text: str, value: float, relative: bool, *, written_as_percent: bool) -> None:
    """A rate bound in [0, 1], a delta bound in [-1, 1]; the message offers both spellings."""
    low = -1.0 if relative else 0.0
    if low <= value <= 1.0:
        return
    written = f"{100 * value:g}%" if written_as_percent else f"{value:g}"
    if relative and text.strip().startswith("constraint_cost"):
        raise GateSpecError(
            f"{text!r}: a constraint cost is a difference of rates between -1 and 1 (got "
            f"{written}); write e.g. constraint_cost.correctness<=0.10 or <=10%"
        )
    if relative:
        raise GateSpecError(
            f"{text!r}: a delta is a difference of rates between -1 and 1 (got {written}); "
            "write e.g. delta.hard_accuracy>=-0.02 or delta.hard_accuracy>=-2%"
        )
    hint = (
        f"; did you mean {value / 100:g} ({value:g}%)?"
        if not written_as_percent and 1 < value <= 100
        else ""
    )
    raise GateSpecError(
        f"{text!r}: a rate bound is a fraction between 0 and 1 or a percentage between 0% "
        f"and 100% (got {written}){hint}"
    )


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


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """What happened in the pytest session, as the exit-status policy needs it.

    Attributes:
        pytest_status: the exit status pytest would return on its own.
        mathif_cases: MathIF cases that ran (passed or failed).
        mathif_failures: MathIF cases that failed on their constraints or answer.
        mathif_errors: MathIF cases that errored (backend error, missing response, crash).
        other_failures: failed or errored tests that are not MathIF cases.
        ungradable_share: share of MathIF responses whose answer could not be graded.
        max_ungradable: the largest tolerated ``ungradable_share``.
        strict: every failed MathIF case fails the run (pytest's own behaviour).
    """

    pytest_status: int
    mathif_cases: int
    mathif_failures: int
    mathif_errors: int
    other_failures: int
    ungradable_share: float = 0.0
    max_ungradable: float = 1.0
    strict: bool = False


#: pytest's exit codes (``pytest.ExitCode``), spelled here so the library need not import pytest.
OK, TESTS_FAILED, INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR, NO_TESTS_COLLECTED = 0, 1, 2, 3, 4, 5


def decide_exit_status(outcome: RunOutcome, gate: GateReport) -> int:
    """The run's exit status. The only place where this policy lives.

    1. Interrupts, internal errors, usage errors and "no tests collected" keep pytest's status.
    2. A session in which no MathIF case ran keeps pytest's status (nothing to gate).
    3. Errors anywhere (MathIF cases included), failures of tests that are not MathIF cases, and
       ungradable answers above ``max_ungradable`` fail the run (1): the gate never masks them.
    4. With ``strict``, any failed MathIF case fails the run (1).
    5. Otherwise failed MathIF cases are expected (most samples fail for any real model): the
       status is the gate's verdict, 0 when every threshold holds, else 1.
    """
    if outcome.pytest_status in (INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR, NO_TESTS_COLLECTED):
        return outcome.pytest_status
    if outcome.mathif_cases == 0:
        return outcome.pytest_status
    if outcome.mathif_errors or outcome.other_failures:
        return TESTS_FAILED
    if outcome.ungradable_share > outcome.max_ungradable:
        return TESTS_FAILED
    if outcome.strict and outcome.mathif_failures:
        return TESTS_FAILED
    if outcome.pytest_status not in (OK, TESTS_FAILED):
        return outcome.pytest_status
    return OK if gate.passed else TESTS_FAILED
