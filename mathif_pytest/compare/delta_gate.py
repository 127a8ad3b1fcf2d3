"""Delta thresholds (``delta.hard_accuracy>=-0.02``): fail only on a significant regression."""

from __future__ import annotations

from collections.abc import Sequence

from mathif_pytest.compare.paired import CompareOptions, ComparisonReport, MetricDelta, compare_runs
from mathif_pytest.gate import GateReport, GateRow, Threshold, evaluate_gate
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Rate, Summary

__all__ = [
    "evaluate_delta",
    "evaluate_delta_gate",
    "evaluate_gate_with_baseline",
    "significant_shortfall",
]


def significant_shortfall(
    estimate: float, upper_bound: float, p_regression: float, margin: float, alpha: float
) -> bool:
    """The delta-gate rule for ``delta >= margin``: True (fail) only on a significant shortfall.

    The gate tests H0: delta >= margin against H1: delta < margin at level ``alpha`` and fails
    iff all of these hold:

    1. the observed delta is below the margin (``estimate < margin``);
    2. the one-sided ``1 - alpha`` paired-bootstrap upper bound of delta is below the margin
       (``upper_bound < margin``). ``(-inf, upper_bound]`` is a ``1 - alpha`` confidence set
       for delta, so a margin outside it rejects H0 at level ``alpha`` (test inversion);
    3. when ``margin <= 0``: the exact paired test of "no regression at all" (McNemar or
       sign-flip, H0: delta >= 0) also rejects, ``p_regression < alpha``.

    Why the third condition: the bootstrap's level is only approximate (it can run slightly
    liberal with few prompts or few discordant pairs), while the flake the gate must never
    raise is a candidate that is no worse than the baseline (delta >= 0). Under delta >= 0 the
    exact test alone holds the false-alarm rate at <= alpha for any number of prompts (McNemar
    exactly; the sign-flip test when the runs are exchangeable, as reruns of one checkpoint are),
    and the conjunction can only fail less often, so a rerun of the baseline fails with
    probability <= alpha whatever the margin. Near a negative margin the bootstrap governs (the
    exact test at 0 rejects far earlier), so power is essentially the bootstrap test's. For a
    margin above 0 ("must improve by m") condition 3 would contradict H0, so it is dropped.

    Args:
        estimate: observed delta (candidate - baseline).
        upper_bound: one-sided ``1 - alpha`` upper bootstrap bound of delta.
        p_regression: one-sided exact p-value of H0 "delta >= 0".
        margin: the threshold's value (e.g. -0.02).
        alpha: the level.
    """
    if not (estimate < margin and upper_bound < margin):
        return False
    return margin > 0 or p_regression < alpha


def _fails(threshold: Threshold, delta: MetricDelta, alpha: float) -> bool:
    if threshold.op in (">=", ">"):
        return significant_shortfall(
            delta.delta, delta.upper_bound, delta.test.p_regression, threshold.value, alpha
        )
    # "delta <= m" is the mirror image: negate everything and test "-delta >= -m".
    return significant_shortfall(
        -delta.delta, -delta.lower_bound, delta.test.p_improvement, -threshold.value, alpha
    )


def evaluate_delta(threshold: Threshold, report: ComparisonReport) -> GateRow:
    """Judge one delta threshold against a comparison (see :func:`significant_shortfall`).

    ``>`` and ``>=`` are judged alike (as are ``<`` and ``<=``): delta is a continuous parameter
    and the rule is a test, not a comparison of point estimates. The row's ``rate`` carries the
    delta as its value (``successes = delta * prompts``) and the two-sided bootstrap interval,
    so that printers of rates show ``-3.57 [-5.71, -1.67]``. A threshold whose metric has no
    shared prompts fails: a gate never passes on missing data.
    """
    delta = report.metric(threshold.metric)
    if delta is None or delta.prompts == 0:
        where = f" in group {report.group!r}" if report.group else ""
        reason = f"no prompts shared with the baseline{where} for {threshold.metric}"
        return GateRow(threshold=threshold, rate=None, passed=False, reason=reason)
    alpha = report.options.alpha
    failed = _fails(threshold, delta, alpha)
    rate = Rate(
        successes=delta.delta * delta.prompts, n=delta.prompts, low=delta.low, high=delta.high
    )
    return GateRow(
        threshold=threshold,
        rate=rate,
        passed=not failed,
        reason=_reason(threshold, delta, alpha, failed),
    )


def _points(value: float) -> str:
    return f"{100 * value:+.2f} pts"


def _reason(threshold: Threshold, delta: MetricDelta, alpha: float, failed: bool) -> str:
    upper = threshold.op in (">=", ">")
    bound = delta.upper_bound if upper else delta.lower_bound
    side = "upper" if upper else "lower"
    p = delta.test.p_regression if upper else delta.test.p_improvement
    head = (
        f"delta {_points(delta.delta)} over {delta.prompts} prompts, one-sided "
        f"{1 - alpha:.0%} {side} bound {_points(bound)}, {delta.test.method} one-sided "
        f"p={p:.2g}"
    )
    if failed:
        change = "regression" if upper else "rise"
        return f"{head}: a significant {change} beyond the margin {_points(threshold.value)}"
    holds = delta.delta >= threshold.value if upper else delta.delta <= threshold.value
    if holds:
        return f"{head}: within the margin {_points(threshold.value)}"
    drop = delta.detectable_drop(margin=-abs(threshold.value), alpha=alpha)
    return (
        f"{head}: beyond the margin {_points(threshold.value)} but not significantly "
        f"(this comparison detects drops of {100 * drop:.1f} pts at 80% power)"
    )


def evaluate_delta_gate(
    baseline: Sequence[CaseResult],
    candidate: Sequence[CaseResult],
    thresholds: Sequence[Threshold],
    options: CompareOptions | None = None,
) -> GateReport:
    """Judge the delta thresholds among ``thresholds``; absolute ones are skipped.

    One comparison runs per group named (None: all prompts), and each threshold is judged by
    :func:`evaluate_delta`.
    """
    reports: dict[str | None, ComparisonReport] = {}
    rows = []
    for threshold in thresholds:
        if not threshold.relative_to_baseline:
            continue
        if threshold.group not in reports:
            reports[threshold.group] = compare_runs(
                baseline, candidate, options, group=threshold.group
            )
        rows.append(evaluate_delta(threshold, reports[threshold.group]))
    return GateReport(rows=tuple(rows))


def evaluate_gate_with_baseline(
    summary: Summary,
    candidate: Sequence[CaseResult],
    baseline: Sequence[CaseResult] | None,
    thresholds: Sequence[Threshold],
    options: CompareOptions | None = None,
) -> GateReport:
    """The whole gate, rows in threshold order.

    Absolute thresholds are judged by :func:`~mathif_pytest.gate.evaluate_gate` on ``summary``
    (the candidate's), delta thresholds by :func:`evaluate_delta_gate` against ``baseline``.
    Without a baseline, delta thresholds fail with "pass --mathif-baseline" (as
    :func:`~mathif_pytest.gate.evaluate_gate` reports them).
    """
    if baseline is None:
        return evaluate_gate(summary, thresholds)
    deltas = iter(evaluate_delta_gate(baseline, candidate, thresholds, options).rows)
    plain = [t for t in thresholds if not t.relative_to_baseline]
    absolute = iter(evaluate_gate(summary, plain).rows)
    rows = [next(deltas) if t.relative_to_baseline else next(absolute) for t in thresholds]
    return GateReport(rows=tuple(rows))
