"""The Allure failure taxonomy (categories.json) against the messages MathIF cases fail with.

The messages are the ones the Allure report shows (``failure_message``): one line per reason,
each starting with the constraint type or ``answer``, regressions first and marked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

pytest.importorskip("allure_pytest")

from mathif_pytest.case import CaseSpec, MathIFCase
from mathif_pytest.constraints import REGISTRY
from mathif_pytest.constraints._base import Verdict
from mathif_pytest.dataset import Sample, load_dataset
from mathif_pytest.grading import AnswerGrade, Grade, split_response
from mathif_pytest.reporting.allure_case import failure_message
from mathif_pytest.reporting.allure_categories import (
    EMPTY_RESPONSE,
    GENERATION_ERROR,
    REGRESSED_ANSWER,
    TRUNCATED,
    UNCLOSED_THINKING,
    UNGRADABLE,
    WRONG_ANSWER,
    Category,
    categories,
    failure_kinds,
)
from mathif_pytest.reporting.allure_run import properties_text
from mathif_pytest.results import CaseResult
from mathif_pytest.scoring import ScoringConfig, ScoringItem, score_items

#: Categories that no failure message shows today: they match by the mathif_failure label.
LABEL_ONLY = {TRUNCATED, UNCLOSED_THINKING}


@pytest.fixture(scope="module")
def samples(data_dir: Path) -> dict[str, Sample]:
    return load_dataset(data_dir).by_uid()


def _case(
    sample: Sample,
    results: Sequence[CaseResult],
    texts: Sequence[str],
    baseline: Sequence[CaseResult] = (),
) -> MathIFCase:
    spec = CaseSpec(suite="smoke", sample=sample, constrained=True)
    return MathIFCase(
        spec=spec,
        prompt=sample.question,
        responses=tuple(texts),
        parts=tuple(split_response(t) for t in texts),
        results=tuple(results),
        baseline=tuple(baseline),
    )


def _message(case: MathIFCase) -> str:
    """The message the Allure report shows for the failed case."""
    assert not case.passed
    return failure_message(case)


def _first_match(message: str) -> str | None:
    """The category Allure 3 files a failure under (the first whose regex finds the message)."""
    return next((c.name for c in categories() if re.search(c.message_regex, message)), None)


@pytest.fixture(scope="module")
def scored(samples: dict[str, Sample]) -> dict[str, MathIFCase]:
    """Real scoring of real samples: the messages the plugin's items fail with."""
    texts = {
        "wrong": ("gsm8k_single-29", ["<think>a</think>The final answer is \\boxed{7}"]),
        "violated": ("gsm8k_single-1", ["I do not know"]),
        "empty": ("gsm8k_triple-0", [""]),
        "truncated": ("gsm8k_double-0", ["<think>Let me think about"]),
        "two responses": ("gsm8k_single-1", ["<think>a</think>\\boxed{5}", "I do not know"]),
    }
    items = [
        ScoringItem(
            sample=samples[uid],
            index=i,
            text=t,
            finish_reason="length" if key == "truncated" else None,
        )
        for key, (uid, ts) in texts.items()
        for i, t in enumerate(ts)
    ]
    results = iter(score_items(items, ScoringConfig()))
    return {
        key: _case(samples[uid], [next(results) for _ in ts], ts)
        for key, (uid, ts) in texts.items()
    }


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("wrong", WRONG_ANSWER),
        ("violated", "Constraint violated: keywords:frequency"),
        ("empty", EMPTY_RESPONSE),
        ("two responses", "Constraint violated: keywords:frequency"),
    ],
)
def test_real_failure_message_is_filed_under_its_root_cause(
    scored: dict[str, MathIFCase], key: str, category: str
) -> None:
    assert _first_match(_message(scored[key])) == category


def test_generation_error_message_is_filed_as_a_backend_error() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        pytest.fail("gsm8k_single-1: no response was generated (sample 0)", pytrace=False)
    assert _first_match(info.exconly()) == GENERATION_ERROR


def test_message_starts_with_the_constraint_type_and_its_reason(
    scored: dict[str, MathIFCase],
) -> None:
    message = _message(scored["violated"])
    assert message.startswith("keywords:frequency: 'total' appears 0 times; needs at least 2")
    assert "CaseFailure" not in message and "gsm8k_single-1" not in message


def _regressed(samples: dict[str, Sample], now: CaseResult, before: CaseResult) -> MathIFCase:
    return _case(samples[now.uid], [now], ["x"], baseline=[before])


def test_a_regression_is_filed_under_its_constraint_type_first(
    samples: dict[str, Sample],
) -> None:
    sample = samples["gsm8k_single-1"]
    correct = Grade(outcome=AnswerGrade.CORRECT, extracted="5", reference="5", detail="equal")
    before = _result(
        sample, (Verdict(constraint_id="keywords:frequency", followed=True, detail="ok"),), correct
    )
    now = _result(
        sample,
        (
            Verdict(
                constraint_id="keywords:frequency",
                followed=False,
                detail="'total' appears 1 time; needs at least 2",
            ),
        ),
        correct,
    )
    case = _regressed(samples, now, before)
    message = _message(case)
    assert message == (
        "keywords:frequency: 'total' appears 1 time; needs at least 2 "
        "(regressed: followed in the baseline)"
    )
    assert failure_kinds(case) == [
        "Regressed: keywords:frequency",
        "Constraint violated: keywords:frequency",
    ]
    assert _first_match(message) == "Regressed: keywords:frequency"
    # A constraint that was violated before too is no regression.
    assert _first_match(_message(_regressed(samples, now, now))) == (
        "Constraint violated: keywords:frequency"
    )


def test_an_answer_that_was_right_in_the_baseline_is_a_regressed_answer(
    samples: dict[str, Sample],
) -> None:
    sample = samples["gsm8k_single-29"]
    verdicts = (Verdict(constraint_id="punctuation:no_comma", followed=True, detail="ok"),)
    right = Grade(outcome=AnswerGrade.CORRECT, extracted="106", reference="106", detail="equal")
    wrong = Grade(outcome=AnswerGrade.INCORRECT, extracted="7", reference="106", detail="differ")
    case = _regressed(samples, _result(sample, verdicts, wrong), _result(sample, verdicts, right))
    assert _message(case).endswith("(regressed: correct in the baseline)")
    assert failure_kinds(case)[0] == REGRESSED_ANSWER
    assert _first_match(_message(case)) == REGRESSED_ANSWER


def test_ungradable_answer_is_filed_as_ungradable(samples: dict[str, Sample]) -> None:
    grade = Grade(
        outcome=AnswerGrade.UNGRADABLE,
        extracted="x",
        reference="5",
        detail="grading timed out after 5 s",
    )
    result = _result(samples["gsm8k_single-1"], (), grade)
    assert _first_match(_message(_case(samples["gsm8k_single-1"], [result], ["x"]))) == UNGRADABLE


def _result(sample: Sample, verdicts: tuple[Verdict, ...], grade: Grade) -> CaseResult:
    return CaseResult(
        uid=sample.uid,
        sample=0,
        source=sample.source,
        level=sample.level,
        constraint_ids=tuple(v.constraint_id for v in verdicts),
        verdicts=verdicts,
        grade=grade,
    )


@pytest.mark.parametrize("constraint_id", sorted(REGISTRY))
def test_every_constraint_type_has_a_category_matching_its_violation(
    samples: dict[str, Sample], constraint_id: str
) -> None:
    sample = samples["gsm8k_single-1"]
    correct = Grade(outcome=AnswerGrade.CORRECT, extracted="5", reference="5", detail="equal")
    verdicts = (
        Verdict(constraint_id="keywords:existence", followed=True, detail="ok"),
        Verdict(constraint_id=constraint_id, followed=False, detail="reason: x"),
    )
    message = _message(_case(sample, [_result(sample, verdicts, correct)], ["x"]))
    assert message.startswith(f"{constraint_id}: reason: x")
    assert _first_match(message) == f"Constraint violated: {constraint_id}"


def test_truncation_and_unclosed_thinking_show_in_labels_and_messages(
    scored: dict[str, MathIFCase],
) -> None:
    kinds = failure_kinds(scored["truncated"])
    assert kinds[:2] == [TRUNCATED, UNCLOSED_THINKING]
    assert _first_match(_message(scored["truncated"])) == TRUNCATED


def test_failure_kinds_of_a_passed_case_are_empty(samples: dict[str, Sample]) -> None:
    sample = samples["gsm8k_single-1"]
    correct = Grade(outcome=AnswerGrade.CORRECT, extracted="5", reference="5", detail="equal")
    verdict = Verdict(constraint_id="keywords:frequency", followed=True, detail="ok")
    assert failure_kinds(_case(sample, [_result(sample, (verdict,), correct)], ["5"])) == []


@pytest.mark.parametrize("category", categories(), ids=lambda c: c.name)
def test_regex_means_the_same_to_allure_2_and_allure_3(category: Category) -> None:
    # Allure 2 full-matches the whole message; Allure 3 searches it. `[\s\S]*` makes them agree.
    sample = f"x: {category.name}\nanswer incorrect: y (regressed: z)\nFailed: z"
    regex = re.compile(category.message_regex)
    assert bool(regex.fullmatch(sample)) == bool(regex.search(sample))
    assert category.to_json()["matchedStatuses"]


def test_category_names_are_unique() -> None:
    names = [c.name for c in categories()]
    assert len(names) == len(set(names)) == 2 * len(REGISTRY) + 7


def test_properties_text_escapes_like_java_properties() -> None:
    text = properties_text({"a key": "x=1: #2", "model": "ckpt\nnext", "name": "é😀"})
    assert text == ("a\\ key=x\\=1\\: \\#2\nmodel=ckpt\\nnext\nname=\\u00e9\\ud83d\\ude00\n")
