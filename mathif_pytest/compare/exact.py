"""Exact paired tests of "no change": McNemar's binomial test and the paired sign-flip test."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "EXACT_GRID_LIMIT",
    "MONTE_CARLO_FLIPS",
    "PairedTest",
    "binomial_half_cdf",
    "mcnemar_test",
    "paired_test",
    "sign_flip_test",
]

#: Largest sum of |differences| (on their common integer grid) whose sign-flip distribution is
#: computed exactly; past it (many samples per prompt of uneven counts) a seeded Monte Carlo runs.
EXACT_GRID_LIMIT = 200_000
#: Random sign flips of the Monte Carlo fallback.
MONTE_CARLO_FLIPS = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PairedTest:
    """The p-values of a paired test of "no change" between a baseline and a candidate.

    Attributes:
        method: ``mcnemar-exact`` (one 0/1 outcome per prompt and run), ``sign-flip-exact`` or
            ``sign-flip-monte-carlo`` (per-prompt means over several samples).
        p_two_sided: P(|T| >= |t|) under the null, T the summed per-prompt differences.
        p_regression: one-sided p of H0 "delta >= 0" (small when the candidate is worse).
        p_improvement: one-sided p of H0 "delta <= 0" (small when the candidate is better).
    """

    method: str
    p_two_sided: float
    p_regression: float
    p_improvement: float

    def to_dict(self) -> dict[str, Any]:
        """``{"method", "p_two_sided", "p_regression", "p_improvement"}``."""
        return {
            "method": self.method,
            "p_two_sided": self.p_two_sided,
            "p_regression": self.p_regression,
            "p_improvement": self.p_improvement,
        }


def binomial_half_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exact: integer sums, one rounding at the end."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    tail: int = sum(math.comb(n, i) for i in range(k + 1))
    return tail / (1 << n)


def mcnemar_test(regressed: int, improved: int) -> PairedTest:
    """McNemar's exact test from the discordant pairs.

    Args:
        regressed: pairs where the baseline succeeded and the candidate did not.
        improved: pairs where the candidate succeeded and the baseline did not.

    Returns:
        Under H0 each discordant pair is a regression with probability 1/2, so the regressions
        are Binomial(regressed + improved, 1/2); the two-sided p doubles the smaller tail.
    """
    discordant = regressed + improved
    p_regression = binomial_half_cdf(improved, discordant)  # P(X >= regressed), by symmetry
    p_improvement = binomial_half_cdf(regressed, discordant)
    return PairedTest(
        method="mcnemar-exact",
        p_two_sided=min(1.0, 2 * min(p_regression, p_improvement)),
        p_regression=p_regression,
        p_improvement=p_improvement,
    )


def paired_test(
    baseline: Sequence[Fraction], candidate: Sequence[Fraction], seed: int = 0
) -> PairedTest:
    """McNemar when every per-prompt value is 0 or 1, else the sign-flip test on the differences.

    Both are the same test (random signs of the per-prompt differences); McNemar is the closed
    form for 0/1 outcomes. ``seed`` only matters for the Monte Carlo fallback.
    """
    if all(v in (0, 1) for v in (*baseline, *candidate)):
        pairs = list(zip(baseline, candidate, strict=True))
        return mcnemar_test(
            regressed=sum(b > c for b, c in pairs), improved=sum(c > b for b, c in pairs)
        )
    return sign_flip_test([c - b for b, c in zip(baseline, candidate, strict=True)], seed)


def sign_flip_test(differences: Sequence[Fraction], seed: int = 0) -> PairedTest:
    """The paired sign-flip (permutation) test of per-prompt differences candidate - baseline.

    Under H0 the baseline and candidate labels are exchangeable within each prompt, so every
    difference is as likely negated: T* = sum(s_i * d_i) with random signs. The differences are
    put on their common integer grid (rational per-prompt means) and the distribution of T* is
    computed exactly by dynamic programming; past :data:`EXACT_GRID_LIMIT` it is estimated from
    :data:`MONTE_CARLO_FLIPS` seeded flips (p-values with the +1 correction).
    """
    scale = math.lcm(*(d.denominator for d in differences)) if differences else 1
    steps = [abs(int(d * scale)) for d in differences if d != 0]
    observed = int(sum(differences, Fraction(0)) * scale)
    total = sum(steps)
    if total == 0:
        return PairedTest(
            method="sign-flip-exact", p_two_sided=1.0, p_regression=1.0, p_improvement=1.0
        )
    if total > EXACT_GRID_LIMIT:
        return _sign_flip_monte_carlo(steps, observed, seed)
    cdf = _subset_sum_cdf(steps)
    # T* = 2W - total, W the sum of the steps that keep a + sign; t = 2w - total.
    w = (observed + total) // 2
    p_regression = float(cdf[w])
    p_improvement = float(cdf[total - w])
    return PairedTest(
        method="sign-flip-exact",
        p_two_sided=min(1.0, 2 * min(p_regression, p_improvement)),
        p_regression=min(1.0, p_regression),
        p_improvement=min(1.0, p_improvement),
    )


def _subset_sum_cdf(steps: Sequence[int]) -> NDArray[np.float64]:
    """CDF of W = sum of each step kept with probability 1/2 (equal steps in one binomial go)."""
    import numpy as np

    total = sum(steps)
    pmf = np.zeros(total + 1)
    pmf[0] = 1.0
    top = 0
    for step, count in sorted(Counter(steps).items()):
        out = np.zeros_like(pmf)
        for j in range(count + 1):
            weight = math.comb(count, j) / 2**count
            out[j * step : j * step + top + 1] += weight * pmf[: top + 1]
        pmf, top = out, top + count * step
    cdf: NDArray[np.float64] = np.cumsum(pmf)
    return cdf


def _sign_flip_monte_carlo(steps: Sequence[int], observed: int, seed: int) -> PairedTest:
    import numpy as np

    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(MONTE_CARLO_FLIPS, len(steps)), dtype=np.int8) * 2 - 1
    flipped = signs @ np.asarray(steps, dtype=np.float64)
    p_regression = (1 + int(np.count_nonzero(flipped <= observed))) / (MONTE_CARLO_FLIPS + 1)
    p_improvement = (1 + int(np.count_nonzero(flipped >= observed))) / (MONTE_CARLO_FLIPS + 1)
    return PairedTest(
        method="sign-flip-monte-carlo",
        p_two_sided=min(1.0, 2 * min(p_regression, p_improvement)),
        p_regression=p_regression,
        p_improvement=p_improvement,
    )
