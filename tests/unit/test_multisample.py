from __future__ import annotations

import itertools
import math
import random

import pytest
from _factories import case
from _synthetic_runs import synthetic_run

from mathif_pytest.compare import compare_runs, describe_power, format_mde, paired_mde, unpaired_mde
from mathif_pytest.errors import MathIFError
from mathif_pytest.multisample import (
    avg_at_n,
    cluster_bootstrap_interval,
    clustered_rate,
    pass_at_k,
    pass_hat_k,
    per_sample_rate,
)
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import summarize


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


def test_paired_mde_shrinks_with_more_prompts_and_adds_the_margin() -> None:
    assert paired_mde(420, 0.2) < paired_mde(45, 0.2)
    assert paired_mde(420, 0.2, margin=-0.02) == pytest.approx(
        paired_mde(420, 0.2) + 0.02, abs=0.005
    )
    # The fixed point of drop = (z(0.95) + z(0.8)) * sd / sqrt(n), sd^2 = discordance - drop^2.
    drop = paired_mde(45, 0.3)
    assert drop == pytest.approx(2.486 * math.sqrt((0.3 - drop**2) / 45), abs=1e-3)
    assert 0.15 < drop < 0.25


def test_identical_deterministic_runs_still_need_a_drop_to_show() -> None:
    assert 0.02 < paired_mde(420, 0.0, margin=-0.02) < 0.05


def test_unpaired_mde_matches_the_two_proportion_formula() -> None:
    drop = unpaired_mde(45, 0.4)
    assert 0.2 < drop < 0.3
    assert unpaired_mde(420, 0.4) < drop


def test_the_mde_line_reads_as_a_sentence() -> None:
    assert format_mde("hard_accuracy", 45, 0.214) == (
        "with 45 prompts the gate can detect a hard-accuracy drop of >= 0.21 at 80% power"
    )


def test_describe_power_uses_the_pairing_when_there_is_a_baseline() -> None:
    base, cand = synthetic_run(0), synthetic_run(1)
    unpaired = describe_power(summarize(cand))
    paired = describe_power(summarize(cand), compare_runs(base, cand), margin=-0.02)
    assert unpaired.startswith("with 420 prompts") and "unpaired" in unpaired
    assert "paired with the baseline" in paired
