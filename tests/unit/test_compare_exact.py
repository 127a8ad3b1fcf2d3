from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mathif_pytest.compare import exact
from mathif_pytest.compare.exact import (
    binomial_half_cdf,
    mcnemar_test,
    paired_test,
    sign_flip_test,
)


def _brute_force(differences: list[Fraction]) -> tuple[float, float, float]:
    """Enumerate all 2^n sign patterns: (two-sided, regression, improvement) p-values."""
    observed = sum(differences, Fraction(0))
    totals = [
        sum((s * d for s, d in zip(signs, differences, strict=True)), Fraction(0))
        for signs in itertools.product((1, -1), repeat=len(differences))
    ]
    n = len(totals)
    return (
        sum(abs(t) >= abs(observed) for t in totals) / n,
        sum(t <= observed for t in totals) / n,
        sum(t >= observed for t in totals) / n,
    )


@pytest.mark.parametrize("n", [0, 1, 5, 20])
def test_binomial_half_cdf_sums_the_exact_binomial_probabilities(n: int) -> None:
    for k in range(-1, n + 2):
        expected = sum(math.comb(n, i) for i in range(min(k, n) + 1)) / 2**n if k >= 0 else 0
        assert binomial_half_cdf(k, n) == pytest.approx(expected, rel=1e-12)


def test_binomial_half_cdf_stays_exact_for_a_thousand_trials() -> None:
    assert binomial_half_cdf(0, 1000) == 2.0**-1000
    assert binomial_half_cdf(500, 1000) + binomial_half_cdf(499, 1000) == pytest.approx(1.0)


def test_mcnemar_with_fifteen_one_sided_regressions_is_highly_significant() -> None:
    test = mcnemar_test(regressed=15, improved=0)
    assert test.p_regression == 2.0**-15
    assert test.p_two_sided == 2 * 2.0**-15
    assert test.p_improvement == 1.0


def test_mcnemar_with_balanced_discordance_gives_p_one() -> None:
    assert mcnemar_test(regressed=7, improved=7).p_two_sided == 1.0
    assert mcnemar_test(regressed=0, improved=0).p_two_sided == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=40))
def test_sign_flip_on_zero_one_differences_is_mcnemar(signs: list[int]) -> None:
    flipped = sign_flip_test([Fraction(s) for s in signs])
    closed = mcnemar_test(regressed=signs.count(-1), improved=signs.count(1))
    assert flipped.p_two_sided == pytest.approx(closed.p_two_sided, abs=1e-12)
    assert flipped.p_regression == pytest.approx(closed.p_regression, abs=1e-12)
    assert flipped.p_improvement == pytest.approx(closed.p_improvement, abs=1e-12)


fractions = st.builds(Fraction, st.integers(-4, 4), st.sampled_from([1, 2, 3, 4]))


@settings(max_examples=60, deadline=None)
@given(st.lists(fractions, min_size=1, max_size=10))
def test_sign_flip_matches_enumeration_of_every_sign_pattern(differences: list[Fraction]) -> None:
    test = sign_flip_test(differences)
    two_sided, regression, improvement = _brute_force(differences)
    assert test.method == "sign-flip-exact"
    assert test.p_two_sided == pytest.approx(two_sided, abs=1e-9)
    assert test.p_regression == pytest.approx(min(1.0, regression), abs=1e-9)
    assert test.p_improvement == pytest.approx(min(1.0, improvement), abs=1e-9)


def test_sign_flip_falls_back_to_a_seeded_monte_carlo_on_a_huge_grid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    differences = [Fraction(k % 7 - 3, 4) for k in range(60)] + [Fraction(-1, 2)] * 8
    exact_test = sign_flip_test(differences)
    monkeypatch.setattr(exact, "EXACT_GRID_LIMIT", 1)
    estimate = sign_flip_test(differences, seed=3)
    assert estimate.method == "sign-flip-monte-carlo"
    assert estimate == sign_flip_test(differences, seed=3)
    assert estimate.p_two_sided == pytest.approx(exact_test.p_two_sided, abs=0.02)


def test_paired_test_picks_mcnemar_for_zero_one_values_and_sign_flip_for_means() -> None:
    ones = [Fraction(1), Fraction(0), Fraction(1)]
    assert paired_test(ones, [Fraction(0)] * 3).method == "mcnemar-exact"
    means = [Fraction(1, 2), Fraction(1), Fraction(0)]
    assert paired_test(means, [Fraction(0)] * 3).method == "sign-flip-exact"


def test_no_differences_give_p_one() -> None:
    assert sign_flip_test([Fraction(0)] * 5).p_two_sided == 1.0
    assert sign_flip_test([]).p_regression == 1.0
