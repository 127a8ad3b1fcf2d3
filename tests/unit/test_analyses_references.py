"""The analyses' statistics against scipy, numpy and statsmodels on many inputs."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest
from _factories import case

from mathif_pytest.analyses import constraint_cost, quantile_edges, spearman
from mathif_pytest.analyses.constraint_cost import newcombe_paired_interval

scipy_stats = pytest.importorskip("scipy.stats")
numpy = pytest.importorskip("numpy")


def _pairs(worse: int, better: int, same_right: int, same_wrong: int) -> list:
    """Results of prompts asked both ways with these discordant and concordant counts."""
    results = []
    layout = (
        [(True, False)] * worse
        + [(False, True)] * better
        + [(True, True)] * same_right
        + [(False, False)] * same_wrong
    )
    for i, (without, with_) in enumerate(layout):
        uid = f"x-{i}"
        results.append(case(uid, correct=with_))
        results.append(replace(case(uid, correct=without), constrained=False, verdicts=()))
    return results


@pytest.mark.parametrize(
    ("worse", "better"),
    [(0, 0), (1, 0), (3, 1), (5, 5), (12, 3), (0, 9), (30, 18), (100, 71)],
)
def test_the_paired_test_of_the_constraint_cost_agrees_with_scipys_exact_binomial(
    worse: int, better: int
) -> None:
    cost = constraint_cost(_pairs(worse, better, 7, 4))
    assert cost is not None
    expected = 1.0 if worse + better == 0 else scipy_stats.binomtest(worse, worse + better).pvalue
    assert cost.overall.test.p_two_sided == pytest.approx(expected, rel=1e-12, abs=1e-15)
    one_sided = (
        1.0
        if worse + better == 0
        else scipy_stats.binomtest(worse, worse + better, alternative="greater").pvalue
    )
    # p_regression: small when the constraints make answers worse (more "worse" pairs).
    assert cost.overall.test.p_regression == pytest.approx(one_sided, rel=1e-12, abs=1e-15)


def test_the_paired_test_agrees_with_statsmodels_exact_mcnemar() -> None:
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    cost = constraint_cost(_pairs(11, 4, 20, 9))
    assert cost is not None
    # rows: without right / wrong; columns: with right / wrong
    table = [[20, 11], [4, 9]]
    assert cost.overall.test.p_two_sided == pytest.approx(
        contingency.mcnemar(table, exact=True).pvalue, rel=1e-12
    )


def test_the_newcombe_interval_reduces_to_the_wilson_difference_without_correlation() -> None:
    # a*d == b*c: phi is 0 and the limits are the Wilson half-widths combined in quadrature.
    low, high = newcombe_paired_interval(3, 3, 1, 1)
    # Wilson 6/8 = [0.409275, 0.928521], 4/8 = [0.215216, 0.784784]
    assert low == pytest.approx(0.25 - ((0.75 - 0.409275) ** 2 + 0.284784**2) ** 0.5, abs=1e-6)
    assert high == pytest.approx(0.25 + (0.178521**2 + 0.284784**2) ** 0.5, abs=1e-6)


def test_the_newcombe_interval_holds_the_estimate_and_stays_in_range() -> None:
    rng = random.Random(3)
    for _ in range(300):
        a, b, c, d = (rng.randint(0, 30) for _ in range(4))
        if a + b + c + d == 0:
            continue
        low, high = newcombe_paired_interval(a, b, c, d)
        theta = (b - c) / (a + b + c + d)
        assert -1 <= low <= theta <= high <= 1


@pytest.mark.parametrize("seed", range(8))
def test_spearman_agrees_with_scipy_ties_included(seed: int) -> None:
    rng = random.Random(seed)
    x = [float(rng.randint(0, 12)) for _ in range(40)]
    y = [float(rng.random() < 0.4) for _ in range(40)]
    found = spearman(x, y)
    assert found is not None
    assert found.rho == pytest.approx(scipy_stats.spearmanr(x, y).statistic, abs=1e-12)
    assert found.low is not None and found.high is not None
    assert found.low <= found.rho <= found.high


def test_spearman_is_undefined_for_a_constant_side() -> None:
    assert spearman([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) is None
    assert spearman([1.0], [0.0]) is None


@pytest.mark.parametrize("bins", [1, 2, 4, 6, 10])
def test_quantile_edges_are_numpys_linear_quantiles_with_ties_merged(bins: int) -> None:
    rng = random.Random(bins)
    values = [float(rng.randint(0, 500)) for _ in range(57)]
    expected = numpy.quantile(values, [k / bins for k in range(bins + 1)])
    merged = [expected[0], *(e for p, e in itertools.pairwise(expected) if e > p)]
    assert quantile_edges(values, bins) == pytest.approx(merged, abs=1e-9)


def test_a_single_length_makes_one_closed_bin() -> None:
    assert quantile_edges([5.0, 5.0, 5.0], 6) == [5.0, 5.0]
