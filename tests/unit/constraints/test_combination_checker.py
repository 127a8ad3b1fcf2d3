"""Tests for combination:repeat_prompt."""

from __future__ import annotations

import pytest

QUESTION = "What is 2+2?"

REPEATS = [
    pytest.param(QUESTION, "What is 2+2? It is 4.", True, id="verbatim-then-answer"),
    pytest.param(QUESTION, "  what IS 2+2?\n4", True, id="case-and-outer-whitespace-ignored"),
    pytest.param(QUESTION, "What is 2+2?", True, id="request-alone"),
    pytest.param(" What is 2+2? ", "What is 2+2? 4", True, id="request-is-stripped"),
    pytest.param(QUESTION, "Sure. What is 2+2? 4", False, id="preamble-fails"),
    pytest.param(QUESTION, "What is 2 + 2? 4", False, id="changed-spacing-fails"),
    pytest.param(QUESTION, '"What is 2+2?" 4', False, id="quote-before-fails"),
    pytest.param(QUESTION, "What is 2+2", False, id="truncated-fails"),
]


@pytest.mark.parametrize(("prompt", "response", "followed"), REPEATS)
def test_repeat_prompt_needs_the_request_as_a_case_insensitive_prefix(
    judge, prompt, response, followed
):
    verdict = judge("combination:repeat_prompt", {"prompt_to_repeat": prompt}, response)
    assert verdict.followed is followed, verdict.detail


@pytest.mark.parametrize(
    ("response", "detail"),
    [
        pytest.param(
            "Sure, here it is: What is 2+2?",
            "response starts with 'Sure, here it is: What is 2+2?' instead of the request",
            id="nothing-in-common",
        ),
        pytest.param(
            "What is 2 + 2? 4",
            "response repeats the first 9 characters of the request, then has ' + 2? 4' "
            "where the request has '+2?'",
            id="diverges-later",
        ),
    ],
)
def test_repeat_prompt_detail_says_where_the_response_diverges(judge, response, detail):
    verdict = judge("combination:repeat_prompt", {"prompt_to_repeat": QUESTION}, response)
    assert verdict.detail == detail


def test_repeat_prompt_accepts_a_gsm8k_question_with_its_hash_instruction(judge, data_rows):
    question = next(row["question"] for name, _, row in data_rows if name.startswith("gsm8k"))
    assert question.endswith('output the final answer after "####".')
    response = question + "\nThe answer is 168.\n#### 168"
    assert judge("combination:repeat_prompt", {"prompt_to_repeat": question}, response).followed
