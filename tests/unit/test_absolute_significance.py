"""Absolute thresholds in "significantly below" mode: the score test behind the Wilson interval."""

from __future__ import annotations

import pytest
from _factories import case
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from mathif_pytest.compare import GateOptions, evaluate_gate_with_baseline
from mathif_pytest.compare.absolute_test import score_p_value
from mathif_pytest.gate import parse_threshold
from mathif_pytest.stats import summarize

ALPHA = 0.05


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(0, 400), st.floats(0.02, 0.98))
def test_the_score_test_rejects_exactly_when_the_one_sided_wilson_bound_excludes_the_bound(
    n: int, k: int, bound: float
) -> None:
    k = min(k, n)
    # statsmodels' two-sided Wilson interval at level 2 alpha: its upper end is the one-sided
    # 1 - alpha upper bound.
    upper = proportion_confint(k, n, alpha=2 * ALPHA, method="wilson")[1]
    p = score_p_value(k / n, n, bound)
    if abs(upper - bound) > 1e-9:
        assert (p < ALPHA) == (upper < bound)


def _run(followed: int, total: int = 420) -> list:
    return [case(f"x-{i}", (i < followed,)) for i in range(total)]


@pytest.mark.parametrize(
    ("followed", "point", "significant"),
    [(160, False, True), (120, False, False), (200, True, True)],
    ids=["a-bit-below", "far-below", "above"],
)
def test_significant_mode_fails_only_when_the_rate_is_significantly_below(
    followed: int, point: bool, significant: bool
) -> None:
    cases = _run(followed)
    thresholds = [parse_threshold("hard_accuracy>=0.40")]
    (by_point,) = evaluate_gate_with_baseline(summarize(cases), cases, None, thresholds).rows
    options = GateOptions(absolute="significant")
    (tested,) = evaluate_gate_with_baseline(summarize(cases), cases, None, thresholds, options).rows
    assert (by_point.passed, tested.passed) == (point, significant)
    assert by_point.test is None and tested.test is not None
    assert tested.test.kind == "significantly-below"


def test_significant_absolute_rows_join_the_family_of_delta_rows() -> None:
    cases = _run(200)
    thresholds = [
        parse_threshold("hard_accuracy>=0.40"),
        parse_threshold("delta.hard_accuracy>=-0.02"),
        parse_threshold("correctness>=0.5"),
    ]
    options = GateOptions(absolute="significant")
    rows = evaluate_gate_with_baseline(summarize(cases), cases, cases, thresholds, options).rows
    assert all(r.test is not None and len(r.test.family) == 3 for r in rows)
    assert [r.passed for r in rows] == [True, True, True]
