r"""All-capital words as nltk finds them, with most of nltk's work proven unnecessary.

The official ``capital_word_frequency`` checker counts the tokens of ``nltk.word_tokenize`` (punkt
sentences, then ``NLTKWordTokenizer`` on each) for which ``str.isupper()`` holds: at least one
upper-case character and no lower- or title-case one. On a long answer that is hundreds of
sentences and about 27 regular-expression substitutions each. :func:`capital_words` gives the same
tokens, in the same order, and runs nltk only where its result is not known in advance.

Why that is exact. Both nltk steps only insert spaces, replace quotes by uncased quotes, and cut
the text into sentences; no token ever spans two whitespace-separated words (``str.split()``
words: the text may not hold ``\x1c``-``\x1f``, the only characters that ``str.split()`` treats
as whitespace and nltk's regex engine does not). A word without an upper-case character
therefore yields no capital token. For a word with one, three shapes have tokens that do not
depend on where the word stands (start, middle or end of its sentence, whatever surrounds it):

* *Mixed runs.* The tokenizer inserts spaces only next to uncased characters (quotes,
  punctuation, periods, whitespace), except inside the contractions ``n't``/``N'T`` and
  MacIntyre's ``cannot``, ``gimme``, ``gonna``, ``gotta``, ``lemme``, ``wanna``, ``d'ye``,
  ``more'n``, ``'tis``, ``'twas`` (case-insensitive); punkt ends sentences only after ``.?!`` or
  closing quotes and brackets. A word without those contractions whose every run of cased
  characters that holds an upper-case one also holds a lower- or title-case one ("However,",
  "Let's", "(Hint:") keeps each run inside one token, so none of its tokens is capital.
* *Apostrophe suffixes.* ``[A-Za-z]+`` then one of ``'s 'S 'm 'M 'd 'D 'll 'LL 're 'RE 've 'VE
  n't N'T`` (no contraction): the stem and the suffix ("I'd" is "I", "'d"; "DON'T" is "DO",
  "N'T"), since the suffix rules see a space after every word once the tokenizer has padded the
  sentence, and no other rule matches such a word.
* *Plain ASCII.* Printable ASCII without ``.``, ``'``, ``"``, a backtick or ``--``, with ``,`` or
  ``:`` at most as its last character (no contraction): the tokenizer pads each of
  ``;@#$%&?!*()[]{}<>`` with spaces and detaches that final ``,``/``:`` (followed by a space or
  ending the sentence), and no other rule matches; punkt may end a sentence only after a ``?`` or
  ``!`` inside it, which is padded anyway. Its tokens are the runs between those characters
  ("WAIT," is "WAIT", ","; "$AB^2" is "$", "AB^2").

A text whose capital-bearing words all have one of these shapes is not given to nltk at all.
Otherwise punkt splits it (deciding each candidate boundary once per distinct context: a pure
function of it), and only the sentences that hold a word of another shape (periods, quotes,
non-ASCII capitals...) are tokenized by nltk. ``tests/unit/scoring/test_tokenizer_fast_path.py``
compares the tokens with nltk's on both benchmark corpora and on generated adversarial text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

__all__ = ["capital_words", "word_capitals"]

_CONTRACTIONS = re.compile(r"(?i)cannot|gimme|gonna|gotta|lemme|wanna|d'ye|more'n|'tis|'twas")
_SUFFIXED = re.compile(r"([A-Za-z]+)('(?:[sSmMdD]|ll|LL|re|RE|ve|VE)|n't|N'T)")
_PLAIN = re.compile(r"[!-~]+")
_NOT_PLAIN = re.compile(r"[.'\"`]|--|[,:](?!$)")
_PADDED = re.compile(r"[;@#$%&?!*()\[\]{}<>]")
_ODD_SPACE = re.compile("[\x1c-\x1f]")
_UNKNOWN = None  # the word's tokens depend on its sentence: ask nltk


def _has_upper(word: str) -> bool:
    return not word.islower() and any(map(str.isupper, word))


def _runs_are_mixed(word: str) -> bool:
    """Every maximal run of cased characters with an upper-case one has a lower-case one too."""
    upper = lower = False
    for char in word:
        if char.isupper():
            upper = True
        elif char.islower() or char.istitle():
            lower = True
        else:
            if upper and not lower:
                return False
            upper = lower = False
    return lower or not upper


@functools.lru_cache(maxsize=65536)
def word_capitals(word: str) -> tuple[str, ...] | None:
    """The capital tokens of a word with an upper-case character, or None if context decides."""
    if _CONTRACTIONS.search(word):
        return _UNKNOWN
    contracted = "n't" in word or "N'T" in word
    if not contracted and _runs_are_mixed(word):
        return ()
    suffixed = _SUFFIXED.fullmatch(word)
    if suffixed is not None:
        return tuple(token for token in suffixed.groups() if token.isupper())
    if contracted or not _PLAIN.fullmatch(word) or _NOT_PLAIN.search(word):
        return _UNKNOWN
    core = word[:-1] if word[-1] in ",:" else word
    return tuple(run for run in _PADDED.split(core) if run.isupper())


def _known_capitals(words: Iterable[str]) -> list[str] | None:
    """The capital tokens of these words, or None if one of them needs its sentence."""
    found: list[str] = []
    for word in words:
        if _has_upper(word):
            tokens = word_capitals(word)
            if tokens is None:
                return None
            found.extend(tokens)
    return found


@functools.cache
def _nltk() -> tuple[Callable[[str], list[str]], Callable[[str], list[str]]]:
    # Imported here: nltk costs ~0.5 s to import and the plugin must import cheaply.
    from nltk.tokenize.destructive import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    # An untrained punkt model (no data), as in capital_words_slow. Its decision at a candidate
    # boundary depends on the boundary's context string only, so it is remembered per context.
    splitter = PunktSentenceTokenizer()
    splitter.text_contains_sentbreak = functools.lru_cache(maxsize=65536)(
        splitter.text_contains_sentbreak
    )
    return splitter.tokenize, NLTKWordTokenizer().tokenize


def _sentence_capitals(sentence: str, split_words: Callable[[str], list[str]]) -> list[str]:
    if _ODD_SPACE.search(sentence) is None:
        known = _known_capitals(sentence.split())
        if known is not None:
            return known
    return [token for token in split_words(sentence) if token.isupper()]


@functools.lru_cache(maxsize=4)
def capital_words(text: str) -> tuple[str, ...]:
    """The tokens of ``capital_words_slow(text)``, computed as the module docstring explains.

    Remembered for the last few texts, so checks of one response share the work.
    """
    if not any(map(str.isupper, text)):
        return ()
    if _ODD_SPACE.search(text) is None:
        known = _known_capitals(text.split())
        if known is not None:
            return tuple(known)
    split_sentences, split_words = _nltk()
    return tuple(
        token
        for sentence in split_sentences(text)
        for token in _sentence_capitals(sentence, split_words)
    )
