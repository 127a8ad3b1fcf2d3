"""Minimum detectable effects: the smallest drop a gate of this run's size catches at 80% power."""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mathif_pytest.compare.paired import ComparisonReport
    from mathif_pytest.stats import Summary

__all__ = ["describe_power", "format_mde", "paired_mde", "unpaired_mde"]

_DISPLAY = {
    "hard_accuracy": "hard-accuracy",
    "soft_accuracy": "soft-accuracy",
    "correctness": "correctness",
}


def _z(q: float) -> float:
    return NormalDist().inv_cdf(q)


def _check(prompts: int, alpha: float, power: float) -> None:
    if prompts < 1:
        raise ValueError(f"prompts must be positive (got {prompts})")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1) (got {alpha}, {power})")


def _smallest_root(excess: Callable[[float], float], low: float, high: float) -> float:
    """The smallest d in [low, high] with excess(d) <= 0 (high when there is none).

    ``excess(d)`` is "the drop the test needs at d, minus d": positive while d is too small to
    detect. A grid finds the first sign change, bisection refines it; fixed-point iteration can
    oscillate when few prompts make the spread term large.
    """
    steps = 1000
    previous = low
    for i in range(steps + 1):
        d = low + (high - low) * i / steps
        if excess(d) <= 0:
            if i == 0:
                return d
            lo, hi = previous, d
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if excess(mid) <= 0 else (mid, hi)
            return hi
        previous = d
    return high


def paired_mde(
    prompts: int,
    discordance: float,
    *,
    margin: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """The drop (baseline - candidate) a paired delta gate detects with the given power.

    The gate fails when the one-sided ``1 - alpha`` upper bound of delta, about
    ``delta_hat + z(1-alpha) * sd / sqrt(n)``, falls below ``margin``. Solving
    ``P(fail) = power`` gives ``drop = |margin| + (z(1-alpha) + z(power)) * sd / sqrt(n)``
    (normal approximation), where ``sd**2 = E[d**2] - drop**2`` is the spread of the per-prompt
    differences ``d`` under that drop. ``E[d**2]`` is at least the drop itself (a prompt that
    regresses moves by at most 1), so it is taken as ``max(discordance, drop)``; the smallest
    drop that satisfies the equation is returned.

    Args:
        prompts: paired prompts.
        discordance: the mean of the squared per-prompt differences; with one sample per prompt
            that is the share of prompts whose outcome differs between the runs (observed from
            a comparison, or guessed, e.g. 0.2, before there is one).
        margin: the gate's margin (``delta.hard_accuracy>=-0.02`` has margin -0.02); a drop
            must exceed it to count.
        alpha: the gate's level.
        power: the wanted probability that the gate fails.

    Returns:
        The detectable drop as a fraction (0.05 is 5 points), at most 1 (1: no drop is
        detectable with so few prompts).
    """
    _check(prompts, alpha, power)
    factor = (_z(1 - alpha) + _z(power)) / math.sqrt(prompts)
    base = min(max(-margin, 0.0), 1.0)

    def excess(drop: float) -> float:
        spread = max(max(discordance, drop) - drop * drop, 0.0)
        return base + factor * math.sqrt(spread) - drop

    return _smallest_root(excess, base, 1.0)


def unpaired_mde(
    prompts: int, base_rate: float, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The drop a one-sided two-proportion test between two independent runs detects.

    ``drop = (z(1-alpha) * sqrt(2 p q) + z(power) * sqrt(p1 q1 + p2 q2)) / sqrt(n)`` with
    ``p1 = base_rate``, ``p2 = p1 - drop`` and ``p`` their mean (normal approximation; the
    smallest solution). Use it when there is no baseline to pair with: it is what the same
    number of prompts can resolve between two unrelated runs. At most ``base_rate``.

    Args:
        prompts: prompts in each run.
        base_rate: the baseline's rate (e.g. this run's hard accuracy).
        alpha: one-sided level.
        power: the wanted power.
    """
    _check(prompts, alpha, power)
    z_a, z_b = _z(1 - alpha), _z(power)
    p1 = min(max(base_rate, 0.0), 1.0)

    def excess(drop: float) -> float:
        p2 = max(p1 - drop, 0.0)
        pooled = (p1 + p2) / 2
        spread = z_a * math.sqrt(2 * pooled * (1 - pooled)) + z_b * math.sqrt(
            p1 * (1 - p1) + p2 * (1 - p2)
        )
        return spread / math.sqrt(prompts) - drop

    return _smallest_root(excess, 0.0, p1)


def format_mde(metric: str, prompts: int, drop: float, power: float = 0.8) -> str:
    """``with 45 prompts the gate can detect a hard-accuracy drop of >= 0.21 at 80% power``."""
    name = _DISPLAY.get(metric, metric)
    return (
        f"with {prompts} prompts the gate can detect a {name} drop of >= {drop:.2f} "
        f"at {power:.0%} power"
    )


def describe_power(
    summary: Summary,
    report: ComparisonReport | None = None,
    *,
    metric: str = "hard_accuracy",
    margin: float = 0.0,
    alpha: float = 0.05,
) -> str:
    """The terminal summary's power line for one metric ("" when the metric does not apply).

    With a comparison, the paired MDE from its observed discordance (what the delta gate with
    this margin catches); without one, the unpaired MDE of two independent runs of this size at
    this run's rate (what an absolute threshold can tell apart from a rerun).
    """
    delta = report.metric(metric) if report is not None else None
    # With no discordant prompt yet (identical runs) the paired variance is 0 and the paired
    # formula would claim any drop is detectable: fall back to the unpaired statement.
    if delta is not None and delta.prompts and delta.mean_square > 0:
        drop = delta.detectable_drop(margin=margin, alpha=alpha)
        return f"{format_mde(metric, delta.prompts, drop)} (paired with the baseline)"
    rate = summary.overall.metric(metric)
    if rate is None or rate.n == 0:
        return ""
    drop = unpaired_mde(rate.n, rate.value, alpha=alpha)
    return f"{format_mde(metric, rate.n, drop)} (between two unpaired runs of this size)"
