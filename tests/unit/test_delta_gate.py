"""The delta gate: parsing, the rule, and its false-alarm rate and power on simulated replays.

Replays: each prompt has a per-sample probability of having all its constraints followed (drawn
once from a U-shaped Beta(0.4, 0.6), like real models: many prompts always or never followed);
a replay draws one Bernoulli outcome per prompt. Two replays of the same probabilities are two
runs of the same checkpoint with different sampling seeds: the gate must not flake on them.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from _factories import case

from mathif_pytest.compare import (
    CompareOptions,
    compare_runs,
    evaluate_delta,
    evaluate_gate_with_baseline,
    paired_mde,
    significant_shortfall,
)
from mathif_pytest.compare.bootstrap import bootstrap_means
from mathif_pytest.compare.exact import mcnemar_test
from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate import evaluate_gate, parse_threshold
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import summarize

PROMPTS = 420
ALPHA = 0.05
REPLICATES = 400
#: Three standard errors of a rate of alpha over REPLICATES pairs.
SLACK = 3 * math.sqrt(ALPHA * (1 - ALPHA) / REPLICATES)


def _probabilities(n: int = PROMPTS, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).beta(0.4, 0.6, n)


def _replay(probabilities: np.ndarray, seed: int) -> list[CaseResult]:
    followed = np.random.default_rng(seed).random(len(probabilities)) < probabilities
    return [case(f"p-{i}", (bool(f),), correct=True) for i, f in enumerate(followed)]


def _violate(result: CaseResult) -> CaseResult:
    verdicts = tuple(replace(v, followed=False) for v in result.verdicts)
    return replace(result, verdicts=verdicts)


def _follow(result: CaseResult) -> CaseResult:
    return replace(result, verdicts=tuple(replace(v, followed=True) for v in result.verdicts))


def _fails(base: list[CaseResult], cand: list[CaseResult], text: str) -> bool:
    gate = evaluate_gate_with_baseline(summarize(cand), cand, base, [parse_threshold(text)])
    return not gate.passed


def _batch_false_alarms(
    p_base: np.ndarray, p_cand: np.ndarray, margin: float, seed: int
) -> np.ndarray:
    """The gate's verdict on REPLICATES independent replay pairs, vectorised.

    The same pieces as :func:`compare_runs` + :func:`evaluate_delta`: one bootstrap call serves
    every replicate (same seed, so each replicate sees exactly the resamples a single comparison
    would), McNemar per replicate, and the same rule.
    """
    rng = np.random.default_rng(seed)
    base = rng.random((REPLICATES, len(p_base))) < p_base
    cand = rng.random((REPLICATES, len(p_cand))) < p_cand
    diffs = cand.astype(float) - base.astype(float)
    upper = np.quantile(bootstrap_means(diffs.T, resamples=10_000, seed=0), 1 - ALPHA, axis=0)
    fails = []
    for row, bound in zip(diffs, upper, strict=True):
        test = mcnemar_test(regressed=int((row < 0).sum()), improved=int((row > 0).sum()))
        fails.append(significant_shortfall(row.mean(), bound, test.p_regression, margin, ALPHA))
    return np.array(fails)


@pytest.mark.parametrize(
    ("text", "metric", "group", "value"),
    [
        ("delta.hard_accuracy>=-0.02", "hard_accuracy", None, -0.02),
        ("delta.correctness[aime]>=-5%", "correctness", "aime", -0.05),
        ("delta.soft_accuracy >= 0", "soft_accuracy", None, 0.0),
    ],
    ids=["overall", "group-percent", "zero"],
)
def test_delta_expressions_parse_as_relative_thresholds(
    text: str, metric: str, group: str | None, value: float
) -> None:
    t = parse_threshold(text)
    assert (t.metric, t.group, t.value, t.relative_to_baseline) == (
        metric,
        group,
        pytest.approx(value),
        True,
    )
    assert t.label.startswith("delta.")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("delta.compliance>=0", "unknown metric 'delta.compliance'"),
        ("delta.hard_acuracy>=-0.02", "did you mean 'delta.hard_accuracy'"),
        ("delta.hard_accuracy>=-2", "between -1 and 1"),
    ],
    ids=["no-delta-of-compliance", "typo", "out-of-range"],
)
def test_bad_delta_expressions_explain_themselves(text: str, message: str) -> None:
    with pytest.raises(GateSpecError, match=message):
        parse_threshold(text)


def test_absolute_thresholds_stay_absolute() -> None:
    t = parse_threshold("hard_accuracy>=0.4")
    assert not t.relative_to_baseline and t.label == "hard_accuracy"


def test_a_delta_threshold_without_a_baseline_fails_asking_for_one() -> None:
    summary = summarize([case("x-0")])
    (row,) = evaluate_gate(summary, [parse_threshold("delta.hard_accuracy>=-0.02")]).rows
    assert not row.passed and "--mathif-baseline" in row.reason
    gate = evaluate_gate_with_baseline(
        summary, [case("x-0")], None, [parse_threshold("delta.hard_accuracy>=-0.02")]
    )
    assert not gate.passed


@pytest.mark.parametrize(
    ("estimate", "upper", "p", "margin", "fails"),
    [
        (-0.05, -0.03, 0.001, -0.02, True),
        (-0.05, -0.01, 0.001, -0.02, False),  # bound not below the margin
        (-0.01, -0.03, 0.001, -0.02, False),  # observed within the margin
        (-0.05, -0.03, 0.2, -0.02, False),  # the exact test of "no regression" does not reject
        (0.01, 0.03, 0.9, 0.05, True),  # a positive margin: no exact-test condition
    ],
    ids=["significant", "not-significant", "within-margin", "exact-test-vetoes", "positive-margin"],
)
def test_the_delta_rule_needs_every_condition(
    estimate: float, upper: float, p: float, margin: float, fails: bool
) -> None:
    assert significant_shortfall(estimate, upper, p, margin, 0.05) is fails


def test_without_shared_prompts_a_delta_threshold_fails() -> None:
    base, cand = [case("a-0"), case("a-1")], [case("b-0"), case("b-1")]
    (row,) = evaluate_gate_with_baseline(
        summarize(cand), cand, base, [parse_threshold("delta.correctness>=-0.5")]
    ).rows
    assert not row.passed and "no prompts shared with the baseline" in row.reason


def test_an_upper_delta_threshold_is_the_mirror_image() -> None:
    base = _replay(_probabilities(), seed=1)
    improved = [_follow(c) for c in base]  # every prompt now followed: a large, certain rise
    assert _fails(base, improved, "delta.hard_accuracy<=0.02")
    assert not _fails(base, improved, "delta.hard_accuracy<=0.9")
    assert not _fails(base, base, "delta.hard_accuracy<=0")


def test_rows_keep_the_order_of_mixed_absolute_and_delta_thresholds() -> None:
    base = _replay(_probabilities(), seed=1)
    texts = [
        "hard_accuracy>=0.1",
        "delta.hard_accuracy>=-0.02",
        "correctness>=0.99",
        "delta.correctness>=0",
    ]
    gate = evaluate_gate_with_baseline(
        summarize(base), base, base, [parse_threshold(t) for t in texts]
    )
    assert [r.threshold.text for r in gate.rows] == texts
    assert [r.passed for r in gate.rows] == [True, True, True, True]


def test_a_planted_regression_of_fifteen_samples_is_caught() -> None:
    base = _replay(_probabilities(), seed=1)
    followed = [i for i, c in enumerate(base) if c.hard]
    cand = list(base)
    for i in followed[:15]:
        cand[i] = _violate(cand[i])
    assert _fails(base, cand, "delta.hard_accuracy>=-0.02")
    assert _fails(base, cand, "delta.soft_accuracy>=-0.02")
    assert not _fails(base, cand, "delta.correctness>=-0.02")
    report = compare_runs(base, cand)
    assert report.flip_counts()["followed_to_violated"] == 15


def test_a_regression_inside_the_margin_passes() -> None:
    base = _replay(_probabilities(), seed=1)
    cand = list(base)
    for i in [i for i, c in enumerate(base) if c.hard][:5]:
        cand[i] = _violate(cand[i])
    assert not _fails(base, cand, "delta.hard_accuracy>=-0.02")


@pytest.mark.parametrize("seeds", [(1, 2), (3, 4), (5, 6)])
def test_two_replays_of_the_same_probabilities_pass(seeds: tuple[int, int]) -> None:
    p = _probabilities()
    base, cand = _replay(p, seeds[0]), _replay(p, seeds[1])
    assert not _fails(base, cand, "delta.hard_accuracy>=-0.02")
    assert not _fails(base, cand, "delta.hard_accuracy>=0")


def test_the_batched_verdicts_are_the_single_comparison_verdicts() -> None:
    p = _probabilities()
    q = p * 0.85  # a real regression, so that both verdicts occur
    rng = np.random.default_rng(21)
    base = rng.random((REPLICATES, PROMPTS)) < p
    cand = rng.random((REPLICATES, PROMPTS)) < q
    batch = _batch_false_alarms(p, q, -0.02, seed=21)
    threshold = parse_threshold("delta.hard_accuracy>=-0.02")
    for r in range(6):
        b = [case(f"p-{i}", (bool(x),)) for i, x in enumerate(base[r])]
        c = [case(f"p-{i}", (bool(x),)) for i, x in enumerate(cand[r])]
        row = evaluate_delta(threshold, compare_runs(b, c, CompareOptions()))
        assert (not row.passed) == batch[r]
    assert 0 < batch.mean() < 1


def test_false_alarm_rate_of_null_pairs_is_at_most_alpha() -> None:
    """400 pairs of replays with the same probabilities, at the strictest margin (0)."""
    p = _probabilities()
    rate = _batch_false_alarms(p, p, 0.0, seed=11).mean()
    print(f"false-alarm rate, same probabilities, margin 0: {rate:.4f}")
    assert rate <= ALPHA + SLACK
    practical = _batch_false_alarms(p, p, -0.02, seed=12).mean()
    print(f"false-alarm rate, same probabilities, margin -0.02: {practical:.4f}")
    assert practical <= 0.02


def test_false_alarm_rate_at_the_margin_itself_is_at_most_alpha() -> None:
    """The hardest null: the candidate is worse by exactly the margin (delta = -0.02)."""
    p = _probabilities()
    q = p * (1 - 0.02 / p.mean())
    rate = _batch_false_alarms(p, q, -0.02, seed=13).mean()
    print(f"false-alarm rate at delta = margin = -0.02: {rate:.4f}")
    assert rate <= ALPHA + SLACK


def test_power_at_the_minimum_detectable_effect_is_about_eighty_percent() -> None:
    p = _probabilities()
    discordance = float(np.mean(2 * p * (1 - p)))
    drop = paired_mde(PROMPTS, discordance, margin=-0.02)
    q = p * (1 - drop / p.mean())
    power = _batch_false_alarms(p, q, -0.02, seed=14).mean()
    print(f"MDE {drop:.4f} at margin -0.02; simulated power {power:.3f}")
    assert 0.7 <= power <= 0.9
