"""Tests for startend:end_checker and startend:quotation."""

from __future__ import annotations

import pytest

END_PHRASE = "Any other questions?"

ENDINGS = [
    pytest.param(END_PHRASE, "The answer is 5. Any other questions?", True, id="exact-ending"),
    pytest.param(END_PHRASE, "The answer is 5. any OTHER questions?", True, id="case-insensitive"),
    pytest.param(END_PHRASE, "5. Any other questions?  \n", True, id="outer-whitespace-ignored"),
    pytest.param(END_PHRASE, '"5. Any other questions?"', True, id="combines-with-quotation"),
    pytest.param(END_PHRASE, '"5. Any other questions? "', False, id="space-inside-quotes-fails"),
    pytest.param(END_PHRASE, "Any other questions?\n\\boxed{5}", False, id="boxed-after-fails"),
    pytest.param(END_PHRASE, "5. Any other questions", False, id="missing-question-mark"),
    pytest.param(" Any other questions? ", "Any other questions?", True, id="phrase-is-stripped"),
]


@pytest.mark.parametrize(("end_phrase", "response", "followed"), ENDINGS)
def test_end_checker_needs_the_phrase_last_ignoring_case_and_quotes(
    judge, end_phrase, response, followed
):
    verdict = judge("startend:end_checker", {"end_phrase": end_phrase}, response)
    assert verdict.followed is followed, verdict.detail


def test_end_checker_detail_shows_the_actual_ending(judge):
    response = "Any other questions?\n\\boxed{5}"
    verdict = judge("startend:end_checker", {"end_phrase": END_PHRASE}, response)
    assert verdict.detail == (
        r"response ends with '…questions?\n\\boxed{5}' instead of 'Any other questions?'"
    )


QUOTATIONS = [
    pytest.param('"The answer is 5."', True, id="wrapped"),
    pytest.param('  "The answer is 5."\n', True, id="outer-whitespace-ignored"),
    pytest.param('""', True, id="two-quotes-are-enough"),
    pytest.param('"', False, id="one-quote-is-not"),
    pytest.param("“The answer is 5.”", False, id="curly-quotes-fail"),
    pytest.param("'The answer is 5.'", False, id="single-quotes-fail"),
    pytest.param('"The answer is 5.', False, id="unclosed"),
    pytest.param('"The answer" is 5.', False, id="quote-not-last"),
]


@pytest.mark.parametrize(("response", "followed"), QUOTATIONS)
def test_quotation_needs_ascii_double_quotes_at_both_ends(judge, response, followed):
    verdict = judge("startend:quotation", None, response)
    assert verdict.followed is followed, verdict.detail


def test_quotation_detail_shows_both_ends(judge):
    verdict = judge("startend:quotation", None, "“The answer is 5.”")
    assert (
        verdict.detail
        == """not wrapped in ASCII double quotes ("): starts with '“' and ends with '”'"""
    )
