from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
from _factories import case
from _synthetic_runs import synthetic_run

from mathif_pytest.compare import CompareOptions, compare_runs
from mathif_pytest.constraints._base import Verdict
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import summarize


def _unconstrained(result: CaseResult) -> CaseResult:
    return replace(result, verdicts=(), constrained=False)


def test_identical_runs_have_zero_deltas_p_one_and_no_flips() -> None:
    run = synthetic_run(0)
    report = compare_runs(run, run)
    assert report.shared == 420 and report.only_baseline == report.only_candidate == 0
    for delta in report.deltas:
        assert delta.delta == 0 and delta.low == delta.high == 0
        assert delta.p_value == 1.0
    assert report.flips == ()


def test_prompts_pair_by_uid_and_the_unshared_are_counted() -> None:
    base = [case("a-0"), case("a-1"), case("a-2")]
    cand = [case("a-1"), case("a-2", (False,)), case("a-3")]
    report = compare_runs(base, cand)
    assert (report.shared, report.only_baseline, report.only_candidate) == (2, 1, 1)
    hard = report.metric("hard_accuracy")
    assert hard is not None and hard.delta == pytest.approx(-0.5)
    assert (hard.regressed, hard.improved) == (1, 0)


def test_flips_name_the_constraint_types_that_changed() -> None:
    ids = ("keywords:existence", "punctuation:no_comma")
    base = [case("x-0", (True, True), True, ids=ids), case("x-1", (False, True), False, ids=ids)]
    cand = [case("x-0", (True, False), False, ids=ids), case("x-1", (True, True), True, ids=ids)]
    report = compare_runs(base, cand)
    assert report.flip_counts() == {
        "followed_to_violated": 1,
        "violated_to_followed": 1,
        "correct_to_wrong": 1,
        "wrong_to_correct": 1,
    }
    broke = next(f for f in report.flips if f.kind == "followed_to_violated")
    assert (broke.uid, broke.changed) == ("x-0", ("punctuation:no_comma",))
    fixed = next(f for f in report.flips if f.kind == "violated_to_followed")
    assert fixed.changed == ("keywords:existence",)


def test_several_samples_per_prompt_compare_per_prompt_means_with_the_sign_flip_test() -> None:
    base, cand = synthetic_run(0, samples=4), synthetic_run(1, samples=4)
    report = compare_runs(base, cand)
    hard = report.metric("hard_accuracy")
    assert hard is not None and hard.test.method == "sign-flip-exact"
    before, after = summarize(base).overall.hard_accuracy, summarize(cand).overall.hard_accuracy
    assert before is not None and after is not None
    assert hard.delta == pytest.approx(after.value - before.value)
    assert hard.low < hard.delta < hard.high


def test_soft_accuracy_and_correctness_match_the_summaries() -> None:
    base, cand = synthetic_run(0), synthetic_run(2)
    report = compare_runs(base, cand)
    for name in ("soft_accuracy", "correctness"):
        delta = report.metric(name)
        before = summarize(base).overall.metric(name)
        after = summarize(cand).overall.metric(name)
        assert delta is not None and before is not None and after is not None
        assert delta.delta == pytest.approx(after.value - before.value)


def test_runs_without_constraints_compare_correctness_only() -> None:
    base = [_unconstrained(c) for c in synthetic_run(0)]
    report = compare_runs(base, [_unconstrained(c) for c in synthetic_run(1)])
    assert [d.metric for d in report.deltas] == ["correctness"]


def test_a_group_restricts_the_comparison_to_its_prompts() -> None:
    report = compare_runs(synthetic_run(0), synthetic_run(1), group="aime")
    assert report.shared == 60
    assert {f.source for f in report.flips} == {"aime"}
    assert compare_runs(synthetic_run(0), synthetic_run(1), group="nope").deltas == ()


def test_the_report_is_reproducible_and_json_ready() -> None:
    options = CompareOptions(resamples=1_000, seed=9)
    first = compare_runs(synthetic_run(0), synthetic_run(1), options).to_dict()
    assert first == compare_runs(synthetic_run(0), synthetic_run(1), options).to_dict()
    assert json.loads(json.dumps(first))["metrics"]["hard_accuracy"]["test"]["method"] == (
        "mcnemar-exact"
    )


@pytest.mark.parametrize("bad", [{"alpha": 0.0}, {"alpha": 0.7}, {"resamples": 10}])
def test_bad_options_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        CompareOptions(**bad)  # type: ignore[arg-type]


def test_constraint_flip_detail_quotes_the_candidates_reason() -> None:
    ids = ("keywords:existence",)
    base = [case("x-0", (True,), ids=ids)]
    cand = [
        replace(
            case("x-0", (False,), ids=ids),
            verdicts=(Verdict(constraint_id=ids[0], followed=False, detail="'apple' is missing"),),
        )
    ]
    (flip,) = compare_runs(base, cand).flips
    assert "'apple' is missing" in flip.detail


def test_importing_the_comparison_package_does_not_import_numpy_or_matplotlib() -> None:
    code = (
        "import sys, mathif_pytest.compare, mathif_pytest.cli.compare, "
        "mathif_pytest.multisample; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('numpy', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
