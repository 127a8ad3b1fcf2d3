from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import numpy as np
import pytest
from _factories import case
from _synthetic_runs import synthetic_run
from statsmodels.stats.weightstats import DescrStatsW

from mathif_pytest.compare import describe_power, format_mde, unpaired_mde
from mathif_pytest.errors import MathIFError
from mathif_pytest.multisample import (
    avg_at_n,
    cluster_bootstrap_interval,
    clustered_rate,
    pass_at_k,
    pass_hat_k,
    per_sample_rate,
    prompt_outcomes,
)
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Rate, summarize


def _samples(pattern: dict[str, list[bool]]) -> list[CaseResult]:
    return [case(uid, (ok,), sample=i) for uid, oks in pattern.items() for i, ok in enumerate(oks)]


PATTERN = {
    "a-0": [True, True, False, True],
    "a-1": [False, False, True, False],
    "a-2": [True] * 4,
    "a-3": [False] * 4,
}


def _all_subsets(oks: list[bool], k: int, need_all: bool) -> float:
    subsets = list(itertools.combinations(oks, k))
    hit = [all(s) if need_all else any(s) for s in subsets]
    return sum(hit) / len(subsets)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_pass_hat_k_is_the_share_of_k_subsets_that_all_succeed(k: int) -> None:
    expected = sum(_all_subsets(oks, k, True) for oks in PATTERN.values()) / len(PATTERN)
    assert pass_hat_k(_samples(PATTERN), k) == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_pass_at_k_is_the_share_of_k_subsets_with_a_success(k: int) -> None:
    expected = sum(_all_subsets(oks, k, False) for oks in PATTERN.values()) / len(PATTERN)
    assert pass_at_k(_samples(PATTERN), k, metric="hard_accuracy") == pytest.approx(expected)


def test_pass_hat_one_is_avg_at_n() -> None:
    cases = _samples(PATTERN)
    assert pass_hat_k(cases, 1) == pytest.approx(avg_at_n(cases, "hard_accuracy").value)
    assert avg_at_n(cases, "hard_accuracy").value == pytest.approx(
        summarize(cases).overall.hard_accuracy.value
    )  # type: ignore[union-attr]


def test_pass_hat_k_needs_k_samples_per_prompt() -> None:
    with pytest.raises(MathIFError, match="fewer than k=5"):
        pass_hat_k(_samples(PATTERN), 5)
    with pytest.raises(KeyError, match="0/1 metric"):
        pass_hat_k(_samples(PATTERN), 2, metric="soft_accuracy")


def test_fully_clustered_samples_have_a_design_effect_of_the_samples_per_prompt() -> None:
    cases = _samples({f"u-{i}": [i % 3 == 0] * 5 for i in range(60)})
    rate = clustered_rate(cases, "hard_accuracy")
    assert rate.design_effect == pytest.approx(5, rel=0.05)
    assert rate.effective_n == pytest.approx(60, rel=0.05)
    naive = per_sample_rate(cases, "hard_accuracy")
    assert rate.high - rate.low > 2 * (naive.high - naive.low)


def test_independent_samples_have_a_design_effect_near_one() -> None:
    draw = random.Random(5)  # every sample of every prompt i.i.d.: no clustering
    cases = _samples({f"u-{i}": [draw.random() < 0.4 for _ in range(4)] for i in range(300)})
    rate = clustered_rate(cases, "hard_accuracy")
    assert rate.design_effect < 1.3
    low, high = cluster_bootstrap_interval(cases, "hard_accuracy", resamples=2_000)
    assert low < rate.value < high
    assert high - low == pytest.approx(rate.high - rate.low, rel=0.25)


def test_cluster_bootstrap_widens_with_clustering() -> None:
    cases = synthetic_run(0, samples=4, noise=0.1)
    low, high = cluster_bootstrap_interval(cases, "hard_accuracy", resamples=2_000)
    naive = per_sample_rate(cases, "hard_accuracy")
    assert high - low > 1.3 * (naive.high - naive.low)


def test_unpaired_mde_matches_the_two_proportion_formula() -> None:
    drop = unpaired_mde(45, 0.4)
    assert 0.2 < drop < 0.3
    assert unpaired_mde(420, 0.4) < drop


def test_the_mde_line_reads_as_a_sentence() -> None:
    assert format_mde("hard_accuracy", 45, 0.214) == (
        "with 45 prompts the gate can detect a hard-accuracy drop of >= 0.21 at 80% power"
    )


def test_describe_power_states_what_two_unpaired_runs_can_tell_apart() -> None:
    line = describe_power(summarize(synthetic_run(1)))
    assert line.startswith("with 420 prompts") and "between two unpaired runs" in line


def _mixed_run() -> list[CaseResult]:
    """Each uid asked with its constraints (sample 0) and without them (sample 0 too)."""
    with_constraints = [case(f"x-{i}", (i % 2 == 0,), correct=i % 3 == 0) for i in range(6)]
    without = [
        replace(c, constrained=False, verdicts=(), grade=case("y").grade) for c in with_constraints
    ]
    return with_constraints + without


def test_a_run_with_and_without_constraints_has_two_prompts_per_uid() -> None:
    cases = _mixed_run()
    outcomes = prompt_outcomes(cases, "correctness")
    assert len(outcomes) == 12 and all(len(v) == 1 for v in outcomes.values())
    assert ("x-0", True) in outcomes and ("x-0", False) in outcomes
    # One sample per prompt: pass@2 must refuse, not pair the two variants as two samples.
    with pytest.raises(
        MathIFError, match=r"x-0 \(asked without constraints\): 1 samples, fewer than k=2"
    ):
        pass_at_k(cases, 2)
    assert pass_at_k(cases, 1) == pytest.approx(avg_at_n(cases, "correctness").value)
    assert avg_at_n(cases, "correctness").n == 12


#: Prompts and samples per prompt of the interval calibration below, Beta(0.4, 0.6) prompts.
CAL_PROMPTS, CAL_RUNS = 100, 4_000


@pytest.mark.parametrize("samples", [4, 16])
def test_the_avg_at_n_interval_covers_95_percent_and_is_not_the_wide_wilson(samples: int) -> None:
    rng = np.random.default_rng(samples)
    p = rng.beta(0.4, 0.6, size=(CAL_RUNS, CAL_PROMPTS))
    means = rng.binomial(samples, p) / samples
    counts = [samples] * CAL_PROMPTS
    rates = [Rate.of_prompt_means(row.tolist(), counts) for row in means]
    covered = np.mean([r.low <= 0.4 <= r.high for r in rates])
    wilsons = [Rate.of(row.tolist()) for row in means[:500]]
    wide = np.mean([r.low <= 0.4 <= r.high for r in wilsons])
    se = math.sqrt(0.95 * 0.05 / CAL_RUNS)
    print(f"N={samples}: coverage {covered:.4f} (s.e. {se:.4f}); Wilson on means {wide:.3f}")
    # Never below 95% beyond noise; the Wilson form may add a few tenths of a point.
    assert 0.95 - 2 * se <= covered <= 0.95 + 4 * se
    assert wide > 0.98
    # Against the CLT interval of statsmodels on the same per-prompt means: the same width.
    reference = DescrStatsW(means[0]).zconfint_mean(alpha=0.05)
    ours = rates[0].high - rates[0].low
    assert ours == pytest.approx(reference[1] - reference[0], rel=0.05)
    # The old interval (Wilson, one trial per prompt) is a quarter to a third wider.
    wilson = Rate.of(means[0].tolist())
    assert 1.15 < (wilson.high - wilson.low) / ours < 1.5


def test_summaries_with_several_samples_use_the_clustered_interval() -> None:
    cases = synthetic_run(0, samples=4, noise=0.3)
    hard = summarize(cases).overall.hard_accuracy
    assert hard is not None and hard.effective_n is not None
    assert hard.n == 420 and 420 < hard.effective_n <= 4 * 420
    assert (hard.low, hard.high) == (
        avg_at_n(cases, "hard_accuracy").low,
        avg_at_n(cases, "hard_accuracy").high,
    )
    one = summarize(synthetic_run(0)).overall.hard_accuracy
    assert one is not None and one.effective_n is None
