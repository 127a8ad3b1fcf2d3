"""Tests for english_capital, english_lowercase and capital_word_frequency."""

from __future__ import annotations

import nltk
import pytest
from nltk.tokenize.destructive import NLTKWordTokenizer

from mathif_pytest.constraints import _text
from mathif_pytest.constraints._text import capital_words, capital_words_slow

CAPITAL = [
    pytest.param("THE ANSWER IS 5.", True, id="english-capitals"),
    pytest.param(r"THE ANSWER IS \boxed{2}", False, id="lowercase-boxed-fails"),
    pytest.param(r"THE ANSWER IS \BOXED{2}", True, id="uppercase-boxed-passes"),
    pytest.param("123 = 456", False, id="no-cased-letters-fails"),
    pytest.param("LA RESPUESTA ES CINCO PORQUE ANDREA TIENE CINCUENTA", False, id="not-english"),
    pytest.param("ⒶⒷⒸ", True, id="undetectable-language-counts-as-english"),
]


@pytest.mark.parametrize(("response", "followed"), CAPITAL)
def test_english_capital_needs_isupper_and_english(judge, response, followed):
    verdict = judge("change_case:english_capital", None, response)
    assert verdict.followed is followed, verdict.detail


def test_english_capital_detail_points_at_the_lowercase_word(judge):
    verdict = judge("change_case:english_capital", None, r"THE ANSWER IS \boxed{2}")
    assert verdict.detail == r"is not all uppercase, e.g. '\\boxed{2}'"


LOWERCASE = [
    pytest.param("the answer is five.", True, id="english-lowercase"),
    pytest.param("the answer is $A$", False, id="capital-variable-fails"),
    pytest.param("123", False, id="no-cased-letters-fails"),
    pytest.param("la respuesta es cinco porque andrea tiene cincuenta", False, id="not-english"),
]


@pytest.mark.parametrize(("response", "followed"), LOWERCASE)
def test_english_lowercase_needs_islower_and_english(judge, response, followed):
    verdict = judge("change_case:english_lowercase", None, response)
    assert verdict.followed is followed, verdict.detail


def test_english_lowercase_detail_gives_the_detected_language(judge):
    response = "la respuesta es cinco porque andrea tiene cincuenta"
    verdict = judge("change_case:english_lowercase", None, response)
    assert verdict.detail == "all lowercase; detected language 'es', needs 'en'"


CAPITAL_WORDS = [
    pytest.param("I think THE answer is A.", ["I", "THE", "A"], id="pronoun-and-letters-count"),
    pytest.param("WELL-KNOWN", ["WELL-KNOWN"], id="hyphenated-is-one-word"),
    pytest.param("ABC123 x1", ["ABC123"], id="digits-are-uncased"),
    pytest.param("DON'T. OK", ["DO", "N'T", "OK"], id="sentence-end-splits-contraction"),
    pytest.param("DON'T STOP", ["DO", "N'T", "STOP"], id="contraction-before-space-splits"),
    pytest.param("ALICE'S. CAT'S", ["ALICE", "'S", "CAT", "'S"], id="possessives-split"),
    pytest.param("ǅ ẞ ß", ["ẞ"], id="titlecase-is-not-upper"),
    pytest.param("all lower", [], id="none"),
]


@pytest.mark.parametrize(("text", "expected"), CAPITAL_WORDS)
def test_capital_words_match_word_tokenize_then_isupper(text, expected):
    assert capital_words_slow(text) == expected
    assert list(capital_words(text)) == expected


# Where the untrained punkt model and the official English one can disagree (abbreviations,
# initials, numbers, ellipses), splitting or not leaves the count unchanged: the token before the
# period has no contraction suffix, and the detached "." has no case.
BOUNDARY_TEXTS = [
    pytest.param("THE U.S. ARMY", id="abbreviation"),
    pytest.param("MR. SMITH IS HERE. OK", id="title-abbreviation"),
    pytest.param("J. R. R. TOLKIEN WROTE IT", id="initials"),
    pytest.param("STEP 3. ADD 4. DONE", id="numbers"),
    pytest.param("E.G. THIS, ETC. AND THAT", id="latin-abbreviations"),
    pytest.param("WAIT... NO. I AM.", id="ellipsis"),
]


@pytest.mark.parametrize("text", BOUNDARY_TEXTS)
def test_capital_word_count_does_not_depend_on_splits_at_abbreviations(text):
    whole_text = [t for t in NLTKWordTokenizer().tokenize(text) if t.isupper()]
    assert len(capital_words(text)) == len(whole_text)


def test_capital_words_need_no_nltk_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("nltk data must not be loaded or downloaded")

    monkeypatch.setattr(nltk.data, "find", refuse)
    monkeypatch.setattr(nltk.data, "load", refuse)
    monkeypatch.setattr(nltk, "download", refuse)
    _text._tokenizers.cache_clear()
    assert capital_words_slow("THE END. I AM DONE") == ["THE", "END", "I", "AM", "DONE"]


CAPITAL_FREQUENCY = [
    pytest.param(3, "at least", "I think THE answer is A.", True, id="at-least-met"),
    pytest.param(4, "at least", "I think THE answer is A.", False, id="at-least-missed"),
    pytest.param(3, "less than", "I think THE answer is A.", False, id="less-than-at-bound"),
    pytest.param(4, "less than", "I think THE answer is A.", True, id="less-than-below"),
]


@pytest.mark.parametrize(("frequency", "relation", "response", "followed"), CAPITAL_FREQUENCY)
def test_capital_word_frequency_compares_the_count(judge, frequency, relation, response, followed):
    args = {"capital_frequency": frequency, "capital_relation": relation}
    verdict = judge("change_case:capital_word_frequency", args, response)
    assert verdict.followed is followed, verdict.detail


def test_capital_word_frequency_detail_lists_the_first_words(judge):
    args = {"capital_frequency": 5, "capital_relation": "at least"}
    verdict = judge("change_case:capital_word_frequency", args, "I SAY THE END IS NEAR")
    assert verdict.detail == ("found 6 all-capital words ('I', 'SAY', 'THE', …); needs at least 5")
