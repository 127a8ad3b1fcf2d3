"""Text helpers for the checkers: word counts, capital-word tokens, data regexes, snippets."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from mathif_pytest.constraints._capitals import capital_words

__all__ = [
    "capital_words",
    "capital_words_slow",
    "count_words",
    "literal_or_regex",
    "plural",
    "snippet",
    "unguard_tokenizers",
    "word_around",
]


def unguard_tokenizers() -> None:
    """Run nltk's tokenizer regexes without its per-call timeout, in this process.

    nltk 3.10 sends every regex call through ``nltk.redos``, which runs the ``regex`` engine
    with a wall-clock timeout: about 60% of the tokenizing time of a long answer (400,000
    calls). Only the scoring workers call this, where each response's whole check runs under
    one deadline instead, so untrusted text still cannot hang a run. Tokens are unchanged: same
    engine, same patterns (``tests/unit/constraints/test_tokenizer_fast_path.py``).
    """
    from nltk import redos

    redos.DEFAULT_TIMEOUT = None


def count_words(text: str) -> int:
    r"""Count words exactly as the official checker does: nltk's ``RegexpTokenizer(r"\w+")``.

    LaTeX commands, digits and both halves of "it's" each count as words. The tokenizer is the
    installed nltk's, as in the official code, because its ``\w`` changed between releases: up
    to nltk 3.10.2 it ran on stdlib ``re``; from 3.10.3 on the ``regex`` engine, whose ``\w``
    excludes "¼" and "²" and includes combining marks ("नमस्ते" is 1 word, not 2). The project pins
    nltk 3.10.x, the version the MathIF protocol notes were verified with.

    Args:
        text: the response.

    Returns:
        The number of ``\w+`` tokens.
    """
    return len(_word_tokenizer()(text))


@functools.cache
def _word_tokenizer() -> Callable[[str], list[str]]:
    # By module path: the scoring workers import nltk's tokenizer modules without the packages'
    # __init__ (mathif_pytest/scoring/_worker.py), so names the packages re-export are absent.
    from nltk.tokenize.regexp import RegexpTokenizer

    tokenize: Callable[[str], list[str]] = RegexpTokenizer(r"\w+").tokenize
    return tokenize


@functools.cache
def _tokenizers() -> tuple[Callable[[str], list[str]], Callable[[str], list[str]]]:
    # Imported here: nltk costs ~0.5 s to import and the plugin must import cheaply.
    from nltk.tokenize.destructive import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    # An untrained punkt model: empty parameters, so no punkt_tab data is loaded or downloaded.
    split_sentences: Callable[[str], list[str]] = PunktSentenceTokenizer().tokenize
    split_words: Callable[[str], list[str]] = NLTKWordTokenizer().tokenize
    return split_sentences, split_words


def capital_words_slow(text: str) -> list[str]:
    """The tokens that the official ``capital_word_frequency`` checker counts as all-capital words.

    The official checker runs ``nltk.word_tokenize``: punkt sentence splitting with the English
    ``punkt_tab`` model, then ``NLTKWordTokenizer`` on each sentence, keeping the tokens for which
    ``str.isupper()`` holds. We may not download ``punkt_tab``, so we split sentences with an
    *untrained* punkt model (no data) and tokenize each sentence the same way.

    Sentence splitting cannot be skipped: the tokenizer detaches a sentence's final period, and a
    contraction or possessive followed by a space is split off, so "DON'T. OK" is "DO", "N'T",
    ".", "OK" (3 capital words) per sentence but "DON'T.", "OK" (2) on the whole text.

    The untrained model splits like the English one after every period-final word except
    abbreviations, initials, numbers and ellipses, where only the English model's learned lists
    and orthographic statistics can veto a split. At such a boundary the last token before the
    period is that abbreviation, initial or number, which has no contraction suffix; detaching the
    period only removes an uncased character, and ``isupper()`` ignores those ("U.S." and "U.S"
    are both one capital word). So the counts agree; the differential run against the official
    code with the real ``punkt_tab`` data agreed on every generated case.

    This is the reference implementation; :func:`~mathif_pytest.constraints._capitals.capital_words`
    gives the same tokens with less work.

    Args:
        text: the response.

    Returns:
        The all-capital tokens, in order (single letters such as "A" and the pronoun "I" included).
    """
    split_sentences, split_words = _tokenizers()
    return [
        token
        for sentence in split_sentences(text)
        for token in split_words(sentence)
        if token.isupper()
    ]


@functools.lru_cache(maxsize=256)
def literal_or_regex(
    pattern: str, *, prefix: str = "", suffix: str = "", ignore_case: bool = True
) -> re.Pattern[str]:
    r"""Compile ``prefix + pattern + suffix`` the way the official checkers use data strings.

    The official code passes keywords (and section splitters) to ``re`` unescaped, so "a.b"
    matches "axb"; we keep that. A pattern that is not a valid regex would crash the official
    scorer; here it is matched literally instead.

    Args:
        pattern: the keyword or splitter from the data.
        prefix: regex text put before it (``\b`` for whole-word matching).
        suffix: regex text put after it.
        ignore_case: compile with ``re.IGNORECASE`` (keywords: yes; section splitters: no).

    Returns:
        The compiled pattern (cached: the data repeats the same few keywords).
    """
    flags = re.IGNORECASE if ignore_case else 0
    try:
        return re.compile(prefix + pattern + suffix, flags)
    except re.error:
        return re.compile(prefix + re.escape(pattern) + suffix, flags)


def snippet(text: str, limit: int = 40) -> str:
    """Quote ``text`` for a verdict detail, shortened to ``limit`` characters with an ellipsis."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(short)


def word_around(text: str, start: int, end: int) -> str:
    """The whitespace-delimited word around ``text[start:end]``, to show where a match landed."""
    left = start
    while left > 0 and not text[left - 1].isspace():
        left -= 1
    right = end
    while right < len(text) and not text[right].isspace():
        right += 1
    return snippet(text[left:right], 30)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 word', '2 words' (or the given irregular plural)."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count} {word}"
