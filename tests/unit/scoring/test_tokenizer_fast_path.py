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


@pytest.mark.parametrize(("kind", "count"), [("realistic", 300), ("long", 60)])
def test_language_detection_fast_path_gives_langdetects_probabilities(
    corpus: Any, kind: str, count: int
) -> None:
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import LangDetectException

    from mathif_pytest.constraints import language

    factory, _ = language._factory()

    def probabilities(cls: Any, text: str) -> Any:
        detector = cls(factory)
        detector.append(text)
        try:
            return [(found.lang, found.prob) for found in detector.get_probabilities()]
        except LangDetectException:
            return None

    def ngrams(cls: Any, text: str) -> Any:
        detector = cls(factory)
        detector.append(text)
        detector.cleaning_text()
        return detector.text, detector._extract_ngrams()

    answers = [split_response(text).answer for _, text in corpus(kind, count)]
    fast_class = language._detector_class()
    assert [ngrams(fast_class, a) for a in answers] == [ngrams(Detector, a) for a in answers]
    fast = [probabilities(fast_class, a) for a in answers]
    assert fast == [probabilities(Detector, a) for a in answers]
    assert len({probs[0][0] for probs in fast if probs}) > 1  # not only English
