"""Tests for length_constraint_checkers:number_words and its word count."""

from __future__ import annotations

import pytest

from mathif_pytest.constraints._text import count_words

WORD_COUNTS = [
    pytest.param(r"\frac{1}{2} x_1 = 3.5, it's", 8, id="latex-digits-and-apostrophes"),
    pytest.param("The answer is 5.", 4, id="plain-sentence"),
    pytest.param("well-known", 2, id="hyphen-splits"),
    pytest.param("é ٣ 日本語", 3, id="unicode-word-characters"),
    pytest.param("— ... ,", 0, id="punctuation-only"),
    pytest.param("", 0, id="empty"),
    # Stdlib ``re`` semantics, as nltk <= 3.10.2 had them when the paper was scored (count_words).
    # nltk >= 3.10.3 (pinned) runs the tokenizer on the `regex` engine, like the official code.
    pytest.param("0¼0", 2, id="vulgar-fraction-is-not-a-word-character"),
    pytest.param("नमस्ते", 1, id="combining-marks-stay-inside-a-word"),
]


@pytest.mark.parametrize(("text", "count"), WORD_COUNTS)
def test_word_count_counts_runs_of_word_characters(text, count):
    assert count_words(text) == count


NUMBER_WORDS = [
    pytest.param(8, "less than", r"\frac{1}{2} x_1 = 3.5, it's", False, id="less-than-at-bound"),
    pytest.param(9, "less than", r"\frac{1}{2} x_1 = 3.5, it's", True, id="less-than-below"),
    pytest.param(8, "at least", r"\frac{1}{2} x_1 = 3.5, it's", True, id="at-least-at-bound"),
    pytest.param(9, "at least", r"\frac{1}{2} x_1 = 3.5, it's", False, id="at-least-below"),
]


@pytest.mark.parametrize(("num_words", "relation", "response", "followed"), NUMBER_WORDS)
def test_number_words_compares_strictly_below_or_at_least(
    judge, num_words, relation, response, followed
):
    args = {"num_words": num_words, "relation": relation}
    verdict = judge("length_constraint_checkers:number_words", args, response)
    assert verdict.followed is followed, verdict.detail


def test_number_words_detail_gives_count_and_requirement(judge):
    args = {"num_words": 3, "relation": "less than"}
    verdict = judge("length_constraint_checkers:number_words", args, "one two three four")
    assert verdict.detail == "counted 4 words; needs fewer than 3"


def test_number_words_accepts_the_ifeval_spelling_of_its_id(judge):
    args = {"num_words": 2, "relation": "at least"}
    verdict = judge("length_constraints:number_words", args, "one two")
    assert verdict.followed
    assert verdict.constraint_id == "length_constraint_checkers:number_words"
