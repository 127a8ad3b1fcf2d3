"""Absolute thresholds in "significantly below" mode (``--mathif-absolute significant``).

By default an absolute threshold such as ``hard_accuracy>=0.40`` compares the point estimate
with the bound. In this mode the row fails only when the rate is *significantly* below the
bound (above it, for ``<=``): the one-sided score test of H0: rate >= bound, whose inversion is
the Wilson interval the summary prints (with several samples per prompt, on the effective
number of trials of the clustered interval). The row joins the gate's family of tested rows.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from mathif_pytest.compare.row_statistics import RowStatistics
from mathif_pytest.gate import GateRow, Threshold, evaluate_gate
from mathif_pytest.stats import Summary

__all__ = ["ABSOLUTE_MODES", "absolute_statistics", "score_p_value"]

#: ``point``: the estimate against the bound; ``significant``: a test against it.
ABSOLUTE_MODES = ("point", "significant")


def score_p_value(rate: float, trials: float, bound: float) -> float:
    """One-sided p of H0: true rate >= bound, from the score (Wilson) test.

    ``Phi((rate - bound) / sqrt(bound (1 - bound) / trials))``; a bound of 0 is never
    rejected, a bound of 1 is rejected by any failure.
    """
    if bound <= 0 or trials <= 0:
        return 1.0
    if bound >= 1:
        return 0.0 if rate < 1 else 1.0
    z = (rate - bound) / math.sqrt(bound * (1 - bound) / trials)
    return NormalDist().cdf(z)


def absolute_statistics(summary: Summary, threshold: Threshold) -> RowStatistics | GateRow:
    """A "significantly below" row's statistics, or the failed row when it cannot be measured."""
    (row,) = evaluate_gate(summary, [threshold]).rows
    if row.rate is None:
        return row
    rate = row.rate
    upper = threshold.op in (">=", ">")
    if upper:
        p = score_p_value(rate.value, rate.trials, threshold.value)
    else:  # "rate <= bound" is "failures >= 1 - bound"
        p = score_p_value(1 - rate.value, rate.trials, 1 - threshold.value)
    return RowStatistics(
        threshold=threshold,
        kind="significantly-below",
        null=f"{threshold.metric} {'>=' if upper else '<='} {threshold.value:g}",
        p_value=p,
        components=(("score", p),),
        rate=rate,
        observed=f"{rate.value:.4f} over {rate.n} units ({rate.trials:.1f} effective trials)",
        past_margin=rate.value < threshold.value if upper else rate.value > threshold.value,
        margin=threshold.value,
    )
