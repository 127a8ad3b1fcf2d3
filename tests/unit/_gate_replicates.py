"""The delta gate's verdict on many simulated replicates at once (tests of rates and power).

The same pieces as ``compare_runs`` + the gate: one bootstrap call serves every replicate
(the same seed, so each replicate sees exactly the resamples a single comparison would), the
exact test of "no regression" per replicate, and ``no_worse_fails``. McNemar's p comes from
scipy here (an independent implementation); the sign-flip test is the library's exact one.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import stats

from mathif_pytest.compare import no_worse_fails, sign_flip_test
from mathif_pytest.compare.bootstrap import bootstrap_means


def gate_fails(
    base: np.ndarray, cand: np.ndarray, units: np.ndarray, margin: float, level: float
) -> np.ndarray:
    """Verdicts of ``delta >= margin`` at ``level`` on ``(replicates, prompts)`` success counts.

    ``units`` is each prompt's number of 0/1 units per run (1: one 0/1 outcome per prompt).
    """
    diffs = (cand - base) / units
    draws = bootstrap_means(diffs.T, resamples=10_000, seed=0)
    bootstrap_p = np.mean(draws >= margin - 1e-9, axis=0)
    estimates = diffs.mean(axis=1)
    binary = bool(np.all(units == 1))
    regressed, improved = (diffs < 0).sum(axis=1), (diffs > 0).sum(axis=1)
    out = np.zeros(len(diffs), dtype=bool)
    for r in range(len(diffs)):
        if not (estimates[r] < margin and bootstrap_p[r] < level):
            continue  # fails neither way: skip the exact test
        if binary:
            exact_p = float(stats.binom.sf(regressed[r] - 1, regressed[r] + improved[r], 0.5))
        else:
            steps = zip(base[r].tolist(), cand[r].tolist(), units.tolist(), strict=True)
            exact_p = sign_flip_test([Fraction(c - b, u) for b, c, u in steps]).p_regression
        out[r] = no_worse_fails(estimates[r], bootstrap_p[r], exact_p, margin, level)
    return out


def beta_replicates(
    replicates: int, units: np.ndarray, beta: tuple[float, float], drop: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(base, cand)`` success counts of replicates whose prompts draw ``p ~ Beta(beta)`` afresh.

    The candidate's probability is ``p (1 - drop / mean)`` (the power model's proportional
    drop); each replicate is a new set of prompts from the same population.
    """
    rng = np.random.default_rng(seed)
    a, b = beta
    p = rng.beta(a, b, size=(replicates, len(units)))
    keep = 1 - drop / (a / (a + b))
    return rng.binomial(units, p), rng.binomial(units, p * keep)
