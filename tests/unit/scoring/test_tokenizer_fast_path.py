"""The tokenizer fast paths give nltk's own tokens on both benchmark corpora and hostile text."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk import redos
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktLanguageVars

from mathif_pytest.constraints._capitals import word_capitals
from mathif_pytest.constraints._text import capital_words, capital_words_slow, count_words
from mathif_pytest.grading import split_response

#: Pieces that reach every rule of the word tokenizer and of punkt, and every shape the fast path
#: decides alone: contractions in all cases (and with the letters re's IGNORECASE adds: İ, ı, ſ,
#: K), suffixes, periods, ellipses, quotes of every kind, brackets, padded punctuation, dashes,
#: commas before digits, title-case and other cased non-letters, LaTeX.
PIECES = [
    "DON'T", "don't", "DOn't", "CAN'T", "N'T", "n't", "'S", "'s", "I'M", "I'd", "i'LL", "WE'RE",
    "We'Re", "IT'S", "GONNA", "Cannot", "cannot", "LEMME", "wAnNa", "GOTTA", "gimme", "D'YE",
    "MORE'N", "'TIS", "'twas", "gİmme", "gımme", "U.S.", "U.S", "NOTE.", "OK", "A.", "a.", "3.",
    "...", "..", ".", "?", "!", "?!", "(", ")", "[", "]", "{", "}", "<", ">", "$", "^", "AB",
    "Ab", "aB", "ab", "A", "I", ",", ":", ";", "--", "-", "—", "–", '"', "''", "``", "`", "'",
    "«", "»", "“", "”", "‘", "’", "„", "*", "&", "#", "@", "%", "ǅ", "ß", "ẞ", "İ", "ı", "Ⓐ",
    "ⓐ", "Σ", "σ", "K", "ſ", "2", "5", "_", "\\frac", "{A}", "é", "É", "Mr.", "e.g.", "WAIT,",
    "EVEN,", "(NOT", "$AB^2", "AM-GM", "x:", "X:", "A,B", "A,5", "A,,B",
]  # fmt: skip
#: NLTKWordTokenizer's substitutions, in order, as nltk 3.10.4 has them: the rules the module
#: docstring of mathif_pytest/constraints/_capitals.py reasons about.
PROVEN_RULES = [
    ("([«“‘„]|[`]+)", " \\1 "),
    ('^\\"', "``"),
    ("(``)", " \\1 "),
    ("([ \\(\\[{<])(\\\"|\\'{2})", "\\1 `` "),
    ("(?i)(?<!\\w)(\\')(?!(?:re|ve|ll|m|t|s|d|n)\\b)(?=\\w)", "\\1 "),
    ("([^\\.])(\\.)([\\]\\)}>\"\\'»”’ ]*+)\\s*$", "\\1 \\2 \\3 "),
    ("([:,])([^\\d])", " \\1 \\2"),
    ("([:,])$", " \\1 "),
    ("\\.{2,}", " \\g<0> "),
    ("[;@#$%&]", " \\g<0> "),
    ("[\\u2012-\\u2015]", " \\g<0> "),
    ("([^\\.])(\\.)([\\]\\)}>\"\\']*)\\s*$", "\\1 \\2\\3 "),
    ("[?!]", " \\g<0> "),
    ("([^'])' ", "\\1 ' "),
    ("[*]", " \\g<0> "),
    ("[\\]\\[\\(\\)\\{\\}\\<\\>]", " \\g<0> "),
    ("--", " -- "),
    ("([»”’])", " \\1 "),
    ("''", " '' "),
    ('"', " '' "),
    ("\\s+", " "),
    ("([^' ])('[sS]|'[mM]|'[dD]|') ", "\\1 \\2 "),
    ("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "\\1 \\2 "),
    ("(?i)\\b(can)(?#X)(not)\\b", " \\1 \\2 "),
    ("(?i)\\b(d)(?#X)('ye)\\b", " \\1 \\2 "),
    ("(?i)\\b(gim)(?#X)(me)\\b", " \\1 \\2 "),
    ("(?i)\\b(gon)(?#X)(na)\\b", " \\1 \\2 "),
    ("(?i)\\b(got)(?#X)(ta)\\b", " \\1 \\2 "),
    ("(?i)\\b(lem)(?#X)(me)\\b", " \\1 \\2 "),
    ("(?i)\\b(more)(?#X)('n)\\b", " \\1 \\2 "),
    ("(?i)\\b(wan)(?#X)(na)(?=\\s)", " \\1 \\2 "),
    ("(?i) ('t)(?#X)(is)\\b", " \\1 \\2 "),
    ("(?i) ('t)(?#X)(was)\\b", " \\1 \\2 "),
]
SEPARATORS = ["", "", "", " ", " ", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\xa0", "\x1c", "\u2028"]


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


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PIECES) | st.text(max_size=3),
            st.sampled_from(SEPARATORS),
        ),
        max_size=24,
    )
)
def test_capital_words_equal_nltks_on_hostile_text(parts: list[tuple[str, str]]) -> None:
    text = "".join(piece + separator for piece, separator in parts)
    assert list(capital_words(text)) == capital_words_slow(text)


@pytest.mark.parametrize(
    ("word", "tokens"),
    [
        ("However,", ()),
        ("Let's", ()),
        ("I'd", ("I",)),
        ("DON'T", ("DO", "N'T")),
        ("DOn't", ("DO",)),
        ("WAIT,", ("WAIT",)),
        ("$AB^2", ("AB^2",)),
        ("(NOT", ("NOT",)),
        ("AM-GM", ("AM-GM",)),
        ("U.S.", None),  # its tokens depend on whether its sentence ends there
        ("A,B", None),
        ("GONNA", None),
        ('"OK', None),
    ],
)
def test_words_of_a_known_shape_are_decided_without_their_sentence(
    word: str, tokens: tuple[str, ...] | None
) -> None:
    assert word_capitals(word) == tokens
    if tokens is not None:
        assert capital_words_slow(f"x {word} y") == list(tokens)
    for text in (word, f"x {word}", f"{word} y.", f"x. {word}? y", f"({word})", f'"{word}"'):
        assert list(capital_words(text)) == capital_words_slow(text)


def test_the_tokenizer_rules_are_those_the_fast_path_was_proven_against() -> None:
    """Guard: a new nltk release with other rules must be re-examined (see _capitals.py)."""
    rules = [
        *NLTKWordTokenizer.STARTING_QUOTES,
        *NLTKWordTokenizer.PUNCTUATION,
        NLTKWordTokenizer.PARENS_BRACKETS,
        NLTKWordTokenizer.DOUBLE_DASHES,
        *NLTKWordTokenizer.ENDING_QUOTES,
    ]
    contractions = NLTKWordTokenizer.CONTRACTIONS2 + NLTKWordTokenizer.CONTRACTIONS3
    found = [(pattern.pattern, substitution) for pattern, substitution in rules]
    found += [(pattern.pattern, " \\1 \\2 ") for pattern in contractions]
    assert found == PROVEN_RULES
    assert PunktLanguageVars.sent_end_chars == (".", "?", "!")


def test_the_lazy_language_profiles_hold_langdetects_probabilities() -> None:
    from langdetect.detector_factory import DetectorFactory

    from mathif_pytest.constraints import _langdetect

    lazy, _ = _langdetect.factory()
    paths = sorted(p for p in _langdetect.profiles_dir().iterdir() if not p.name.startswith("."))
    loaded = DetectorFactory()
    loaded.load_json_profile([p.read_text(encoding="utf-8") for p in paths])
    table = lazy.word_lang_prob_map
    assert lazy.langlist == loaded.langlist
    assert set(table) == set(loaded.word_lang_prob_map)
    assert all(table[gram] == row for gram, row in loaded.word_lang_prob_map.items())
    with pytest.raises(KeyError):
        table["no such n-gram"]
