"""Answers written as string literals, graded as the official grader decides (nothing evaluated).

Every expectation below is the official ``compute_score(response, reference)[0]``, checked against
the official code (``benchmarks/agreement.py`` decides 88,800 generated pairs, quoted ones on every
extraction path, the same way as the official grader).
"""

from __future__ import annotations

import pytest

from mathif_pytest.grading import Grader
from mathif_pytest.grading._strings import string_literal
from mathif_pytest.protocol import Deviations

# (reference, response, officially correct?)
QUOTED = [
    ("236", '"236"', True),
    ("236", "'236'", True),
    ("236", '\\boxed{"236"}', True),
    ("236", 'The answer is "236"', True),
    ("236", 'Answer: "236"', True),
    ("236", '"2" "36"', True),
    ("236", '("236")', True),
    ("236", '"23" + "6"', True),
    ("236", 'u"236"', True),
    ("236", 'b"236"', False),
    ("236", '"2.36"', False),
    ("236", '"237"', False),
    ("8", '"2^3"', True),
    ("8", 'r"2^3"', True),
    ("1000", '"10"', False),
    ("2\\pi", '"2\\pi"', True),
    ("x+1", '"x+1"', False),
    ("abc", '"abc"', False),
    ("(1,2)", '"(1,2)"', False),
    ("11,19,37,73", '"11,19,37,73"', False),
    ("236", '"236', False),
]
IDS = [
    "double", "single", "in-box", "answer-is", "answer-colon", "implicit-concatenation",
    "parenthesised", "plus-concatenation", "unicode-prefix", "bytes-not-a-string",
    "decimal-wrong", "number-wrong", "power-sympified", "raw-power", "no-percent-leniency",
    "pi-evaluated-to-string", "symbols-fail-numerically", "text", "tuple-in-quotes",
    "list-in-quotes", "unterminated",
]  # fmt: skip


@pytest.mark.parametrize(("reference", "text", "correct"), QUOTED, ids=IDS)
def test_quoted_answer_is_graded_as_officially(
    grader: Grader, reference: str, text: str, correct: bool
) -> None:
    assert grader.grade(reference, text).correct is correct


def test_f_string_is_never_evaluated_unlike_the_official_grader(grader: Grader) -> None:
    # Officially parse_expr() runs the f-string's expression and gets "236": correct. Running
    # model text is what this grader never does, so an f-string stays unparseable.
    assert not grader.grade("236", 'f"{236}"').correct
    assert not grader.grade("0", "f\"{__import__('os').getpid() * 0}\"").correct


@pytest.mark.parametrize(
    ("text", "value"),
    [('"236"', "236"), ("'a' 'b'", "ab"), ('("x" + "y")', "xy"), ('"\\frac"', "\x0crac"),
     ("'''3'''", "3"), ('"1" - "2"', None), ('"1"("2")', None), ("b'1'", None),
     ('f"{1}"', None), ("236", None), ("__import__('os')", None), ("", None)],
)  # fmt: skip
def test_string_literal_decodes_only_string_literal_expressions(
    text: str, value: str | None
) -> None:
    assert string_literal(text) == value


@pytest.mark.parametrize(
    ("reference", "text", "official", "elementwise"),
    [
        ("11,19,37,73", "\\boxed{11,19,39,73}", True, False),
        ("11,19,37,73", "\\boxed{11,19,37,73}", True, True),
        ("11,19,37,73", "\\boxed{11, 19, 37, 73}", True, True),
        ("11,13", "\\boxed{13, 11}", False, False),
        ("1000000", "\\boxed{1,000,000}", True, True),
        ("1,000,000", "\\boxed{1000001}", True, True),
        ("2,3", "\\boxed{2,3.00001}", True, True),
    ],
    ids=["joined-within-tolerance", "same-list", "spaced-list", "reordered", "thousands",
         "thousands-reference-within-tolerance", "elements-within-tolerance"],
)  # fmt: skip
def test_elementwise_lists_compares_comma_lists_element_by_element(
    grader: Grader, reference: str, text: str, official: bool, elementwise: bool
) -> None:
    assert grader.grade(reference, text).correct is official
    with Grader(deviations=Deviations(elementwise_lists=True)) as lists:
        assert lists.grade(reference, text).correct is elementwise
