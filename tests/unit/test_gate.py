from __future__ import annotations

import pytest
from _factories import case
from hypothesis import given
from hypothesis import strategies as st

from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate import (
    GateReport,
    RunOutcome,
    decide_exit_status,
    evaluate_gate,
    parse_threshold,
)
from mathif_pytest.stats import summarize


@pytest.mark.parametrize(
    ("text", "metric", "group", "op", "value"),
    [
        ("hard_accuracy>=0.40", "hard_accuracy", None, ">=", 0.40),
        ("correctness[aime]>=0.2", "correctness", "aime", ">=", 0.2),
        ("soft_accuracy[triple] > 50%", "soft_accuracy", "triple", ">", 0.5),
        ("compliance[keywords:frequency]<0.9", "compliance", "keywords:frequency", "<", 0.9),
    ],
    ids=["overall", "source", "percent-and-spaces", "constraint-type"],
)
def test_gate_expressions_parse(
    text: str, metric: str, group: str | None, op: str, value: float
) -> None:
    t = parse_threshold(text)
    assert (t.metric, t.group, t.op, t.value) == (metric, group, op, pytest.approx(value))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hard_accuracy=0.4", "not a gate expression"),
        ("hard_acuracy>=0.4", "did you mean 'hard_accuracy'"),
        ("correctness>=", "not a gate expression"),
    ],
    ids=["single-equals", "typo", "no-value"],
)
def test_bad_gate_expressions_explain_the_form(text: str, message: str) -> None:
    with pytest.raises(GateSpecError, match=message):
        parse_threshold(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("hard_accuracy>=1", 1.0),
        ("hard_accuracy>=0", 0.0),
        ("correctness>=100%", 1.0),
        ("delta.correctness>=-2%", -0.02),
        ("delta.correctness>=-1", -1.0),
    ],
)
def test_bounds_at_the_ends_of_their_range_parse(text: str, value: float) -> None:
    assert parse_threshold(text).value == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hard_accuracy>=10",
            r"a rate bound is a fraction .*\(got 10\); did you mean 0\.1 \(10%\)\?$",
        ),
        ("hard_accuracy>=101%", r"between 0% and 100% \(got 101%\)$"),
        ("correctness>=-0.1", r"\(got -0\.1\)$"),
        ("delta.hard_accuracy>=-2", r"between -1 and 1 \(got -2\); write e\.g\."),
        ("delta.hard_accuracy>=-150%", r"between -1 and 1 \(got -150%\)"),
    ],
    ids=["fraction-over-1", "percent-over-100", "negative-rate", "delta-over-1", "delta-percent"],
)
def test_bounds_outside_their_range_are_errors_that_offer_the_right_spelling(
    text: str, message: str
) -> None:
    with pytest.raises(GateSpecError, match=message):
        parse_threshold(text)


def test_gate_passes_and_fails_on_the_point_estimate() -> None:
    summary = summarize([case("x-0"), case("x-1", (False,))])
    report = evaluate_gate(
        summary, [parse_threshold("hard_accuracy>=0.5"), parse_threshold("hard_accuracy>0.5")]
    )
    assert [row.passed for row in report.rows] == [True, False]
    assert not report.passed


def test_a_threshold_on_a_group_without_samples_fails_with_a_hint() -> None:
    report = evaluate_gate(
        summarize([case("x-0", source="aime")]), [parse_threshold("correctness[aimee]>=0")]
    )
    assert not report.passed
    assert "did you mean 'aime'" in report.rows[0].reason


def test_hard_accuracy_of_an_unconstrained_run_does_not_apply_and_fails() -> None:
    from dataclasses import replace

    unconstrained = replace(case("x-0"), constrained=False, verdicts=())
    report = evaluate_gate(summarize([unconstrained]), [parse_threshold("hard_accuracy>=0")])
    assert not report.passed


def test_an_empty_gate_passes() -> None:
    assert GateReport(rows=()).passed


PASS, FAIL = (
    GateReport(rows=()),
    evaluate_gate(summarize([case("x-0", (False,))]), [parse_threshold("hard_accuracy>=1")]),
)


def _outcome(**kw: object) -> RunOutcome:
    base = {
        "pytest_status": 1,
        "mathif_cases": 10,
        "mathif_failures": 5,
        "mathif_errors": 0,
        "other_failures": 0,
    }
    base.update(kw)
    return RunOutcome(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "gate", "status"),
    [
        (_outcome(), PASS, 0),
        (_outcome(), FAIL, 1),
        (_outcome(pytest_status=0, mathif_failures=0), PASS, 0),
        (_outcome(mathif_errors=1), PASS, 1),
        (_outcome(other_failures=1), PASS, 1),
        (_outcome(ungradable_share=0.2, max_ungradable=0.1), PASS, 1),
        (_outcome(strict=True), PASS, 1),
        (_outcome(pytest_status=2), PASS, 2),
        (_outcome(pytest_status=3), PASS, 3),
        (_outcome(pytest_status=4), PASS, 4),
        (_outcome(pytest_status=5, mathif_cases=0), PASS, 5),
        (_outcome(pytest_status=0, mathif_cases=0), FAIL, 0),
    ],
    ids=[
        "sample-failures-forgiven-when-gate-passes",
        "gate-fails",
        "all-pass",
        "mathif-error-never-masked",
        "other-test-failure-never-masked",
        "too-many-ungradable",
        "strict-mode",
        "interrupted",
        "internal-error",
        "usage-error",
        "nothing-collected",
        "no-mathif-case-keeps-pytest-status",
    ],
)
def test_exit_status_policy(outcome: RunOutcome, gate: GateReport, status: int) -> None:
    assert decide_exit_status(outcome, gate) == status


@given(st.floats(0, 1), st.floats(0, 1))
def test_less_than_and_at_least_are_complementary(observed: float, bound: float) -> None:
    at_least = parse_threshold(f"correctness>={bound:.6f}")
    below = parse_threshold(f"correctness<{bound:.6f}")
    assert at_least.holds(observed) != below.holds(observed)
