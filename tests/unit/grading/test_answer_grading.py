"""grade_answer: the official decisions, rule by rule (every expectation checked against it)."""

from __future__ import annotations

import pytest

from mathif_pytest.grading import AnswerGrade, Grade, Grader
from mathif_pytest.protocol import Deviations

# (reference, answer segment, officially correct?)
RULES = [
    # protocol §2 examples
    ("5", "\\boxed{x = 5}", True),
    ("52", "The answer is 52.", True),
    ("52", "#### 52", False),
    ("5", "\\BOXED{5}", True),
    ("10", "\\boxed{0.1}", True),
    ("10", "\\boxed{1000}", True),
    ("1.04e-3", "\\boxed{1.04 \\times 10^{-3}}", False),
    # normalisation
    ("\\frac{1}{2}", "\\boxed{0.5}", True),
    ("\\frac{1}{2}", "\\boxed{1/2}", True),
    ("\\frac{3}{4}", "\\boxed{0.75}", True),
    ("\\dfrac{17}{50}", "\\boxed{\\frac{17}{50}}", True),
    ("30^\\circ", "\\boxed{30}", True),
    ("30", "\\boxed{30^{\\circ}}", True),
    ("5", "\\boxed{5 \\text{ cm}}", True),
    ("5", "\\boxed{\\$5}", True),
    ("\\text{Evelyn}", "\\boxed{evelyn}", True),
    ("\\text{(C)}", "\\boxed{C}", True),
    ("$k=3$", "\\boxed{3}", False),
    # fractions must be reduced; an integer reference needs an integer
    ("\\frac{1}{2}", "\\boxed{\\frac{2}{4}}", False),
    ("\\frac{1}{2}", "\\boxed{2/4}", False),
    ("4", "\\boxed{\\frac{8}{2}}", False),
    ("4", "\\boxed{8/2}", True),
    ("4", "\\boxed{4.0}", True),
    ("4", "\\boxed{4.00001}", True),
    ("4", "\\boxed{4.001}", False),
    # tuples, lists, intervals
    ("(1,2)", "\\boxed{(1, 2)}", True),
    ("(1,2)", "\\boxed{(2, 1)}", False),
    ("$(2,4)$", "\\boxed{(2,4)}", True),
    ("11,13", "\\boxed{11, 13}", True),
    ("11,13", "\\boxed{13, 11}", False),
    ("(-\\infty,-5)", "\\boxed{(-\\infty, -5)}", True),
    ("(-\\infty,-5)", "\\boxed{(-\\infty, -5]}", False),
    ("x \\in [-2,7]", "\\boxed{[-2,7]}", False),
    # pi: evaluated with math.pi and with 3.14
    ("288 \\pi", "\\boxed{288\\pi}", True),
    ("-\\frac{\\pi}{6}", "\\boxed{-\\pi/6}", True),
    ("2\\pi", "\\boxed{6.2832}", True),
    ("\\pi", "\\boxed{3.14}", True),
    ("288 \\pi", "\\boxed{904.78}", False),
    # AIME zero padding, thousands separators, LaTeX spacing
    ("033", "\\boxed{33}", True),
    ("33", "\\boxed{033}", True),
    ("080", "\\boxed{80}", True),
    ("11,\\! 111,\\! 111,\\! 100", "\\boxed{11111111100}", True),
    ("11,\\! 111,\\! 111,\\! 100", "\\boxed{11,111,111,100}", True),
    ("1000", "\\boxed{1{,}000}", True),
    ("1000", "\\boxed{1,000}", True),
    # symbolic (these reach sympy in the worker)
    ("2\\sqrt{113}", "\\boxed{\\sqrt{452}}", True),
    ("x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1", "\\boxed{(x^9-1)/(x-1)}", True),
    ("3R^2", "\\boxed{3r^2}", True),
    ("-13x+3", "\\boxed{3-13x}", True),
    ("-13x+3", "\\boxed{3+13x}", False),
    ("4", "\\boxed{sqrt(16)}", True),
    # wrong, missing, odd
    ("52", "\\boxed{53}", False),
    ("52", "", False),
    ("52", "I am not sure.", False),
    ("5", "\\boxed{5 or 6}", True),
    ("4210_{5}", "\\boxed{4210_5}", True),
    ("2", "\\boxed{x_1}", False),
]
IDS = [
    "box-equation", "answer-is-period", "hash-only", "uppercase-box", "percent-div-100",
    "percent-times-100", "latex-sci-vs-e-notation", "half-decimal", "half-slash",
    "decimal-vs-fraction", "dfrac", "degrees-on-reference", "degrees-on-answer", "units-text",
    "dollar", "text-case-insensitive", "choice-letter", "dollar-equation-reference-kept",
    "unreduced-fraction-latex", "unreduced-fraction-slash", "integer-needs-integer-latex",
    "integer-slash-via-sympy", "integer-point-zero", "integer-within-1e-4", "integer-beyond-1e-4",
    "tuple", "tuple-reordered", "tuple-dollar-reference", "list", "list-reordered", "interval",
    "interval-wrong-bracket", "interval-with-membership", "pi-symbolic", "pi-fraction",
    "pi-decimal", "pi-as-3.14", "pi-spaced-reference-not-evaluated", "aime-unpadded",
    "aime-padded-answer", "aime-unpadded-80", "thin-space-commas", "thousands-commas",
    "brace-comma", "plain-comma", "sqrt-simplifies", "polynomial-quotient", "case-folded",
    "reordered-sum", "wrong-sign", "sqrt-plain-text", "wrong-number", "empty", "no-answer",
    "python-or-keeps-first", "base-subscript", "subscript-raises-officially",
]  # fmt: skip


@pytest.mark.parametrize(("reference", "text", "correct"), RULES, ids=IDS)
def test_grade_answer_decides_as_the_official_grader(
    grader: Grader, reference: str, text: str, correct: bool
) -> None:
    grade = grader.grade(reference, text)
    expected = AnswerGrade.CORRECT if correct else AnswerGrade.INCORRECT
    assert grade.outcome is expected, grade.detail


@pytest.mark.parametrize(
    ("text", "lenient", "strict"),
    [("\\boxed{0.1}", True, False), ("\\boxed{1000}", True, False), ("\\boxed{10}", True, True)],
    ids=["div-100", "times-100", "exact"],
)
def test_no_percent_leniency_rejects_the_factor_of_100(
    grader: Grader, text: str, lenient: bool, strict: bool
) -> None:
    with Grader(deviations=Deviations(no_percent_leniency=True)) as strict_grader:
        assert strict_grader.grade("10", text).correct is strict
    assert grader.grade("10", text).correct is lenient


def test_accept_hash_answer_grades_a_gsm8k_hash_line() -> None:
    text = "Adding up, 50 + 2 = 52.\n#### 52"
    with Grader(deviations=Deviations(accept_hash_answer=True)) as hashing:
        grade = hashing.grade("52", text)
    assert grade.outcome is AnswerGrade.CORRECT
    assert grade.extracted == "52"


def test_grade_carries_the_extracted_answer_reference_and_a_detail(grader: Grader) -> None:
    grade = grader.grade("52", "The answer is 52.")
    assert grade == Grade(
        outcome=AnswerGrade.CORRECT,
        extracted="52.",
        reference="52",
        detail="extracted '52.' equals reference '52' after normalisation",
    )


@pytest.mark.parametrize(
    ("reference", "text", "fragment"),
    [
        ("10", "\\boxed{0.1}", "numerically up to a factor of 100"),
        ("52", "\\boxed{53}", "extracted '53' does not equal reference '52'"),
        ("52", "We are not sure", "no \\boxed{} answer found"),
        ("52", "", "no answer found"),
        ("(1,2)", "\\boxed{(1,2.00001)}", "element by element"),
    ],
    ids=["leniency", "wrong", "no-box", "empty", "elementwise"],
)
def test_grade_detail_says_why(grader: Grader, reference: str, text: str, fragment: str) -> None:
    assert fragment in grader.grade(reference, text).detail


def test_empty_extraction_is_none(grader: Grader) -> None:
    assert grader.grade("52", "").extracted is None
