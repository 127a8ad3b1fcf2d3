"""Exact power of a delta row on one 0/1 outcome per prompt: binomial over discordant pairs.

With one 0/1 outcome per prompt and run, the gate's verdict depends only on the number of
prompts ``n``, the regressions ``R`` and the improvements ``I``: the estimate is
``(I - R) / n``, McNemar's p is a binomial tail of ``R`` given ``d = R + I``, and the paired
bootstrap resamples the three kinds of prompt (regressed, improved, unchanged) as a multinomial,
so its p-value is an exact function of ``(R, I, n)`` too (the "ideal" bootstrap, which the
gate's 10,000 seeded resamples estimate). For each ``d`` the verdict flips from pass to fail at
one critical ``R``; :class:`BinaryRule` finds them all in one scan. The power against a model of
the runs is then a sum over ``d`` of binomial tails: no simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["BinaryRule", "binary_power", "bootstrap_tail", "mcnemar_tail"]

#: Probability mass ignored at each end of a binomial (the sums stay exact to ~1e-13).
_TAIL = 1e-15


def _log_factorials(n: int) -> NDArray[np.float64]:
    import numpy as np

    out = np.zeros(n + 1)
    out[1:] = np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))
    return out


def _xlogy(x: NDArray[np.float64], y: float) -> NDArray[np.float64]:
    """``x * log(y)`` with ``0 * log(0) = 0``."""
    import numpy as np

    if y > 0:
        result: NDArray[np.float64] = x * math.log(y)
        return result
    return np.where(x == 0, 0.0, -np.inf)


def binomial_pmf(n: int, p: float, log_fact: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(X = j) for j = 0..n, X ~ Binomial(n, p), from log-factorials (length >= n + 1)."""
    import numpy as np

    j = np.arange(n + 1, dtype=np.float64)
    log_pmf = (
        log_fact[n] - log_fact[: n + 1] - log_fact[n::-1] + _xlogy(j, p) + _xlogy(n - j, 1 - p)
    )
    pmf: NDArray[np.float64] = np.exp(log_pmf)
    return pmf


def mcnemar_tail(regressed: int, discordant: int, log_fact: NDArray[np.float64]) -> float:
    """P(Binomial(discordant, 1/2) >= regressed): McNemar's one-sided p of "no regression"."""
    if regressed <= 0:
        return 1.0
    if regressed > discordant:
        return 0.0
    return float(binomial_pmf(discordant, 0.5, log_fact)[regressed:].sum())


def bootstrap_tail(
    regressed: int, improved: int, prompts: int, at_least: int, log_fact: NDArray[np.float64]
) -> float:
    """The ideal paired bootstrap's P*(I* - R* >= at_least) for 0/1 differences.

    A resample draws ``prompts`` prompts with replacement: the discordant ones number
    ``K ~ Binomial(prompts, d / prompts)``, and of those the improvements number
    ``Binomial(K, I / d)``. The resampled delta is ``(I* - R*) / prompts``.
    """
    import numpy as np

    d = regressed + improved
    if d == 0:
        return 1.0 if at_least <= 0 else 0.0
    weights = binomial_pmf(prompts, d / prompts, log_fact)
    ks = np.nonzero(weights > _TAIL)[0]
    k = ks[:, None].astype(np.float64)
    j = np.arange(int(ks[-1]) + 1, dtype=np.float64)[None, :]
    theta = improved / d
    with np.errstate(invalid="ignore"):
        log_pmf = (
            log_fact[ks][:, None]
            - log_fact[j.astype(int)]
            - log_fact[np.clip(k - j, 0, None).astype(int)]
            + _xlogy(j, theta)
            + _xlogy(k - j, 1 - theta)
        )
    needed = np.ceil((k + at_least) / 2)
    mass = np.where((j <= k) & (j >= needed), np.exp(log_pmf), 0.0).sum(axis=1)
    return float(min(1.0, (weights[ks] * mass).sum()))


@dataclass(frozen=True, slots=True, kw_only=True)
class BinaryRule:
    """The gate's verdict on one 0/1 outcome per prompt, as critical regression counts.

    Attributes:
        prompts: paired prompts ``n``.
        margin: the row's margin in the "no worse than" direction (``<= 0``).
        level: the per-row level the p-value is compared with.
        critical: for each discordant count ``d = 0..n``, the fewest regressions that fail the
            row (``d + 1`` when none does).
    """

    prompts: int
    margin: float
    level: float
    critical: tuple[int, ...]

    @classmethod
    def build(cls, prompts: int, margin: float, level: float) -> BinaryRule:
        """Scan ``d = 0..n``: the critical count rises by 0 or 1 from one ``d`` to the next.

        One more discordant prompt that is an improvement cannot make a passing row fail, and
        one more that is a regression cannot make a failing row pass (each of the estimate,
        McNemar's p and the bootstrap p moves the same way), so
        ``critical[d] <= critical[d + 1] <= critical[d] + 1``.
        """
        log_fact = _log_factorials(prompts)
        at_least = math.ceil(prompts * (margin - 1e-9))
        critical = [1]
        for d in range(1, prompts + 1):
            r = critical[-1]
            fails = r <= d and _fails(r, d - r, prompts, (margin, level, at_least), log_fact)
            critical.append(r if fails else r + 1)
        return cls(prompts=prompts, margin=margin, level=level, critical=tuple(critical))

    def power(self, regress: float, improve: float) -> float:
        """P(the row fails) when each prompt independently regresses / improves w.p. these."""
        import numpy as np

        n = self.prompts
        log_fact = _log_factorials(n)
        discordant = min(1.0, regress + improve)
        if discordant <= 0:
            return 0.0
        weights = binomial_pmf(n, discordant, log_fact)
        share = min(1.0, regress / discordant)
        total = 0.0
        for d in np.nonzero(weights > _TAIL)[0]:
            r = self.critical[int(d)]
            if r <= d:
                total += float(weights[d]) * float(binomial_pmf(int(d), share, log_fact)[r:].sum())
        return min(1.0, total)


def _fails(
    regressed: int,
    improved: int,
    prompts: int,
    rule: tuple[float, float, int],
    log_fact: NDArray[np.float64],
) -> bool:
    margin, level, at_least = rule
    if not (improved - regressed) / prompts < margin:
        return False
    if mcnemar_tail(regressed, regressed + improved, log_fact) >= level:
        return False
    return bootstrap_tail(regressed, improved, prompts, at_least, log_fact) < level


def binary_power(
    rule: BinaryRule, rerun_discordance: float, base_rate: float, drop: float
) -> float:
    """The power of ``rule`` against a proportional drop (see :mod:`.power_model`).

    Each prompt has its own success probability ``p``; the candidate's is ``p (1 - drop / mu)``
    (every prompt loses the same share), ``mu`` the base rate. With ``s = E[p (1 - p)]`` (half
    the rerun discordance): P(regress) = ``s (1 - drop / mu) + drop``, P(improve) =
    ``s (1 - drop / mu)``.
    """
    keep = 1.0 if base_rate <= 0 or drop <= 0 else max(0.0, 1 - drop / base_rate)
    within = rerun_discordance / 2
    return rule.power(within * keep + max(drop, 0.0), within * keep)
