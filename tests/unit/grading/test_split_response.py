"""split_response: the official post-processing cuts, and what they throw away."""

from __future__ import annotations

import pytest

from mathif_pytest.grading import ResponseParts, split_response

# (raw, answer, thinking, think_opened, think_closed)
CASES = [
    ("plain answer \\boxed{5}", "plain answer \\boxed{5}", "", False, False),
    ("<think>reason</think>answer", "answer", "reason", True, True),
    ("reason</think>answer", "answer", "reason", False, True),
    ("a</think>b</think>c", "b", "a", False, True),
    ("<think>a<think>b</think>c", "a", "a<think>b", True, True),
    ("x</think><answer>y</answer>z", "y", "x", False, True),
    ("<think>cut \\boxed{7}", "cut \\boxed{7}", "cut \\boxed{7}", True, False),
    ("pre<think>reason</think>post", "post", "reason", True, True),
    ("<answer>only answer</answer> trailing", "only answer", "", False, False),
    ("no open</answer> rest", "no open", "", False, False),
    ("<think></think>", "", "", True, True),
    ("", "", "", False, False),
    ("<think>a</think>b<answer>c", "c", "a", True, True),
    ("</think>", "", "", False, True),
]  # fmt: skip
IDS = [
    "no-tags-whole-text", "closed-think", "prefilled-think", "second-close-ends-answer",
    "second-open-ends-segment", "answer-tags-inside", "unclosed-think-whole-text",
    "text-before-think-dropped", "answer-tags-only", "close-answer-only", "empty-think",
    "empty-response", "unclosed-answer-tag", "bare-close-think",
]  # fmt: skip


@pytest.mark.parametrize(("raw", "answer", "thinking", "opened", "closed"), CASES, ids=IDS)
def test_split_response_follows_the_official_cuts(
    raw: str, answer: str, thinking: str, opened: bool, closed: bool
) -> None:
    parts = split_response(raw)
    assert parts == ResponseParts(
        raw=raw, answer=answer, thinking=thinking, think_opened=opened, think_closed=closed
    )


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        ("<think>never closed \\boxed{3}", ""),
        ("<think>closed</think> \\boxed{3}", " \\boxed{3}"),
        ("no tags at all \\boxed{3}", "no tags at all \\boxed{3}"),
        ("prefilled only</think> \\boxed{3}", " \\boxed{3}"),
    ],
    ids=["unclosed-is-empty", "closed-unaffected", "untagged-unaffected", "prefilled-unaffected"],
)
def test_unclosed_thinking_fails_empties_only_an_unclosed_think(raw: str, answer: str) -> None:
    assert split_response(raw, unclosed_thinking_fails=True).answer == answer


def test_split_response_answer_is_what_the_official_code_scores() -> None:
    raw = "<think>I guess \\boxed{1}</think>Final: \\boxed{2}"
    parts = split_response(raw)
    assert parts.answer == "Final: \\boxed{2}"
    assert parts.thinking == "I guess \\boxed{1}"
