"""extract_answer: the official match_answer cascade, rule by rule."""

from __future__ import annotations

import pytest

from mathif_pytest.grading import extract_answer

CASES = [
    # boxes
    ("\\boxed{52}", "52"),
    ("The final answer is $\\boxed{52}$.", "52"),
    ("first \\boxed{1} then \\boxed{2}", "2"),
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("\\boxed{{{5}}}", "{{5}}"),
    ("\\boxed{ 7 }", "7"),
    ("\\fbox{9}", "9"),
    ("\\fbox{9} and \\boxed{8}", "8"),
    ("\\boxed{8} and \\fbox{9}", "8"),
    ("\\boxed{}", "\\boxed{}"),
    ("\\boxed{12", "\\boxed{12"),
    ("\\boxed 5 and {x}", "x"),
    ("\\BOXED{5}", "\\BOXED{5}"),
    # trailing cuts apply to the box content too
    ("\\boxed{x = 5}", "5"),
    ("\\boxed{f(x) = x^2 + 1}", "x^2 + 1"),
    ("\\boxed{\\text{The total is 7}}", "7}"),
    # answer markers: last occurrence, each in turn, case-insensitive
    ("The answer is 52.", "52."),
    ("The ANSWER IS 52", "52"),
    ("Answer: 4", "4"),
    ("answer: 1. Then the answer is 2", "2"),
    ("The answers are 3 and 4", "3 and 4"),
    ("\\boxed{5} is the answer", "5"),
    ("So 6 is the answer, I think", "So 6"),
    ("final \\boxed{3}. So the answer is 4", "4"),
    # ". " cut, then the tail markers
    ("We get 5. Done", "5"),
    ("Hence x = 12", "12"),
    ("The value is: 8", "8"),
    ("so we get 10", "10"),
    ("It must be 11", "11"),
    ("They are 1, 2", "1, 2"),
    # nothing to find: the (cut) text itself is graded
    ("#### 52", "#### 52"),
    ("", ""),
    ("   ", "   "),
    ("no digits at all", "no digits at all"),
]
IDS = [
    "box", "box-in-sentence", "last-box-wins", "nested-braces", "extra-braces-kept",
    "box-stripped", "fbox", "boxed-beats-later-fbox", "boxed-beats-earlier-fbox",
    "empty-box-ignored", "unbalanced-box-ignored", "first-brace-after-command",
    "uppercase-box-not-found", "equation-in-box", "function-in-box", "text-box-tail-cut",
    "answer-is-keeps-period", "answer-is-case-insensitive", "answer-colon", "markers-in-turn",
    "answers-are", "is-the-answer-before", "is-the-answer-before-comma",
    "answer-is-after-box", "dot-space-cut", "equals-tail", "colon-tail", "get-tail",
    "be-tail", "are-tail", "hash-not-extracted", "empty", "blank", "text-without-digits",
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES, ids=IDS)
def test_extract_answer_follows_the_official_cascade(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let's compute.\n#### 52", "52"),
        ("#### $1,000", "$1,000"),
        ("#### 52.", "52."),
        ("#### 1\nmore text\n#### 2", "2"),
        ("#### 5\n\\boxed{6}", "6"),
        ("####", "####"),
        ("no hash here: 7", "7"),
    ],
    ids=["hash-line", "hash-dollar", "hash-tail-cut", "last-hash", "box-wins", "empty-hash",
         "no-hash-falls-back"],
)  # fmt: skip
def test_accept_hash_answer_uses_the_last_hash_line_when_there_is_no_box(
    text: str, expected: str
) -> None:
    assert extract_answer(text, accept_hash_answer=True) == expected
