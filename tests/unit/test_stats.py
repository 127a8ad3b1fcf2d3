from __future__ import annotations

import math

import pytest
from _factories import case
from hypothesis import given
from hypothesis import strategies as st

from mathif_pytest.stats import Rate, summarize, wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (185, 420, 0.3938, 0.4883),
    ],
    ids=["none", "all", "half", "qwen3-4b-hacc"],
)
def test_wilson_interval_matches_reference_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(k, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_wilson_interval_of_nothing_is_uninformative() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_metrics_pool_prompts_instead_of_averaging_file_means() -> None:
    # 1 of 1 in one source, 0 of 3 in another: pooled 1/4, mean of means would be 1/2.
    results = [case("a-0", source="a")] + [case(f"b-{i}", (False,), source="b") for i in range(3)]
    summary = summarize(results)
    assert summary.overall.hard_accuracy is not None
    assert summary.overall.hard_accuracy.value == 0.25
    assert summary.by_source["a"].prompts == 1


def test_soft_accuracy_is_the_mean_share_of_constraints_followed() -> None:
    summary = summarize([case("x-0", (True, False)), case("x-1", (True, True, False))])
    assert summary.overall.soft_accuracy is not None
    assert math.isclose(summary.overall.soft_accuracy.value, (1 / 2 + 2 / 3) / 2)
    assert summary.overall.hard_accuracy is not None
    assert summary.overall.hard_accuracy.value == 0.0


def test_several_samples_per_prompt_count_the_prompt_once_with_the_mean() -> None:
    results = [
        case("x-0", (True,), sample=0),
        case("x-0", (False,), sample=1),
        case("y-0", (True,)),
    ]
    overall = summarize(results).overall
    assert (overall.prompts, overall.cases) == (2, 3)
    assert overall.hard_accuracy is not None
    assert overall.hard_accuracy.value == pytest.approx(0.75)
    assert overall.hard_accuracy.n == 2


def test_constraint_breakdown_counts_instances_and_prompts_containing_the_type() -> None:
    results = [
        case("x-0", (True, False), ids=("k:f", "k:f")),
        case("x-1", (False,), ids=("k:f",)),
        case("x-2", (True,), ids=("p:c",)),
    ]
    stats = summarize(results).by_constraint["k:f"]
    assert stats.prompts == 2
    assert stats.compliance is not None
    assert (stats.compliance.successes, stats.compliance.n) == (1, 3)


def test_a_sample_scored_with_and_without_constraints_counts_as_two_prompts() -> None:
    from dataclasses import replace

    constrained = case("x-0", (False,), correct=False)
    unconstrained = replace(case("x-0", correct=True), constrained=False, verdicts=())
    summary = summarize([constrained, unconstrained])
    assert summary.overall.prompts == 2
    assert summary.overall.correctness.value == 0.5
    assert summary.overall.hard_accuracy is not None
    assert (summary.overall.hard_accuracy.successes, summary.overall.hard_accuracy.n) == (0, 1)
    by_type = summary.by_constraint["c:0"]  # correctness by type also covers the w/o run
    assert by_type.prompts == 2
    assert by_type.compliance is not None and by_type.compliance.n == 1


def test_ungradable_answers_are_counted_and_not_correct() -> None:
    from mathif_pytest.grading import AnswerGrade

    summary = summarize([case("x-0", outcome=AnswerGrade.UNGRADABLE), case("x-1")])
    assert summary.overall.ungradable == 1
    assert summary.overall.correctness.value == 0.5


def test_group_lookup_covers_sources_levels_and_constraints() -> None:
    summary = summarize([case("x-0", source="aime", ids=("k:f",))])
    assert summary.group(None) is summary.overall
    assert summary.group("aime") is summary.by_source["aime"]
    assert summary.group("single") is summary.by_level["single"]
    assert summary.group("k:f") is summary.by_constraint["k:f"]
    assert summary.group("nope") is None


@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=3), min_size=1, max_size=30))
def test_soft_accuracy_is_never_below_hard_accuracy(follows: list[list[bool]]) -> None:
    summary = summarize([case(f"x-{i}", f) for i, f in enumerate(follows)])
    hard, soft = summary.overall.hard_accuracy, summary.overall.soft_accuracy
    assert hard is not None and soft is not None
    assert soft.value >= hard.value - 1e-12
    assert hard.low <= hard.value <= hard.high


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_interval_contains_the_estimate(k: int, n: int) -> None:
    k = min(k, n)
    rate = Rate.of([1.0] * k + [0.0] * (n - k))
    assert 0 <= rate.low <= rate.value <= rate.high <= 1


def test_one_sample_per_prompt_keeps_the_plain_wilson_interval() -> None:
    assert Rate.of_prompt_means([1.0, 0.0, 1.0], [1, 1, 1]) == Rate.of([1.0, 0.0, 1.0])


def test_several_samples_use_the_spread_of_the_prompt_means() -> None:
    means, counts = [0.0, 1.0, 0.5, 0.5], [4, 4, 4, 4]
    rate = Rate.of_prompt_means(means, counts)
    spread = sum((m - 0.5) ** 2 for m in means) / 3
    assert rate.effective_n == pytest.approx(0.25 * 4 / spread)
    assert (rate.low, rate.high) == pytest.approx(wilson_interval(0.5 * rate.trials, rate.trials))
    assert rate.to_dict()["effective_n"] == rate.effective_n


@pytest.mark.parametrize(
    ("means", "effective"),
    [
        ([0.5, 0.5, 0.5], 12.0),  # no spread between prompts: every response counts
        ([1.0, 1.0, 1.0], 3.0),  # at the edge: one trial per prompt (conservative)
        ([0.5], 1.0),  # one prompt: no spread to measure
        ([0.0, 1.0, 0.0, 1.0], 3.0),  # all of the spread between prompts: n - 1 at least
    ],
    ids=["identical-prompts", "all-followed", "one-prompt", "fully-clustered"],
)
def test_the_effective_number_of_trials_stays_within_its_bounds(
    means: list[float], effective: float
) -> None:
    rate = Rate.of_prompt_means(means, [4] * len(means))
    assert rate.effective_n == pytest.approx(effective)
    assert rate.low <= rate.value <= rate.high
