"""Property tests: splitting, extraction and grading never raise or hang, whatever the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mathif_pytest.grading import AnswerGrade, Grader, extract_answer, split_response

#: Pieces the grader reacts to, mixed with arbitrary unicode characters.
PIECES = st.one_of(
    st.sampled_from(list("0123456789.,+-*/^_()[]{}$%=!<>\\ xyeiπ√∞\n")),
    st.sampled_from(["\\boxed{", "\\frac", "\\sqrt", "\\pi", "<think>", "</think>",
                     "answer is ", "####", "\\text{", "sqrt(", "**", "or ", "Interval("]),
    st.characters(),
)  # fmt: skip
MATHY = st.lists(PIECES, max_size=30).map("".join)
ANY_TEXT = st.one_of(st.text(), MATHY)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.booleans())
def test_split_response_returns_slices_of_the_raw_text(text: str, fails: bool) -> None:
    parts = split_response(text, unclosed_thinking_fails=fails)
    assert parts.raw == text
    assert parts.answer in text
    assert parts.thinking in text


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.booleans())
def test_extract_answer_never_raises(text: str, hashes: bool) -> None:
    assert isinstance(extract_answer(text, accept_hash_answer=hashes), str)


REFERENCES = st.one_of(MATHY, st.sampled_from(["52", "\\frac{1}{2}", "(1,2)", "x+1", "\\pi"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REFERENCES, ANY_TEXT)
def test_grade_answer_always_returns_a_grade(grader: Grader, reference: str, text: str) -> None:
    grade = grader.grade(reference, f"\\boxed{{{text}}}" if len(text) % 2 else text)
    assert grade.outcome in AnswerGrade
    assert grade.reference == reference
    assert grade.detail
