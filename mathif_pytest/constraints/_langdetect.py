"""langdetect's detection, bit for bit, with its profile loading and hot loops made cheaper.

A scoring worker detects the language of hundreds of long answers; langdetect loads all 55
profiles into an 87,598-row table at start-up and walks every character of a text in Python.
Here the table makes each row on first use, n-grams are collected per distinct word, and the
per-character loops are written as list comprehensions or single regex passes, all computing the
same values in the same order (tests compare every row, and every n-gram and probability on both
benchmark corpora).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langdetect.detector import Detector
    from langdetect.detector_factory import DetectorFactory

__all__ = ["DETECTOR_SEED", "detector_class", "factory", "profiles_dir"]

#: The seed of our own detector factory. The official code leaves langdetect unseeded, so its
#: verdict on short or mixed text changes between runs (``\boxed{5}``: 'so' 5 runs in 6).
DETECTOR_SEED = 0
_SPACES = re.compile(" {2,}")
_LATIN = re.compile("[A-z]")  # langdetect's 'A' <= ch <= 'z', brackets and backtick included
# cleaning_text means to exempt "Latin Extended Additional" from the non-Latin count, but compares
# a block number with a block name, so every character from U+0300 on counts.
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")
_MAX_WORDS_REMEMBERED = 100_000


def profiles_dir() -> Path:
    """The profile directory of langdetect (found without importing it)."""
    spec = importlib.util.find_spec("langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "langdetect is not installed; install mathif-pytest's dependencies"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "profiles"


class _Normalized(dict[int, str]):
    """``str.translate`` table of langdetect's per-character ``NGram.normalize``, filled on use."""

    def __missing__(self, code: int) -> str:
        from langdetect.utils.ngram import NGram

        char: str = NGram.normalize(chr(code))
        self[code] = char
        return char


class _Table(dict[str, "list[float] | None"]):
    """langdetect's n-gram → probability-per-language table, each row made on first use.

    Every n-gram of every profile is a key from the start (membership is a plain dict lookup);
    its row, ``1.0 * count / n_words[len - 1]`` per profile that has it and 0.0 elsewhere, as
    ``DetectorFactory.add_profile`` computes it, is made when first read. It also remembers the
    n-grams each word yields (:meth:`word_grams`).
    """

    def __init__(self, profiles: list[dict[str, Any]]) -> None:
        super().__init__(dict.fromkeys(gram for p in profiles for gram in p["freq"]))
        self._counts = [(p["freq"], p["n_words"]) for p in profiles]
        self._words: dict[tuple[str, bool], tuple[str, ...]] = {}

    def __getitem__(self, gram: str) -> list[float]:
        row = super().__getitem__(gram)
        if row is None:
            row = [0.0] * len(self._counts)
            if 1 <= len(gram) <= 3:
                for index, (freq, n_words) in enumerate(self._counts):
                    if gram in freq:
                        row[index] = 1.0 * freq[gram] / n_words[len(gram) - 1]
            self[gram] = row
        return row

    def word_grams(self, word: str, spaced: bool) -> tuple[str, ...]:
        """The n-grams langdetect collects from ``word`` (normalised, no spaces) after a space.

        ``spaced``: a space follows, which yields the word's closing 2- and 3-gram. langdetect's
        state machine restarts at every space, so a text's n-grams are its words' in order.
        """
        key = (word, spaced)
        grams = self._words.get(key)
        if grams is None:
            if len(self._words) >= _MAX_WORDS_REMEMBERED:
                self._words.clear()
            grams = self._words[key] = tuple(self._scan(word + " " if spaced else word))
        return grams

    def _scan(self, chars: str) -> list[str]:
        found: list[str] = []
        grams, capital = " ", False
        for char in chars:
            last = grams[-1]
            grams = (grams[1:] if len(grams) >= 3 else grams) + char
            capital = char.isupper() and (capital or last.isupper())
            if capital:
                continue
            if char != " " and char in self:
                found.append(char)
            if grams[-2:] in self:
                found.append(grams[-2:])
            if len(grams) > 2 and grams in self:
                found.append(grams)
        return found


@functools.cache
def factory() -> tuple[DetectorFactory, type[Exception]]:
    """The shared detector factory (profiles read in sorted order) and langdetect's exception.

    Loaded on first use, never at import time; detectors only read it. A private factory, so the
    process-wide langdetect state is left alone; sorted profiles make ties between languages
    break the same way everywhere. The exception class is kept with it: a later re-import of
    langdetect (pytester's in-process runs drop modules) would give a class never raised.
    """
    from langdetect.detector_factory import DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    paths = sorted(p for p in profiles_dir().iterdir() if not p.name.startswith("."))
    profiles = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    shared = DetectorFactory()
    shared.seed = DETECTOR_SEED
    shared.langlist = [profile["name"] for profile in profiles]
    shared.word_lang_prob_map = _Table(profiles)
    return shared, LangDetectException


@functools.cache
def detector_class() -> type[Detector]:
    """The ``Detector`` of langdetect, hot loops rewritten; needs the table of :func:`factory`.

    ``_update_lang_prob`` and ``_normalize_prob`` run about 150 times per detection, each over
    all 55 languages; as list comprehensions they do the same float operations on the same values
    in the same order (``p * (w + q)`` is ``p *= w + q``; ``sum`` still adds left to right; the
    maximum still starts at 0.0). ``append`` collapses runs of spaces with one substitution,
    ``cleaning_text`` counts with regexes, and ``_extract_ngrams`` normalises with
    ``str.translate`` and takes each word's n-grams from the table's memory.
    """
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    normalized = _Normalized()

    class FastDetector(Detector):  # type: ignore[misc]
        text: str

        def _update_lang_prob(self, prob: list[float], word: str | None, alpha: float) -> bool:
            if word is None or word not in self.word_lang_prob_map:
                return False
            weight = alpha / self.BASE_FREQ
            row = self.word_lang_prob_map[word]
            prob[:] = [p * (weight + q) for p, q in zip(prob, row, strict=True)]
            return True

        def _normalize_prob(self, prob: list[float]) -> float:
            total = sum(prob)
            prob[:] = [p / total for p in prob]
            return max(0.0, *prob)

        def append(self, text: str) -> None:
            text = NGram.normalize_vi(self.MAIL_RE.sub(" ", self.URL_RE.sub(" ", text)))
            self.text += _SPACES.sub(" ", text[: self.max_text_length])

        def cleaning_text(self) -> None:
            without_latin = _LATIN.sub("", self.text)
            if (len(self.text) - len(without_latin)) * 2 < len(_NON_LATIN.findall(self.text)):
                self.text = without_latin

        def _extract_ngrams(self) -> list[str]:
            table: _Table = self.word_lang_prob_map
            words = self.text.translate(normalized).split(" ")
            found: list[str] = []
            for index, word in enumerate(words, start=1):
                if word:
                    found.extend(table.word_grams(word, index < len(words)))
            return found

    return FastDetector
