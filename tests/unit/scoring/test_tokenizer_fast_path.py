"""The tokenizer fast paths give nltk's own tokens on both benchmark corpora."""

from __future__ import annotations

from typing import Any

import pytest
from nltk import redos

from mathif_pytest.constraints._text import capital_words, capital_words_slow, count_words
from mathif_pytest.grading import split_response


@pytest.mark.parametrize(("kind", "count"), [("realistic", 800), ("long", 120)])
def test_capital_words_fast_path_equals_nltk_on_the_corpus(
    corpus: Any, kind: str, count: int
) -> None:
    answers = [split_response(text).answer for _, text in corpus(kind, count)]
    differing = [a[:80] for a in answers if list(capital_words(a)) != capital_words_slow(a)]
    assert differing == []
    assert sum(len(capital_words(a)) for a in answers) > count  # the corpus has capital words


@pytest.mark.parametrize(("kind", "count"), [("realistic", 800), ("long", 120)])
def test_tokens_without_nltk_per_call_timeouts_equal_those_with_them(
    corpus: Any, kind: str, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = [split_response(text).answer for _, text in corpus(kind, count)]
    guarded = [(capital_words_slow(a), count_words(a)) for a in answers]
    monkeypatch.setattr(redos, "DEFAULT_TIMEOUT", None)  # what unguard_tokenizers() does
    assert [(capital_words_slow(a), count_words(a)) for a in answers] == guarded


def test_capital_words_skips_only_sentences_without_an_upper_case_character() -> None:
    text = "we're FINE. really fine. But NOT here, OK? ǅ is titlecase. İSTANBUL'S NEWS."
    assert list(capital_words(text)) == capital_words_slow(text)
    assert capital_words("nothing upper here. at all.") == ()
