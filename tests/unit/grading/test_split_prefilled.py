"""A response whose prompt pre-filled ``<think>`` is inside the thinking from its start."""

from __future__ import annotations

from mathif_pytest.grading import split_response


def test_a_prefilled_response_that_closes_its_thinking_keeps_the_official_answer() -> None:
    parts = split_response("reasoning</think>The answer is 4", thinking_prefilled=True)
    assert (parts.think_opened, parts.think_closed) == (True, True)
    assert (parts.thinking, parts.answer) == ("reasoning", "The answer is 4")
    assert split_response("reasoning</think>The answer is 4").answer == parts.answer


def test_a_prefilled_response_cut_off_while_thinking_is_unclosed_thinking() -> None:
    text = "still reasoning, the answer may be 4"
    official = split_response(text, thinking_prefilled=True)
    assert (official.think_opened, official.think_closed) == (True, False)
    assert official.thinking == text
    assert official.answer == text  # officially graded whole
    fixed = split_response(text, thinking_prefilled=True, unclosed_thinking_fails=True)
    assert fixed.answer == ""
    assert split_response(text, unclosed_thinking_fails=True).answer == text  # not pre-filled
