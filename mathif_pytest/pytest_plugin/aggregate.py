"""Controller side: gather per-case results from reports, summarise each suite, apply the gate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mathif_pytest.analyses import ConstraintCost, constraint_cost, headline_cases
from mathif_pytest.gate import (
    GateReport,
    GateRow,
    RunOutcome,
    Threshold,
    decide_exit_status,
    evaluate_constraint_cost,
    evaluate_gate,
)
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Summary, summarize

if TYPE_CHECKING:
    from mathif_pytest.compare import ComparisonReport, GateOptions

__all__ = ["RunAggregator", "RunReport", "SuiteReport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteReport:
    """One suite's outcome.

    Attributes:
        name: the suite's name.
        summary: metrics over the suite's cases, quarantined ones excluded (in a suite that
            asks its prompts both ways: over the constrained ones, see
            :func:`~mathif_pytest.analyses.headline_cases`).
        gate: every threshold's verdict.
        cases: every scored response, quarantined ones included.
        quarantined: uids that ran but that the gate ignored.
        errors: uids that errored (no response, backend failure, crash).
        comparison: the paired comparison with ``--mathif-baseline`` (quarantined uids left out
            of both runs), None without a baseline.
        power: for a gate without ``delta.*`` rows, what two unpaired runs of this size can
            tell apart (minimum detectable effect), or "". Delta rows carry their own power
            (``row.test.power``).
        constraint_cost: correctness with vs without constraints, paired by prompt (a
            ``constraints: both`` suite), None otherwise.
    """

    name: str
    summary: Summary
    gate: GateReport
    cases: tuple[CaseResult, ...]
    quarantined: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    comparison: ComparisonReport | None = None
    power: str = ""
    constraint_cost: ConstraintCost | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """The session's MathIF outcome: suites, the decided exit status, generation counts."""

    suites: tuple[SuiteReport, ...]
    outcome: RunOutcome
    exit_status: int
    generation: Mapping[str, Any] = field(default_factory=dict)

    @property
    def gate_passed(self) -> bool:
        """Every suite's gate passed."""
        return all(s.gate.passed for s in self.suites)


@dataclass(slots=True)
class _SuiteState:
    # Keyed by (uid, constrained, sample): a run with and without constraints asks each uid twice.
    cases: dict[tuple[str, bool, int], CaseResult] = field(default_factory=dict)
    quarantined: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RunAggregator:
    """Accumulates what the controller sees in ``pytest_runtest_logreport``."""

    suites: dict[str, _SuiteState] = field(default_factory=dict)
    mathif_cases: int = 0
    mathif_failures: int = 0
    mathif_errors: int = 0
    other_failures: int = 0
    generation: dict[str, Any] = field(default_factory=dict)

    def add_case(
        self, suite: str, cases: Sequence[CaseResult], *, passed: bool, quarantined: bool
    ) -> None:
        """Record a MathIF case that ran to its verdict (passed or failed)."""
        state = self.suites.setdefault(suite, _SuiteState())
        for case in cases:
            state.cases[(case.uid, case.constrained, case.sample)] = case
        if quarantined and cases:
            state.quarantined.add(cases[0].uid)
        self.mathif_cases += 1
        self.mathif_failures += not passed

    def add_error(self, suite: str, uid: str) -> None:
        """Record a MathIF case that errored."""
        self.suites.setdefault(suite, _SuiteState()).errors.append(uid)
        self.mathif_cases += 1
        self.mathif_errors += 1

    def add_other_failure(self) -> None:
        """Record a failed or errored test that is not a MathIF case."""
        self.other_failures += 1

    def add_generation(self, stats: Mapping[str, Any]) -> None:
        """Keep the report of the process that generated most (under xdist one generates).

        The other workers report the same responses as reused; their counts are not added.
        """
        if not self.generation or stats.get("generated", 0) > self.generation.get("generated", 0):
            self.generation = dict(stats)

    def finish(
        self,
        pytest_status: int,
        gates: Mapping[str, Sequence[Threshold]],
        policy: Mapping[str, Any],
        baseline: Sequence[CaseResult] | None = None,
    ) -> RunReport:
        """Summarise each suite, evaluate its gate and decide the exit status.

        Args:
            pytest_status: what pytest would return on its own.
            gates: suite name → thresholds.
            policy: ``max_ungradable`` (fraction), ``strict`` (bool), and how tested rows are
                judged: ``alpha`` (family-wise level), ``correction`` (``holm``/``none``),
                ``absolute`` (``point``/``significant``), ``min_power`` and
                ``min_power_drop`` (see :class:`~mathif_pytest.compare.GateOptions`).
            baseline: a previous run's cases, for the paired comparison and ``delta.*``.
        """
        reports = tuple(
            _suite_report(name, state, gates.get(name, ()), baseline, policy)
            for name, state in sorted(self.suites.items())
        )
        all_cases = [c for r in reports for c in r.cases]
        ungradable = sum(c.grade.outcome.value == "ungradable" for c in all_cases)
        outcome = RunOutcome(
            pytest_status=pytest_status,
            mathif_cases=self.mathif_cases,
            mathif_failures=self.mathif_failures,
            mathif_errors=self.mathif_errors,
            other_failures=self.other_failures,
            ungradable_share=ungradable / len(all_cases) if all_cases else 0.0,
            max_ungradable=float(policy.get("max_ungradable", 1.0)),
            strict=bool(policy.get("strict", False)),
        )
        combined = GateReport(rows=tuple(row for r in reports for row in r.gate.rows))
        status = decide_exit_status(outcome, combined)
        return RunReport(
            suites=reports, outcome=outcome, exit_status=status, generation=dict(self.generation)
        )


def _suite_report(
    name: str,
    state: _SuiteState,
    thresholds: Sequence[Threshold],
    baseline: Sequence[CaseResult] | None,
    policy: Mapping[str, Any],
) -> SuiteReport:
    cases = tuple(state.cases[k] for k in sorted(state.cases))
    gated = [c for c in cases if c.uid not in state.quarantined]
    headline = headline_cases(gated)
    summary = summarize(headline)
    plain = [t for t in thresholds if not t.constraint_cost]
    kept = None
    if baseline is not None:
        kept = headline_cases([c for c in baseline if c.uid not in state.quarantined])
    gate, comparison = _gate(summary, headline, kept, plain, policy)
    cost = constraint_cost(gated) if len(headline) < len(gated) else None
    cost_rows = evaluate_constraint_cost(cost, [t for t in thresholds if t.constraint_cost])
    return SuiteReport(
        name=name,
        summary=summary,
        gate=GateReport(rows=_in_order(thresholds, gate, cost_rows)),
        cases=cases,
        quarantined=tuple(sorted(state.quarantined)),
        errors=tuple(state.errors),
        comparison=comparison,
        power=_power_line(summary, plain, policy),
        constraint_cost=cost,
    )


def _gate(
    summary: Summary,
    cases: Sequence[CaseResult],
    baseline: Sequence[CaseResult] | None,
    thresholds: Sequence[Threshold],
    policy: Mapping[str, Any],
) -> tuple[GateReport, ComparisonReport | None]:
    """The gate on the summary (and the baseline comparison, with a baseline or a test)."""
    tested = any(t.relative_to_baseline for t in thresholds) or policy.get("absolute") == (
        "significant"
    )
    if baseline is None and not tested:
        return evaluate_gate(summary, thresholds), None
    from mathif_pytest.compare import compare_runs, evaluate_gate_with_baseline

    options = _gate_options(policy)
    gate = evaluate_gate_with_baseline(summary, cases, baseline, thresholds, options)
    comparison = None if baseline is None else compare_runs(baseline, cases, options.compare)
    return gate, comparison


def _in_order(
    thresholds: Sequence[Threshold], plain: GateReport, cost: GateReport
) -> tuple[GateRow, ...]:
    """Both reports' rows (each in its thresholds' order) in the order the gate was written."""
    rows = {False: iter(plain.rows), True: iter(cost.rows)}
    return tuple(next(rows[t.constraint_cost]) for t in thresholds)


def _gate_options(policy: Mapping[str, Any]) -> GateOptions:
    from mathif_pytest.compare import CompareOptions, GateOptions

    min_power, drop = policy.get("min_power"), policy.get("min_power_drop")
    return GateOptions(
        compare=CompareOptions(alpha=float(policy.get("alpha", 0.05))),
        correction=str(policy.get("correction", "holm")),
        absolute=str(policy.get("absolute", "point")),
        min_power=None if min_power is None else float(min_power),
        min_power_drop=None if drop is None else float(drop),
    )


def _power_line(
    summary: Summary, thresholds: Sequence[Threshold], policy: Mapping[str, Any]
) -> str:
    if any(t.relative_to_baseline for t in thresholds):
        return ""  # each delta row states its own power
    from mathif_pytest.compare import describe_power

    try:
        return describe_power(summary, alpha=float(policy.get("alpha", 0.05)))
    except ValueError:  # too few prompts for the approximation
        return ""
