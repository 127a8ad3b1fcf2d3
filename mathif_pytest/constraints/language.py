"""Language checker ``language:response_language``, and deterministic language detection."""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from mathif_pytest.constraints._args import ACCEPTS, VALIDATE
from mathif_pytest.constraints._base import Verdict

if TYPE_CHECKING:
    from langdetect.detector import Detector
    from langdetect.detector_factory import DetectorFactory

__all__ = ["ResponseLanguage", "detect_language", "supported_languages"]

_SPACES = re.compile(" {2,}")

#: The seed of our own detector factory. The official code leaves langdetect unseeded, so its
#: verdict on short or mixed text changes between runs (``\boxed{5}``: 'so' 5 runs in 6).
DETECTOR_SEED = 0


def _profiles_dir() -> Path:
    # find_spec locates the package without executing it: validation must not pay for the import.
    spec = importlib.util.find_spec("langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "langdetect is not installed; install mathif-pytest's dependencies"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "profiles"


@functools.cache
def supported_languages() -> frozenset[str]:
    """The codes langdetect can return ("es", "zh-cn", ...), read from its profile files."""
    return frozenset(p.name for p in _profiles_dir().iterdir() if not p.name.startswith("."))


def _language_problem(code: str) -> str | None:
    """Why ``code`` is not a language langdetect can detect, or None if it is one."""
    known = supported_languages()
    if code in known:
        return None
    regional = [k for k in sorted(known) if k.startswith(code.lower() + "-")]  # "zh" -> "zh-cn"
    hint = regional or difflib.get_close_matches(code.lower(), sorted(known), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"is not a language langdetect can detect (got {code!r}){suggestion}"


@functools.cache
def _detector_class() -> type[Detector]:
    """The ``Detector`` of langdetect with its hot loops rewritten, same results bit for bit.

    ``_update_lang_prob`` and ``_normalize_prob`` run about 150 times per detection, each over
    all 55 languages; written as list comprehensions they do the same float operations on the
    same values in the same order (``p * (w + q)`` is ``p *= w + q``; ``sum`` still adds left to
    right; the maximum still starts at 0.0). ``_extract_ngrams`` runs langdetect's n-gram state
    machine inline, with its per-character normalisation remembered, and ``append`` collapses
    runs of spaces with one substitution. Every n-gram, probability and detected language is
    langdetect's (a test compares them on both benchmark corpora).
    """
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    normalize = functools.lru_cache(maxsize=4096)(NGram.normalize)

    class FastDetector(Detector):  # type: ignore[misc]
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

        def _extract_ngrams(self) -> list[str]:
            known, found = self.word_lang_prob_map, list[str]()
            grams, capital = " ", False
            for raw in self.text:
                char, last = normalize(raw), grams[-1]
                if last == " ":
                    grams, capital = " ", False
                    if char == " ":
                        continue
                elif len(grams) >= 3:
                    grams = grams[1:]
                grams += char
                capital = char.isupper() and (capital or last.isupper())
                if capital:
                    continue
                if char != " " and char in known:
                    found.append(char)
                size = len(grams)
                if size > 1 and grams[-2:] in known:
                    found.append(grams[-2:])
                if size > 2 and grams in known:
                    found.append(grams)
            return found

    return FastDetector


class _LazyProbabilities(dict[str, list[float]]):
    """langdetect's n-gram → probability-per-language table, each row made on first use.

    ``DetectorFactory.load_json_profile`` builds all 87,598 rows up front (0.15 s, at every
    worker start); a detection reads a few hundred. Membership is the union of the profiles'
    n-grams, and a row holds ``1.0 * count / n_words[len - 1]`` per profile, zeros elsewhere,
    exactly as langdetect computes them (a test compares every row).
    """

    def __init__(self, profiles: list[dict[str, Any]]) -> None:
        super().__init__()
        self._counts = [(p["freq"], p["n_words"]) for p in profiles]
        self._known = frozenset().union(*(p["freq"] for p in profiles))

    def __contains__(self, gram: object) -> bool:
        return gram in self._known

    def __missing__(self, gram: str) -> list[float]:
        if gram not in self._known:
            raise KeyError(gram)
        row = [0.0] * len(self._counts)
        if 1 <= len(gram) <= 3:
            for index, (freq, n_words) in enumerate(self._counts):
                if gram in freq:
                    row[index] = 1.0 * freq[gram] / n_words[len(gram) - 1]
        self[gram] = row
        return row


@functools.cache
def _factory() -> tuple[DetectorFactory, type[Exception]]:
    # Imported and loaded on first use, never at import time, then shared: detectors only read
    # the factory. A private factory, so the process-wide langdetect state is left alone; the
    # profiles are read in sorted order, so ties between languages break the same way everywhere.
    # The exception class is cached with it: a later re-import of langdetect (pytester's in-process
    # runs drop modules from sys.modules) would otherwise give a class the detector never raises.
    from langdetect.detector_factory import DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    paths = sorted(p for p in _profiles_dir().iterdir() if not p.name.startswith("."))
    profiles = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    factory = DetectorFactory()
    factory.seed = DETECTOR_SEED
    factory.langlist = [profile["name"] for profile in profiles]
    factory.word_lang_prob_map = _LazyProbabilities(profiles)
    return factory, LangDetectException


def detect_language(text: str) -> str | None:
    """Detect the language of ``text`` like ``langdetect.detect``, but deterministically.

    Args:
        text: any text.

    Returns:
        A langdetect code such as "en", or None where langdetect raises (no letters at all: "123").
    """
    factory, undetectable = _factory()
    detector = _detector_class()(factory)
    detector.append(text)
    try:
        return str(detector.detect())
    except undetectable:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseLanguage:
    """The whole response (maths and LaTeX included) must be detected as ``language``.

    As officially, text whose language cannot be detected at all counts as followed.
    """

    constraint_id: ClassVar[str] = "language:response_language"
    language: str = field(
        metadata={VALIDATE: _language_problem, ACCEPTS: "a langdetect code such as 'es' or 'zh-cn'"}
    )

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        found = detect_language(response)
        if found is None:
            detail = (
                "language could not be detected (no letters); counted as followed, as officially"
            )
            return Verdict(constraint_id=self.constraint_id, followed=True, detail=detail)
        followed = found == self.language
        detail = f"detected language {found!r}; needs {self.language!r}"
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)
