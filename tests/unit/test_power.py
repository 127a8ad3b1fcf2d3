"""The power of a delta row: the exact engine against enumeration, both engines against the gate.

The exact engine (one 0/1 outcome per prompt) is checked against a brute-force reference built
from scipy: every outcome of a small run enumerated with its multinomial probability, McNemar's
p from ``scipy.stats.binomtest`` and the ideal bootstrap's p by enumerating every resample.
Both engines are checked against the gate itself: replicates drawn from the model at the
printed minimum detectable drop, judged with the real bootstrap and exact tests, must fail
as often as the printed power says (within 0.03).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _gate_replicates import beta_replicates, gate_fails
from scipy import stats

from mathif_pytest.compare import PowerModel, row_power
from mathif_pytest.compare.power_exact import BinaryRule, binary_power, bootstrap_tail

ALPHA = 0.05
#: Beta(0.4, 0.6): U-shaped like real models (mean 0.4, E[p (1 - p)] = 0.12).
BETA = (0.4, 0.6)


def _model(prompts: int, units: tuple[tuple[int, int], ...], samples: int = 1) -> PowerModel:
    return PowerModel(
        metric="hard_accuracy", prompts=prompts, samples=samples, units=units, mean=0.4, within=0.12
    )


def _bootstrap_reference(regressed: int, improved: int, n: int, margin: float) -> float:
    """P*(resampled delta >= margin), every multinomial resample enumerated (scipy)."""
    kinds = [regressed / n, improved / n, (n - regressed - improved) / n]
    total = 0.0
    for r in range(n + 1):
        for i in range(n + 1 - r):
            if (i - r) / n >= margin - 1e-9:
                total += stats.multinomial.pmf([r, i, n - r - i], n, kinds)
    return total


def _fails_reference(regressed: int, improved: int, n: int, margin: float) -> bool:
    if not (improved - regressed) / n < margin:
        return False
    d = regressed + improved
    exact = stats.binomtest(regressed, d, 0.5, alternative="greater").pvalue if d else 1.0
    return max(exact, _bootstrap_reference(regressed, improved, n, margin)) < ALPHA


@pytest.mark.parametrize(("regressed", "improved"), [(2, 1), (3, 0), (1, 4), (0, 0), (5, 5)])
@pytest.mark.parametrize("at_least", [-3, -1, 0, 2])
def test_the_ideal_bootstrap_tail_is_the_enumerated_multinomial_sum(
    regressed: int, improved: int, at_least: int
) -> None:
    n = 11
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
    expected = _bootstrap_reference(regressed, improved, n, at_least / n)
    assert bootstrap_tail(regressed, improved, n, at_least, log_fact) == pytest.approx(
        expected, abs=1e-10
    )


@pytest.mark.parametrize("margin", [0.0, -0.1])
def test_exact_power_is_the_sum_over_every_outcome_of_a_small_run(margin: float) -> None:
    n, regress, improve = 12, 0.3, 0.1
    rule = BinaryRule.build(n, margin, ALPHA)
    expected = 0.0
    for r in range(n + 1):
        for i in range(n + 1 - r):
            if _fails_reference(r, i, n, margin):
                expected += stats.multinomial.pmf([r, i, n - r - i], n, [regress, improve, 0.6])
    assert expected > 0.05  # the rule does fail sometimes here: not a vacuous comparison
    assert rule.power(regress, improve) == pytest.approx(expected, abs=1e-9)


def test_the_critical_counts_are_the_first_failing_regression_counts() -> None:
    n, margin = 30, -0.05
    rule = BinaryRule.build(n, margin, ALPHA)
    for d in range(0, n + 1, 3):
        failing = [r for r in range(d + 1) if _fails_reference(r, d - r, n, margin)]
        assert rule.critical[d] == (failing[0] if failing else d + 1)
        assert failing == list(range(rule.critical[d], d + 1))  # fails from there on


@pytest.mark.parametrize(
    ("prompts", "units", "samples", "margin"),
    [
        (420, ((1, 420),), 1, -0.02),
        (45, ((1, 45),), 1, -0.02),
        (420, ((1, 420),), 1, 0.0),
        (45, ((4, 45),), 4, 0.0),
        (420, ((1, 140), (2, 140), (3, 140)), 1, -0.02),
    ],
    ids=["hard-420", "hard-45", "hard-420-margin-0", "4-samples-45", "soft-420"],
)
def test_the_gate_fails_as_often_as_the_printed_power_at_the_printed_drop(
    prompts: int, units: tuple[tuple[int, int], ...], samples: int, margin: float
) -> None:
    statement = row_power(_model(prompts, units, samples), margin=margin, level=ALPHA)
    assert statement.detectable_drop is not None and statement.power_at_detectable_drop is not None
    counts = np.array(_model(prompts, units).unit_counts())
    base, cand = beta_replicates(2_000, counts, BETA, statement.detectable_drop, seed=7)
    real = gate_fails(base, cand, counts, margin, ALPHA).mean()
    print(
        f"{statement.method}: drop {statement.detectable_drop:.4f}, printed power "
        f"{statement.power_at_detectable_drop:.3f}, the gate's {real:.3f}"
    )
    assert abs(real - statement.power_at_detectable_drop) <= 0.03
    assert abs(statement.power_at_detectable_drop - 0.8) <= 0.02


def test_a_four_prompt_group_cannot_detect_even_losing_everything() -> None:
    group = PowerModel(
        metric="hard_accuracy", prompts=4, samples=1, units=((1, 4),), mean=1.0, within=0.0
    )
    statement = row_power(group, margin=0.0, level=ALPHA)
    assert not statement.detectable and statement.max_power == 0.0
    assert statement.sentence().startswith("undetectable: even losing everything (100.0 pts)")
    # Five prompts can: 2^-5 < 0.05, so a total collapse always fails the row.
    five = row_power(group.resized(5, 1), margin=0.0, level=ALPHA)
    assert five.max_power == pytest.approx(1.0) and five.detectable


def test_power_is_per_row_margin_metric_and_level() -> None:
    model = _model(420, ((1, 420),))
    at_zero = row_power(model, margin=0.0, level=ALPHA).detectable_drop
    at_two = row_power(model, margin=-0.02, level=ALPHA).detectable_drop
    holm_72 = row_power(model, margin=-0.02, level=ALPHA / 72).detectable_drop
    assert at_zero is not None and at_two is not None and holm_72 is not None
    assert at_zero < at_two < holm_72
    assert row_power(
        model, margin=-0.02, level=ALPHA, required_drop=at_two
    ).power_at_required_drop == (pytest.approx(0.8, abs=1e-3))
    # The example: at 420 prompts this row has about 47% power against its own 2-point
    # margin plus the 4.1-point MDE that margin 0 would print.
    power = binary_power(BinaryRule.build(420, -0.02, ALPHA), 0.24, 0.4, at_zero)
    assert 0.35 < power < 0.6


def test_more_prompts_and_more_samples_detect_smaller_drops() -> None:
    drops = [
        row_power(_model(n, ((s, n),), s), margin=-0.02, level=ALPHA).detectable_drop
        for n, s in [(45, 1), (420, 1), (420, 4)]
    ]
    assert all(d is not None for d in drops)
    assert drops[0] > drops[1] > drops[2]  # type: ignore[operator]


def test_a_model_fitted_from_one_run_estimates_the_spread_from_its_samples() -> None:
    run = PowerModel.from_run("hard_accuracy", [(2, 4)] * 5 + [(4, 4)] * 5, samples=4)
    # c (m - c) / (m (m - 1)) per prompt: 1/3 for 2 of 4, 0 for 4 of 4.
    assert run.within == pytest.approx((5 * 2 * 2 / (4 * 3)) / 10) and not run.assumption
    one_sample = PowerModel.from_run("hard_accuracy", [(1, 1), (0, 1)] * 5, samples=1)
    assert one_sample.within == pytest.approx(0.25) and "worst case" in one_sample.assumption
    given = PowerModel.from_run("hard_accuracy", [(1, 1), (0, 1)] * 5, samples=1, discordance=0.2)
    assert given.within == pytest.approx(0.1)


def test_a_model_fitted_from_a_comparison_uses_the_discordance() -> None:
    pairs = [((1, 1), (0, 1))] * 3 + [((0, 1), (1, 1))] * 2 + [((1, 1), (1, 1))] * 15
    model = PowerModel.from_pairs("correctness", pairs, samples=1)
    assert model.discordance == pytest.approx(5 / 20) and model.mean == pytest.approx(18 / 20)
    assert model.binary


def test_resizing_keeps_the_mix_of_constraint_counts() -> None:
    soft = _model(420, ((1, 140), (2, 140), (3, 140)))
    resized = soft.resized(45, 4)
    assert resized.units == ((4, 15), (8, 15), (12, 15)) and resized.samples == 4
    assert math.isclose(resized.mean, soft.mean)
