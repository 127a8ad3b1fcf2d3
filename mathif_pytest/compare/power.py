"""What an absolute threshold can tell apart: the drop between two unpaired runs of this size.

The power of ``delta.*`` rows, which pair the runs, is per row: :mod:`.power_model`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mathif_pytest.stats import Summary

__all__ = ["describe_power", "format_mde", "unpaired_mde"]

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


def describe_power(summary: Summary, *, metric: str = "hard_accuracy", alpha: float = 0.05) -> str:
    """The power line of a gate without ``delta.*`` rows ("" when the metric does not apply).

    The unpaired MDE of two independent runs of this size at this run's rate: what an absolute
    threshold can tell apart from a rerun. Gates with ``delta.*`` rows state each row's own
    power instead (:attr:`~mathif_pytest.gate.evidence.RowTest.power`).
    """
    rate = summary.overall.metric(metric)
    if rate is None or rate.n == 0:
        return ""
    drop = unpaired_mde(rate.n, rate.value, alpha=alpha)
    return f"{format_mde(metric, rate.n, drop)} (between two unpaired runs of this size)"
