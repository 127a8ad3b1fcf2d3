"""Tests for keywords:existence, keywords:frequency and keywords:forbidden_words."""

from __future__ import annotations

import pytest

from mathif_pytest.protocol import Deviations

WHOLE_WORDS = Deviations(keyword_whole_words=True)

EXISTENCE = [
    pytest.param(["now", "side"], "Now, on one side: 5.", True, id="both-present"),
    pytest.param(["now", "side"], "I know we consider it.", True, id="substrings-count"),
    pytest.param(["now", "side"], "NOW and SIDE", True, id="case-insensitive"),
    pytest.param(["now", "side"], "now only", False, id="one-missing"),
    pytest.param(["now", "side"], "neither", False, id="both-missing"),
    pytest.param(["a.b"], "axb", True, id="keyword-is-a-regex"),
    pytest.param(["(x"], "f(x) = 1", True, id="invalid-regex-matched-literally"),
    pytest.param(["(x"], "x", False, id="invalid-regex-absent"),
]


@pytest.mark.parametrize(("keywords", "response", "followed"), EXISTENCE)
def test_keyword_existence_matches_substrings_like_the_official_checker(
    judge, keywords, response, followed
):
    verdict = judge("keywords:existence", {"keywords": keywords}, response)
    assert verdict.followed is followed, verdict.detail


def test_keyword_existence_names_the_missing_keywords(judge):
    verdict = judge("keywords:existence", {"keywords": ["now", "side"]}, "nothing")
    assert verdict.detail == "missing keywords 'now' and 'side'"


@pytest.mark.parametrize(
    ("response", "followed"),
    [
        pytest.param("I know we consider it.", False, id="substrings-no-longer-count"),
        pytest.param("Now, on one side.", True, id="whole-words-count"),
        pytest.param("NOW-SIDE", True, id="hyphen-is-a-boundary"),
    ],
)
def test_keyword_existence_matches_whole_words_under_the_deviation(judge, response, followed):
    verdict = judge("keywords:existence", {"keywords": ["now", "side"]}, response, WHOLE_WORDS)
    assert verdict.followed is followed, verdict.detail


FREQUENCY = [
    pytest.param("now", 1, "less than", "I know.", False, id="less-than-1-fails-on-substring"),
    pytest.param("now", 1, "less than", "no, not yet", True, id="less-than-1-absent"),
    pytest.param("now", 2, "at least", "now and NOW", True, id="at-least-case-insensitive"),
    pytest.param("now", 3, "at least", "now, now", False, id="at-least-too-few"),
    pytest.param("now", 2, "less than", "now", True, id="less-than-is-strict-below"),
    pytest.param("now", 2, "less than", "now now", False, id="less-than-is-strict-at"),
    pytest.param("aa", 2, "at least", "aaaa", True, id="non-overlapping-matches"),
    pytest.param("aa", 3, "at least", "aaaa", False, id="overlaps-not-counted"),
    pytest.param(" now ", 1, "at least", "now", True, id="keyword-is-stripped"),
    pytest.param("total", 2, "at least", "Total: totally", True, id="prefix-of-longer-word"),
]


@pytest.mark.parametrize(("keyword", "frequency", "relation", "response", "followed"), FREQUENCY)
def test_keyword_frequency_counts_substrings_like_the_official_checker(
    judge, keyword, frequency, relation, response, followed
):
    args = {"keyword": keyword, "frequency": frequency, "relation": relation}
    verdict = judge("keywords:frequency", args, response)
    assert verdict.followed is followed, verdict.detail


def test_keyword_frequency_detail_shows_count_requirement_and_first_match(judge):
    args = {"keyword": "than", "frequency": 2, "relation": "less than"}
    verdict = judge("keywords:frequency", args, "thank you, more than ever, than")
    assert verdict.detail == "'than' appears 3 times (first in 'thank'); needs fewer than 2"


@pytest.mark.parametrize(
    ("response", "followed"),
    [
        pytest.param("I know.", True, id="substring-ignored"),
        pytest.param("Now.", False, id="whole-word-counted"),
    ],
)
def test_keyword_frequency_counts_whole_words_under_the_deviation(judge, response, followed):
    args = {"keyword": "now", "frequency": 1, "relation": "less than"}
    verdict = judge("keywords:frequency", args, response, WHOLE_WORDS)
    assert verdict.followed is followed, verdict.detail


FORBIDDEN = [
    pytest.param("I know we consider it.", True, id="substrings-allowed"),
    pytest.param("Now we add.", False, id="whole-word-any-case"),
    pytest.param("side-by-side", False, id="hyphen-is-a-boundary"),
    pytest.param("now_x and sides", True, id="underscore-and-plural-are-other-words"),
    pytest.param("x = 5", True, id="absent"),
]


@pytest.mark.parametrize(("response", "followed"), FORBIDDEN)
def test_forbidden_words_match_whole_words_unlike_existence(judge, response, followed):
    verdict = judge("keywords:forbidden_words", {"forbidden_words": ["now", "side"]}, response)
    assert verdict.followed is followed, verdict.detail


def test_forbidden_words_detail_names_the_word_and_where(judge):
    verdict = judge("keywords:forbidden_words", {"forbidden_words": ["now", "side"]}, "So, Now.")
    assert verdict.detail == "uses forbidden word 'now' (in 'Now.')"


def test_forbidden_words_ignore_the_whole_words_deviation(judge):
    args = {"forbidden_words": ["now"]}
    plain = judge("keywords:forbidden_words", args, "I know")
    deviated = judge("keywords:forbidden_words", args, "I know", WHOLE_WORDS)
    assert plain == deviated
