"""Keyword checkers: ``keywords:existence``, ``:frequency`` and ``:forbidden_words``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from mathif_pytest.constraints._args import DEVIATION, MIN
from mathif_pytest.constraints._base import Relation, Verdict
from mathif_pytest.constraints._text import literal_or_regex, plural, snippet, word_around

__all__ = ["ForbiddenWords", "KeywordExistence", "KeywordFrequency"]

# Official existence/frequency match the keyword as a case-insensitive regex anywhere, even inside a
# longer word ("now" in "know"); forbidden words need word boundaries. The deviation
# ``keyword_whole_words`` gives existence/frequency the forbidden-words rule.
_WORD_BOUNDARY = r"\b"


def _bounds(whole_words: bool) -> str:
    return _WORD_BOUNDARY if whole_words else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordExistence:
    """Every keyword must occur (official: case-insensitive regex search, substrings count)."""

    constraint_id: ClassVar[str] = "keywords:existence"
    keywords: tuple[str, ...]
    whole_words: bool = field(default=False, metadata={DEVIATION: "keyword_whole_words"})

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        edge = _bounds(self.whole_words)
        missing = [
            kw
            for kw in self.keywords
            if not literal_or_regex(kw, prefix=edge, suffix=edge).search(response)
        ]
        if missing:
            names = " and ".join(snippet(kw) for kw in missing)
            detail = f"missing {'keyword' if len(missing) == 1 else 'keywords'} {names}"
        else:
            detail = "contains every keyword: " + ", ".join(snippet(kw) for kw in self.keywords)
        return Verdict(constraint_id=self.constraint_id, followed=not missing, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordFrequency:
    """A keyword must occur fewer than / at least N times (official: substring regex count)."""

    constraint_id: ClassVar[str] = "keywords:frequency"
    keyword: str
    frequency: int = field(metadata={MIN: 1})
    relation: Relation
    whole_words: bool = field(default=False, metadata={DEVIATION: "keyword_whole_words"})

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        edge = _bounds(self.whole_words)
        # The official build_description strips the keyword before it is used as a pattern.
        pattern = literal_or_regex(self.keyword.strip(), prefix=edge, suffix=edge)
        matches = list(pattern.finditer(response))
        followed = self.relation.holds(len(matches), self.frequency)
        where = f" (first in {word_around(response, *matches[0].span())})" if matches else ""
        detail = (
            f"{snippet(self.keyword)} appears {plural(len(matches), 'time')}{where}; "
            f"needs {self.relation.need(self.frequency)}"
        )
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class ForbiddenWords:
    r"""No word may occur as a whole word (official: ``\b`` + word + ``\b``, any case)."""

    constraint_id: ClassVar[str] = "keywords:forbidden_words"
    forbidden_words: tuple[str, ...]

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        for word in self.forbidden_words:
            hit = literal_or_regex(word, prefix=_WORD_BOUNDARY, suffix=_WORD_BOUNDARY).search(
                response
            )
            if hit:
                detail = (
                    f"uses forbidden word {snippet(word)} (in {word_around(response, *hit.span())})"
                )
                return Verdict(constraint_id=self.constraint_id, followed=False, detail=detail)
        detail = "uses none of the forbidden words " + ", ".join(
            snippet(w) for w in self.forbidden_words
        )
        return Verdict(constraint_id=self.constraint_id, followed=True, detail=detail)
