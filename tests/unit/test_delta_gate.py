"""The delta gate: parsing, the rule, must-improve margins, tiny groups, false-alarm rates.

Replays: each prompt has a per-sample probability of having all its constraints followed (drawn
once from a U-shaped Beta(0.4, 0.6), like real models: many prompts always or never followed);
a replay draws one Bernoulli outcome per prompt. Two replays of the same probabilities are two
runs of the same checkpoint with different sampling seeds: the gate must not flake on them.
Rates are measured on 4,000 replay pairs and compared with alpha, or with the exact engine's
prediction, plus at most one Monte Carlo standard error.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from _factories import case
from _gate_replicates import gate_fails

from mathif_pytest.compare import (
    CompareOptions,
    GateOptions,
    compare_runs,
    evaluate_delta,
    evaluate_gate_with_baseline,
    no_worse_fails,
)
from mathif_pytest.compare.power_exact import BinaryRule, binary_power
from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate import evaluate_gate, parse_threshold
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import summarize

PROMPTS = 420
ALPHA = 0.05
REPLICATES = 4_000


def _standard_error(rate: float) -> float:
    return math.sqrt(max(rate, 1 / REPLICATES) * (1 - rate) / REPLICATES)


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


def _batch_fails(p_base: np.ndarray, p_cand: np.ndarray, margin: float, seed: int) -> np.ndarray:
    """The gate's verdict on REPLICATES independent replay pairs (see ``_gate_replicates``)."""
    rng = np.random.default_rng(seed)
    base = (rng.random((REPLICATES, len(p_base))) < p_base).astype(np.int64)
    cand = (rng.random((REPLICATES, len(p_cand))) < p_cand).astype(np.int64)
    return gate_fails(base, cand, np.ones(len(p_base), dtype=np.int64), margin, ALPHA)


def _predicted(p: np.ndarray, margin: float, drop: float) -> float:
    """The exact engine's rejection rate of the same rule (prompts drawn from ``p``'s spread)."""
    rule = BinaryRule.build(len(p), margin, ALPHA)
    return binary_power(rule, float(np.mean(2 * p * (1 - p))), float(p.mean()), drop)


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
    ("estimate", "bootstrap_p", "exact_p", "fails"),
    [
        (-0.05, 0.001, 0.001, True),
        (-0.05, 0.2, 0.001, False),  # the bootstrap does not reject the margin
        (-0.01, 0.001, 0.001, False),  # observed within the margin
        (-0.05, 0.001, 0.2, False),  # the exact test of "no regression" does not reject
    ],
    ids=["significant", "bootstrap-does-not-reject", "within-margin", "exact-test-vetoes"],
)
def test_a_no_worse_row_needs_every_condition(
    estimate: float, bootstrap_p: float, exact_p: float, fails: bool
) -> None:
    assert no_worse_fails(estimate, bootstrap_p, exact_p, -0.02, 0.05) is fails


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
    base = rng.random((8, PROMPTS)) < p
    cand = rng.random((8, PROMPTS)) < q
    batch = gate_fails(base.astype(int), cand.astype(int), np.ones(PROMPTS, int), -0.02, ALPHA)
    threshold = parse_threshold("delta.hard_accuracy>=-0.02")
    for r in range(8):
        b = [case(f"p-{i}", (bool(x),)) for i, x in enumerate(base[r])]
        c = [case(f"p-{i}", (bool(x),)) for i, x in enumerate(cand[r])]
        row = evaluate_delta(threshold, compare_runs(b, c, CompareOptions()))
        assert (not row.passed) == batch[r]
    assert 0 < batch.mean() < 1


def test_false_alarms_of_reruns_at_margin_zero_stay_below_alpha() -> None:
    """Rows are never more likely to fail than McNemar alone, which is exact: <= alpha."""
    p = _probabilities()
    rate = _batch_fails(p, p, 0.0, seed=11).mean()
    predicted = _predicted(p, 0.0, 0.0)
    print(f"false alarms, reruns, margin 0: {rate:.4f} (exact engine {predicted:.4f})")
    assert rate <= ALPHA and predicted <= ALPHA
    assert abs(rate - predicted) <= 2 * _standard_error(predicted)


def test_false_alarms_of_reruns_at_a_two_point_margin_are_what_the_engine_says() -> None:
    p = _probabilities()
    rate = _batch_fails(p, p, -0.02, seed=12).mean()
    predicted = _predicted(p, -0.02, 0.0)
    print(f"false alarms, reruns, margin -0.02: {rate:.4f} (exact engine {predicted:.4f})")
    assert predicted < 0.01
    assert rate <= predicted + _standard_error(predicted)


def test_false_alarms_at_the_margin_itself_are_at_most_alpha() -> None:
    """The hardest null: the candidate is worse by exactly the margin (delta = -0.02)."""
    p = _probabilities()
    q = p * (1 - 0.02 / p.mean())
    rate = _batch_fails(p, q, -0.02, seed=13).mean()
    predicted = _predicted(p, -0.02, 0.02)
    print(f"false alarms at delta = margin = -0.02: {rate:.4f} (exact engine {predicted:.4f})")
    assert predicted <= ALPHA
    assert rate <= ALPHA + _standard_error(ALPHA)


def test_a_positive_margin_asks_for_an_improvement_and_never_calls_a_rerun_a_regression() -> None:
    base = _replay(_probabilities(), seed=1)
    (row,) = evaluate_gate_with_baseline(
        summarize(base), base, base, [parse_threshold("delta.correctness>=0.05")]
    ).rows
    assert not row.passed and row.test is not None
    assert (row.test.kind, row.test.null) == ("must-improve", "delta <= +0.05")
    assert "regression" not in row.reason and "no improvement beyond the margin" in row.reason
    assert "write delta.correctness>=0 for 'no worse than the baseline'" in row.reason
    improved = [_follow(c) for c in base]
    (row,) = evaluate_gate_with_baseline(
        summarize(improved), improved, base, [parse_threshold("delta.hard_accuracy>=0.05")]
    ).rows
    assert row.passed and "a significant improvement beyond the margin +5.00 pts" in row.reason


def test_must_drop_is_the_mirror_image_of_must_improve() -> None:
    base = _replay(_probabilities(), seed=1)
    worse = [_violate(c) for c in base]
    gate = evaluate_gate_with_baseline(
        summarize(worse),
        worse,
        base,
        [parse_threshold("delta.hard_accuracy<=-0.05"), parse_threshold("delta.hard_accuracy<0")],
    )
    assert [r.passed for r in gate.rows] == [True, True]
    gate = evaluate_gate_with_baseline(
        summarize(base), base, base, [parse_threshold("delta.hard_accuracy<=-0.05")]
    )
    assert not gate.passed and "no drop beyond the margin" in gate.rows[0].reason


def _tiny_group() -> tuple[list[CaseResult], list[CaseResult]]:
    """Four AIME prompts that go from 100% to 0%, in a run whose other prompts do not change."""
    others = [case(f"g-{i}", (i % 2 == 0,), source="gsm8k") for i in range(40)]
    base = others + [case(f"a-{i}", (True,), source="aime") for i in range(4)]
    cand = others + [case(f"a-{i}", (False,), source="aime") for i in range(4)]
    return base, cand


def test_a_four_prompt_group_dropping_to_zero_is_reported_as_undetectable() -> None:
    base, cand = _tiny_group()
    threshold = parse_threshold("delta.hard_accuracy[aime]>=0")
    (row,) = evaluate_gate_with_baseline(summarize(cand), cand, base, [threshold]).rows
    assert row.passed and row.test is not None and row.test.power is not None
    assert not row.test.power.detectable and row.test.power.max_power == 0.0
    assert "undetectable: even losing everything (100.0 pts)" in row.reason
    assert "--mathif-min-power fails such rows" in row.reason


@pytest.mark.parametrize("min_power", [(0.8, None), (0.5, 0.5)], ids=["any-drop", "at-a-drop"])
def test_with_a_minimum_power_an_undetectable_group_fails(
    min_power: tuple[float, float | None],
) -> None:
    base, cand = _tiny_group()
    options = GateOptions(min_power=min_power[0], min_power_drop=min_power[1])
    thresholds = [parse_threshold("delta.hard_accuracy[aime]>=0")]
    (row,) = evaluate_gate_with_baseline(summarize(cand), cand, base, thresholds, options).rows
    assert not row.passed and row.test is not None and row.test.underpowered
    assert "FAILS --mathif-min-power" in row.reason
    # The same option passes a row that can detect a drop (the 40 unchanged prompts).
    overall = [parse_threshold("delta.correctness[gsm8k]>=0")]
    (row,) = evaluate_gate_with_baseline(summarize(cand), cand, base, overall, options).rows
    assert row.test is not None and row.test.power is not None and row.test.power.detectable
    assert row.passed and not row.test.underpowered


def test_a_no_rise_row_states_its_power_against_a_rise() -> None:
    base = _replay(_probabilities(), seed=1)
    (row,) = evaluate_gate_with_baseline(
        summarize(base), base, base, [parse_threshold("delta.hard_accuracy<=0.02")]
    ).rows
    assert row.passed and row.test is not None and row.test.power is not None
    assert row.test.power.change == "rise" and "against a rise of" in row.reason
    assert row.test.power.max_drop == pytest.approx(1 - summarize(base).overall.hard_accuracy.value)  # type: ignore[union-attr]
