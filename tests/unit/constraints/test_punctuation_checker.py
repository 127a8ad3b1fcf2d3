"""Tests for punctuation:no_comma."""

from __future__ import annotations

import pytest

NO_COMMA = [
    pytest.param("The answer is 5.", True, id="no-comma"),
    pytest.param("The answer is 1,000.", False, id="thousands-separator"),
    pytest.param(r"\boxed{(1,2)}", False, id="comma-inside-boxed-tuple"),
    pytest.param("答案是五，对吗", True, id="full-width-comma-not-detected"),
    pytest.param("a ، b", True, id="arabic-comma-not-detected"),
]


@pytest.mark.parametrize(("response", "followed"), NO_COMMA)
def test_no_comma_detects_only_the_ascii_comma(judge, response, followed):
    verdict = judge("punctuation:no_comma", None, response)
    assert verdict.followed is followed, verdict.detail


def test_no_comma_detail_counts_commas_and_shows_the_first(judge):
    verdict = judge("punctuation:no_comma", None, "x = 1,000, y = 2")
    assert verdict.detail == "contains 2 commas (first in '1,000,')"
