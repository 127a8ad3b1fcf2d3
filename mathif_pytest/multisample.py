"""Several samples per prompt: per-sample rates, avg@N, pass^k and pass@k, clustered intervals."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from mathif_pytest.errors import MathIFError
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Z_95, Rate, wilson_interval

__all__ = [
    "ClusteredRate",
    "PromptKey",
    "avg_at_n",
    "cluster_bootstrap_interval",
    "clustered_rate",
    "pass_at_k",
    "pass_hat_k",
    "per_sample_rate",
    "prompt_outcomes",
]

_BINARY = ("hard_accuracy", "correctness")


def _value(case: CaseResult, metric: str) -> float | None:
    if metric == "correctness":
        return float(case.correct)
    if not case.constrained:
        return None
    if metric == "hard_accuracy":
        return float(bool(case.hard))
    if metric == "soft_accuracy":
        return case.soft or 0.0
    raise KeyError(f"unknown metric {metric!r}; use hard_accuracy, soft_accuracy or correctness")


#: A prompt: its uid and whether it was asked with its constraints (a "w/o constraints" run asks
#: the same uid without them, and that is another prompt).
PromptKey = tuple[str, bool]


def prompt_outcomes(cases: Iterable[CaseResult], metric: str) -> dict[PromptKey, list[float]]:
    """Per prompt ``(uid, constrained)``, the metric's value of each of its responses.

    Only prompts the metric applies to appear (hard and soft accuracy: constrained ones).
    """
    out: dict[PromptKey, list[float]] = defaultdict(list)
    for case in cases:
        value = _value(case, metric)
        if value is not None:
            out[(case.uid, case.constrained)].append(value)
    return dict(out)


def per_sample_rate(cases: Iterable[CaseResult], metric: str) -> Rate:
    """The rate over responses, each response one trial, with a plain Wilson interval.

    The interval ignores that samples of one prompt are correlated, so it is too narrow when
    there are several samples per prompt; use :func:`clustered_rate` for an honest one.
    """
    values = [v for vs in prompt_outcomes(cases, metric).values() for v in vs]
    return Rate.of(values)


def avg_at_n(cases: Iterable[CaseResult], metric: str) -> Rate:
    """avg@N: the mean over prompts of each prompt's mean over its N samples.

    This is what :func:`~mathif_pytest.stats.summarize` reports, with the same interval: with
    several samples per prompt the clustered one of
    :meth:`~mathif_pytest.stats.Rate.of_prompt_means`.
    """
    groups = list(prompt_outcomes(cases, metric).values())
    return Rate.of_prompt_means(
        [math.fsum(vs) / len(vs) for vs in groups], [len(vs) for vs in groups]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusteredRate:
    """A per-response rate with a Wilson interval on the design-effect-corrected sample size.

    Attributes:
        value: successes / responses.
        responses: responses (trials), over ``prompts`` clusters.
        prompts: distinct prompts.
        design_effect: variance of the rate with prompts as clusters over its variance if every
            response were independent (1: no clustering; the samples per prompt: full).
        effective_n: ``responses / design_effect``.
        low, high: the 95% Wilson interval with ``effective_n`` trials.
    """

    value: float
    responses: int
    prompts: int
    design_effect: float
    effective_n: float
    low: float
    high: float


def clustered_rate(cases: Iterable[CaseResult], metric: str, z: float = Z_95) -> ClusteredRate:
    """The per-response rate with an interval that accounts for clustering by prompt.

    The design effect is the ratio of the cluster-robust (ratio-estimator) variance,
    ``n/(n-1) * sum_i (y_i - p m_i)^2 / M^2`` over n prompts with m_i responses and y_i
    successes (M responses in all), to the binomial variance ``p (1 - p) / M``. It is floored at
    1 (never narrower than the naive interval); when ``p`` is 0 or 1 the variance ratio is
    undefined and the worst case (every prompt one trial) is used.
    """
    groups = list(prompt_outcomes(cases, metric).values())
    responses = sum(len(g) for g in groups)
    if not responses:
        return ClusteredRate(
            value=0.0, responses=0, prompts=0, design_effect=1.0, effective_n=0.0, low=0.0, high=1.0
        )
    p = math.fsum(v for g in groups for v in g) / responses
    deff = responses / len(groups)
    if 0 < p < 1 and len(groups) > 1:
        robust = math.fsum((math.fsum(g) - p * len(g)) ** 2 for g in groups)
        robust *= len(groups) / (len(groups) - 1) / responses**2
        deff = max(1.0, robust / (p * (1 - p) / responses))
    n_eff = responses / deff
    low, high = _wilson_fractional(p, n_eff, z)
    return ClusteredRate(
        value=p,
        responses=responses,
        prompts=len(groups),
        design_effect=deff,
        effective_n=n_eff,
        low=low,
        high=high,
    )


def _wilson_fractional(p: float, n: float, z: float) -> tuple[float, float]:
    # wilson_interval takes an integer n; scale successes so that the rate is exactly p.
    whole = max(1, round(n))
    return wilson_interval(p * whole, whole, z)


def cluster_bootstrap_interval(
    cases: Iterable[CaseResult],
    metric: str,
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the per-response rate, resampling whole prompts (all their samples).

    Returns:
        ``(low, high)``; ``(0, 1)`` when there are no responses.
    """
    from mathif_pytest.compare.bootstrap import bootstrap_means, percentile_bounds

    groups = list(prompt_outcomes(cases, metric).values())
    if not groups:
        return 0.0, 1.0
    # The rate over responses is sum(y_i) / sum(m_i): per-prompt means weighted by m_i.
    means = [math.fsum(g) / len(g) for g in groups]
    draws = bootstrap_means(means, [float(len(g)) for g in groups], resamples=resamples, seed=seed)
    bounds = percentile_bounds(draws, 1 - confidence)
    return bounds.low, bounds.high


def _k_estimate(cases: Iterable[CaseResult], metric: str, k: int) -> list[tuple[int, int]]:
    if metric not in _BINARY:
        known = ", ".join(_BINARY)
        raise KeyError(f"pass^k and pass@k need a 0/1 metric ({known}); got {metric!r}")
    if k < 1:
        raise ValueError(f"k must be positive (got {k})")
    counts = []
    for (uid, constrained), values in sorted(prompt_outcomes(cases, metric).items()):
        if len(values) < k:
            asked = "" if constrained else " (asked without constraints)"
            raise MathIFError(
                f"{uid}{asked}: {len(values)} samples, fewer than k={k}; "
                f"sample at least {k} responses per prompt (--mathif-samples {k})"
            )
        counts.append((len(values), int(sum(values))))
    return counts


def pass_hat_k(cases: Iterable[CaseResult], k: int, metric: str = "hard_accuracy") -> float:
    """pass^k: the chance that k samples of a prompt all succeed, averaged over prompts.

    Unbiased from n >= k samples with c successes per prompt: ``C(c, k) / C(n, k)`` (the share of
    k-subsets of the samples that all succeed), the all-succeed analogue of pass@k.

    Raises:
        MathIFError: a prompt has fewer than k samples.
    """
    counts = _k_estimate(cases, metric, k)
    if not counts:
        return 0.0
    return math.fsum(math.comb(c, k) / math.comb(n, k) for n, c in counts) / len(counts)


def pass_at_k(cases: Iterable[CaseResult], k: int, metric: str = "correctness") -> float:
    """pass@k: the chance that at least one of k samples succeeds, ``1 - C(n-c, k) / C(n, k)``.

    Raises:
        MathIFError: a prompt has fewer than k samples.
    """
    counts = _k_estimate(cases, metric, k)
    if not counts:
        return 0.0
    return math.fsum(1 - math.comb(n - c, k) / math.comb(n, k) for n, c in counts) / len(counts)
