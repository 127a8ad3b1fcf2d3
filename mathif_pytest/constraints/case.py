"""Letter-case checkers: all capitals or all lowercase (in English), and all-capital word counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from mathif_pytest.constraints._args import MIN
from mathif_pytest.constraints._base import Relation, Verdict
from mathif_pytest.constraints._text import capital_words, plural, snippet
from mathif_pytest.constraints.language import detect_language

__all__ = ["CapitalWordFrequency", "EnglishCapital", "EnglishLowercase"]


_IS_CASE: dict[str, Callable[[str], bool]] = {"upper": str.isupper, "lower": str.islower}


def _is_cased(ch: str) -> bool:
    return ch.isupper() or ch.islower() or ch.istitle()


def _first_word_not_in(response: str, case: str) -> str:
    """The first whitespace-delimited word holding a cased letter that is not of ``case``."""
    is_case = _IS_CASE[case]
    for word in response.split():
        if any(_is_cased(ch) and not is_case(ch) for ch in word):
            return snippet(word, 30)
    return "''"


def _case_and_english(constraint_id: str, response: str, case: str) -> Verdict:
    """Shared rule: ``response.is<case>()`` and detected as English (undetectable counts)."""
    if not _IS_CASE[case](response):
        if not any(_is_cased(ch) for ch in response):
            detail = f"has no letters with case, so it is not all {case}case"
        else:
            detail = f"is not all {case}case, e.g. {_first_word_not_in(response, case)}"
        return Verdict(constraint_id=constraint_id, followed=False, detail=detail)
    language = detect_language(response)
    if language is None:
        detail = f"all {case}case; language undetectable, which counts as English, as officially"
        return Verdict(constraint_id=constraint_id, followed=True, detail=detail)
    detail = f"all {case}case; detected language {language!r}, needs 'en'"
    return Verdict(constraint_id=constraint_id, followed=language == "en", detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnglishCapital:
    r"""English in capitals: ``str.isupper()`` (so ``\boxed{2}`` fails) and langdetect 'en'."""

    constraint_id: ClassVar[str] = "change_case:english_capital"

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        return _case_and_english(self.constraint_id, response, "upper")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnglishLowercase:
    """English in lowercase: ``str.islower()`` (so a variable ``$A$`` fails) and langdetect 'en'."""

    constraint_id: ClassVar[str] = "change_case:english_lowercase"

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        return _case_and_english(self.constraint_id, response, "lower")


@dataclass(frozen=True, slots=True, kw_only=True)
class CapitalWordFrequency:
    """Fewer than / at least N all-capital words; "A", "I" and "ABC" each count as one."""

    constraint_id: ClassVar[str] = "change_case:capital_word_frequency"
    capital_frequency: int = field(metadata={MIN: 1})
    capital_relation: Relation

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        words = capital_words(response)
        followed = self.capital_relation.holds(len(words), self.capital_frequency)
        shown = (
            f" ({', '.join(snippet(w, 20) for w in words[:3])}{', …' if len(words) > 3 else ''})"
        )
        detail = (
            f"found {plural(len(words), 'all-capital word')}{shown if words else ''}; "
            f"needs {self.capital_relation.need(self.capital_frequency)}"
        )
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)
