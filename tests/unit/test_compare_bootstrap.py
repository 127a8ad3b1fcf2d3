from __future__ import annotations

import time

import numpy as np
import pytest

from mathif_pytest.compare.bootstrap import bootstrap_means, percentile_bounds


def test_the_same_seed_gives_the_same_draws_and_another_seed_others() -> None:
    values = np.random.default_rng(0).random(420)
    first = bootstrap_means(values, resamples=2_000, seed=5)
    assert np.array_equal(first, bootstrap_means(values, resamples=2_000, seed=5))
    assert not np.array_equal(first, bootstrap_means(values, resamples=2_000, seed=6))
    assert first.shape == (2_000,)


def test_columns_share_resamples_whether_computed_alone_or_together() -> None:
    values = np.random.default_rng(1).random((120, 12))  # 12 columns: the count-matrix path
    together = bootstrap_means(values, resamples=3_000, seed=2)
    alone = np.stack([bootstrap_means(values[:, j], resamples=3_000, seed=2) for j in range(3)], 1)
    np.testing.assert_allclose(together[:, :3], alone, rtol=0, atol=1e-12)


def test_weights_restrict_a_column_to_the_prompts_it_applies_to() -> None:
    values = np.array([[1.0, 1.0], [0.0, 0.0], [5.0, 0.5]])
    weights = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])  # prompt 3 does not count in col 0
    draws = bootstrap_means(values, weights, resamples=500, seed=0)
    assert np.nanmax(draws[:, 0]) <= 1.0
    assert np.nanmax(draws[:, 1]) > 1 / 3


def test_percentile_bounds_nest_one_sided_inside_two_sided() -> None:
    draws = np.random.default_rng(3).normal(size=20_000)
    bounds = percentile_bounds(draws, 0.05)
    assert bounds.low < bounds.lower < 0 < bounds.upper < bounds.high
    assert bounds.high == pytest.approx(1.96, abs=0.05)
    assert bounds.upper == pytest.approx(1.645, abs=0.05)


def test_ten_thousand_resamples_of_420_prompts_take_under_half_a_second() -> None:
    values = np.random.default_rng(4).integers(-1, 2, size=(420, 3)).astype(float)
    weights = np.ones_like(values)
    weights[:40, :2] = 0
    best = min(_timed(values, weights) for _ in range(3))
    assert best < 0.5, f"bootstrap took {best:.3f} s"


def _timed(values: np.ndarray, weights: np.ndarray) -> float:
    started = time.perf_counter()
    bootstrap_means(values, weights, resamples=10_000, seed=0)
    return time.perf_counter() - started
