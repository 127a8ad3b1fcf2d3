"""The whole gate: every row's test, Holm across the tested rows, power, verdicts and reasons.

The family is every row of one gate decided by a test: the ``delta.*`` rows, plus absolute rows
in ``--mathif-absolute significant`` mode. Holm's step-down adjustment keeps the chance that any
of them is decided by a wrong rejection at or below alpha, however many rows a team writes
(``correction="none"`` tests each row at alpha instead: ``--mathif-row-alpha``). "No worse
than" delta rows also get the power of their own test (its margin, metric, size and per-row
level ``alpha / k``); with ``min_power`` a row that cannot reach it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from mathif_pytest.compare.absolute_test import ABSOLUTE_MODES, absolute_statistics
from mathif_pytest.compare.delta_gate import delta_statistics
from mathif_pytest.compare.family import CORRECTIONS, adjust_p_values
from mathif_pytest.compare.paired import CompareOptions, ComparisonReport, compare_runs
from mathif_pytest.compare.power_model import DEFAULT_POWER, row_power
from mathif_pytest.compare.row_statistics import RowStatistics
from mathif_pytest.gate import GateReport, GateRow, Threshold, evaluate_gate
from mathif_pytest.gate.evidence import PowerStatement, RowTest
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Summary

__all__ = ["GateOptions", "evaluate_delta", "evaluate_gate_with_baseline", "judge_rows"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GateOptions:
    """How a gate's tested rows are judged.

    Attributes:
        compare: alpha (family-wise under Holm, else per row), resamples and seed.
        correction: ``holm`` (default) or ``none`` (each row at alpha on its own).
        absolute: ``point`` (absolute rows compare the estimate, default) or ``significant``.
        min_power: fail a "no worse than" delta row whose power is below this.
        min_power_drop: the drop ``min_power`` refers to (None: any drop up to a total
            collapse, i.e. the row must be able to detect something at all).
    """

    compare: CompareOptions = field(default_factory=CompareOptions)
    correction: str = "holm"
    absolute: str = "point"
    min_power: float | None = None
    min_power_drop: float | None = None

    def __post_init__(self) -> None:
        if self.correction not in CORRECTIONS:
            raise ValueError(
                f"correction must be one of {', '.join(CORRECTIONS)} (got {self.correction!r})"
            )
        if self.absolute not in ABSOLUTE_MODES:
            raise ValueError(
                f"absolute must be one of {', '.join(ABSOLUTE_MODES)} (got {self.absolute!r})"
            )
        if self.min_power is not None and not 0 < self.min_power < 1:
            raise ValueError(f"min_power must lie in (0, 1) (got {self.min_power})")
        if self.min_power_drop is not None and not 0 < self.min_power_drop <= 1:
            raise ValueError(f"min_power_drop must lie in (0, 1] (got {self.min_power_drop})")

    @property
    def alpha(self) -> float:
        """The level the adjusted p-values are compared with."""
        return self.compare.alpha

    @property
    def target(self) -> float:
        """The power a row's detectable drop refers to."""
        return self.min_power if self.min_power is not None else DEFAULT_POWER


def evaluate_gate_with_baseline(
    summary: Summary,
    candidate: Sequence[CaseResult],
    baseline: Sequence[CaseResult] | None,
    thresholds: Sequence[Threshold],
    options: GateOptions | None = None,
) -> GateReport:
    """The whole gate, rows in threshold order.

    Absolute thresholds are judged on ``summary`` (the candidate's): by their point estimate,
    or by a test in ``significant`` mode; delta thresholds against ``baseline``, one comparison
    per group named. Without a baseline, delta thresholds fail with "pass --mathif-baseline".
    Then :func:`judge_rows` applies the family correction.
    """
    options = options or GateOptions()
    reports: dict[str | None, ComparisonReport] = {}
    items: list[RowStatistics | GateRow] = []
    for threshold in thresholds:
        if threshold.relative_to_baseline and baseline is not None:
            if threshold.group not in reports:
                reports[threshold.group] = compare_runs(
                    baseline, candidate, options.compare, group=threshold.group
                )
            items.append(delta_statistics(threshold, reports[threshold.group]))
        elif not threshold.relative_to_baseline and options.absolute == "significant":
            items.append(absolute_statistics(summary, threshold))
        else:
            items.append(evaluate_gate(summary, [threshold]).rows[0])
    return GateReport(rows=judge_rows(items, options))


def evaluate_delta(
    threshold: Threshold, report: ComparisonReport, options: GateOptions | None = None
) -> GateRow:
    """Judge one delta threshold on its own (a family of one) against a comparison."""
    options = options or GateOptions(compare=report.options)
    (row,) = judge_rows([delta_statistics(threshold, report)], options)
    return row


def judge_rows(
    items: Sequence[RowStatistics | GateRow], options: GateOptions
) -> tuple[GateRow, ...]:
    """Adjust the tested rows' p-values as one family and turn every item into its row."""
    tested = [item for item in items if isinstance(item, RowStatistics)]
    adjusted = adjust_p_values([s.p_value for s in tested], options.correction)
    family = tuple(s.threshold.text for s in tested)
    holm = options.correction == "holm" and len(tested) > 1
    level = options.alpha / len(tested) if holm else options.alpha
    verdicts = {
        id(s): _judge(s, adjusted_p, family, level, options)
        for s, adjusted_p in zip(tested, adjusted, strict=True)
    }
    return tuple(verdicts[id(i)] if isinstance(i, RowStatistics) else i for i in items)


def _judge(
    stats: RowStatistics,
    adjusted_p: float,
    family: tuple[str, ...],
    level: float,
    options: GateOptions,
) -> GateRow:
    rejected = stats.past_margin and adjusted_p < options.alpha
    power = _power(stats, level, options)
    underpowered = (
        options.min_power is not None
        and power is not None
        and not rejected
        and power.max_drop > 0
        and not power.meets(options.min_power)
    )
    passed = rejected if stats.kind == "must-improve" else not (rejected or underpowered)
    test = RowTest(
        kind=stats.kind,
        null=stats.null,
        p_value=stats.p_value,
        components=stats.components,
        adjusted_p=adjusted_p,
        correction=options.correction,
        family=family,
        alpha=options.alpha,
        rejected=rejected,
        pairing=stats.pairing,
        power=power,
        underpowered=underpowered,
    )
    return GateRow(
        threshold=stats.threshold,
        rate=stats.rate,
        passed=passed,
        reason=_reason(stats, test, options),
        test=test,
    )


def _power(stats: RowStatistics, level: float, options: GateOptions) -> PowerStatement | None:
    """A "no worse than" delta row's power at its per-row level; None for other rows."""
    if stats.model is None:
        return None
    statement = row_power(
        stats.model,
        margin=stats.margin,
        level=level,
        target=options.target,
        required_drop=options.min_power_drop,
    )
    rise = stats.threshold.op in ("<=", "<")
    return replace(statement, change="rise") if rise else statement


def _pts(value: float) -> str:
    return f"{100 * value:+.2f} pts"


def _p_part(stats: RowStatistics, test: RowTest) -> str:
    parts = ", ".join(f"{name} {p:.2g}" for name, p in stats.components)
    text = f"test of {stats.null}: p={stats.p_value:.2g}"
    if len(stats.components) > 1:
        text += f" (max of {parts})"
    if test.correction == "holm" and len(test.family) > 1:
        text += f", Holm-adjusted p={test.adjusted_p:.2g} over {len(test.family)} tested rows"
    elif test.correction == "none":
        text += f", each row at level {test.alpha:g} (no family correction)"
    return text


def _verdict(stats: RowStatistics, test: RowTest) -> str:
    threshold = stats.threshold
    if stats.kind == "significantly-below":
        side = "below" if threshold.op in (">=", ">") else "above"
        if test.rejected:
            return f"significantly {side} {threshold.value:g}"
        return f"not significantly {side} {threshold.value:g}"
    margin = f"the margin {_pts(threshold.value)}"
    if stats.kind == "must-improve":
        change = "improvement" if threshold.op in (">=", ">") else "drop"
        if test.rejected:
            return f"a significant {change} beyond {margin}"
        what = "no significant" if stats.past_margin else "no"
        return (
            f"{what} {change} beyond {margin} shown: a positive margin asks for one "
            f"(write delta.{threshold.metric}>=0 for 'no worse than the baseline')"
        )
    change = "regression" if threshold.op in (">=", ">") else "rise"
    if test.rejected:
        return f"a significant {change} beyond {margin}"
    if not stats.past_margin:
        return f"within {margin}"
    return f"beyond {margin} but not significantly"


def _power_part(power: PowerStatement | None, test: RowTest, options: GateOptions) -> str:
    if power is None:
        return ""
    if power.max_drop <= 0:
        return "; nothing to lose: the baseline is at the bottom of the scale"
    text = f"; {power.sentence()}"
    if test.underpowered:
        wanted = f"power {options.min_power:g}"
        if options.min_power_drop is not None:
            wanted += f" against a drop of {100 * options.min_power_drop:.1f} pts"
        text += f"; FAILS --mathif-min-power: {wanted} is required"
    elif not power.detectable and options.min_power is None:
        text += " (add prompts or samples; --mathif-min-power fails such rows)"
    return text


def _reason(stats: RowStatistics, test: RowTest, options: GateOptions) -> str:
    pairing = f"; {stats.pairing_note}" if stats.pairing_note else ""
    return (
        f"{stats.observed}; {_p_part(stats, test)}: {_verdict(stats, test)}"
        f"{_power_part(test.power, test, options)}{pairing}"
    )
