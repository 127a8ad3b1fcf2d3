"""Delta thresholds (``delta.hard_accuracy>=-0.02``): each row's test of its margin.

A row ``delta >= m`` with ``m <= 0`` is a "no worse than" row: it tests H0: delta >= m and
fails on a significant shortfall. A row ``delta >= m`` with ``m > 0`` asks for an improvement
("must improve"): it tests H0: delta <= m and passes only on a significant improvement, so
identical runs fail it as "no improvement shown", never as a regression. ``<=``/``<`` rows are
the mirror images; ``>`` is judged like ``>=`` (delta is a continuous parameter).

A row's p-value is the larger of two one-sided p-values (both tests must reject):

1. the paired bootstrap's: the share of resampled deltas on the null's side of the margin
   (test inversion of the one-sided percentile bound);
2. the exact paired test of "no change at all" in the same direction (McNemar or sign-flip,
   :mod:`.exact`), which holds the false-alarm rate of a candidate no worse than its baseline
   at or below the level for any number of prompts, where the bootstrap's level is only
   approximate.

The family correction and the verdicts are in :mod:`.gate_eval`.
"""

from __future__ import annotations

from mathif_pytest.compare.paired import ComparisonReport, MetricDelta
from mathif_pytest.compare.row_statistics import RowStatistics
from mathif_pytest.gate import GateRow, Threshold
from mathif_pytest.stats import Rate

__all__ = ["delta_statistics", "no_worse_fails"]


def no_worse_fails(
    estimate: float, bootstrap_p: float, exact_p: float, margin: float, level: float
) -> bool:
    """The verdict of one "no worse than" row tested at ``level`` on its own.

    Fails iff the estimate is below the margin and both one-sided p-values (the bootstrap's of
    the margin, the exact test's of "no regression") are below the level. The family
    correction replaces ``level`` by the comparison of the adjusted p with alpha.
    """
    return estimate < margin and max(bootstrap_p, exact_p) < level


def _points(value: float) -> str:
    return f"{100 * value:+.2f} pts"


def delta_statistics(threshold: Threshold, report: ComparisonReport) -> RowStatistics | GateRow:
    """A delta row's test statistics, or a failed row when nothing can be compared.

    A threshold whose metric has no shared prompts fails: a gate never passes on missing data.
    """
    delta = report.metric(threshold.metric)
    if delta is None or delta.prompts == 0:
        where = f" in group {report.group!r}" if report.group else ""
        reason = f"no prompts shared with the baseline{where} for {threshold.metric}"
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    sign = 1.0 if threshold.op in (">=", ">") else -1.0
    margin = sign * threshold.value
    improve = margin > 0  # in the row's own direction: "must improve" (or "must drop")
    # P*(sign * delta* >= margin) for "no worse"; P*(sign * delta* <= margin) for "improve".
    below = (sign > 0) == improve
    bootstrap_p = delta.bootstrap_p(threshold.value, below=below)
    regression_side = (sign > 0) != improve
    exact_p = delta.test.p_regression if regression_side else delta.test.p_improvement
    estimate = sign * delta.delta
    model = None if improve else (delta.model if sign > 0 else delta.model.mirrored())
    null_op = ("<=" if sign > 0 else ">=") if improve else ("<=" if sign < 0 else ">=")
    return RowStatistics(
        threshold=threshold,
        kind="must-improve" if improve else "no-worse",
        null=f"delta {null_op} {threshold.value:+g}",
        p_value=max(bootstrap_p, exact_p),
        components=(("bootstrap", bootstrap_p), (f"{delta.test.method} at 0", exact_p)),
        rate=Rate(
            successes=delta.delta * delta.prompts, n=delta.prompts, low=delta.low, high=delta.high
        ),
        observed=_observed(delta, below, report.options.alpha),
        past_margin=estimate > margin if improve else estimate < margin,
        margin=margin,
        model=model,
        pairing=report.pairing.mode,
        pairing_note=report.pairing.sentence(),
    )


def _observed(delta: MetricDelta, lower: bool, alpha: float) -> str:
    """The estimate and the one-sided bound that must clear the margin for a rejection."""
    bound, side = (delta.lower_bound, "lower") if lower else (delta.upper_bound, "upper")
    return (
        f"delta {_points(delta.delta)} over {delta.prompts} prompts, one-sided "
        f"{1 - alpha:.0%} {side} bound {_points(bound)}"
    )
