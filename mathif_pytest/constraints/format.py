"""Markdown format checkers: bullet lists, highlighted sections, and ``SECTION n`` sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from mathif_pytest.constraints._args import DEVIATION, MIN
from mathif_pytest.constraints._base import Verdict
from mathif_pytest.constraints._text import literal_or_regex, plural, snippet

__all__ = ["BulletCount", "HighlightCount", "SectionCount", "count_bullets"]


def _next_line(text: str, pos: int) -> int:
    """The start of the line after the one holding ``pos``, or ``len(text)`` if there is none."""
    newline = text.find("\n", pos)
    return len(text) if newline < 0 else newline + 1


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def count_bullets(text: str) -> int:
    r"""Count bullet lines exactly as the official ``findall`` of two patterns does, in linear time.

    Officially: ``^\s*\*[^\*].*$`` plus ``^\s*-.*$`` (MULTILINE). Their quirks are the benchmark's
    behaviour and are kept: ``\s*`` runs across blank lines, ``[^\*]`` may be a newline (then the
    match swallows the next line), any line starting with "-" counts (a "---" rule, "-3"), and a
    line starting with "**bold**" does not. The regexes retry ``\s*`` from every line start of a
    blank run, which is quadratic on a long run of blank lines (a degenerate model output); this
    scan gives the same counts (property-tested against the regexes) without the retries.
    """
    stars = dashes = 0
    line = 0
    while line < len(text):
        first = _skip_space(text, line)
        if first + 1 < len(text) and text[first] == "*" and text[first + 1] != "*":
            stars += 1
            end = text.find("\n", first + 2)
            end = len(text) if end < 0 else end
            # The next try starts at the match end, a line start only if it follows a newline.
            line = end if text[end - 1] == "\n" else end + 1
        else:
            line = _next_line(text, first)
    line = 0
    while line < len(text):
        first = _skip_space(text, line)
        dashes += first < len(text) and text[first] == "-"
        line = _next_line(text, first)
    return stars + dashes


# "*x*" on one line, and "**x**" once more, each counted when its inside is not blank.
_SINGLE_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")


@dataclass(frozen=True, slots=True, kw_only=True)
class BulletCount:
    """Exactly N markdown bullet lines, ``* item`` or ``- item``; see :func:`count_bullets`."""

    constraint_id: ClassVar[str] = "detectable_format:number_bullet_lists"
    num_bullets: int = field(metadata={MIN: 0})

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        found = count_bullets(response)
        followed = found == self.num_bullets
        detail = f"found {plural(found, 'bullet point')}; needs exactly {self.num_bullets}"
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class HighlightCount:
    """At least N ``*highlighted*`` spans; ``**bold**`` counts once, and so does ``$x*y*z$``."""

    constraint_id: ClassVar[str] = "detectable_format:number_highlighted_sections"
    num_highlights: int = field(metadata={MIN: 1})

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        single = [m for m in _SINGLE_HIGHLIGHT.findall(response) if m.strip("*").strip()]
        double = [m for m in _DOUBLE_HIGHLIGHT.findall(response) if m[2:-2].strip()]
        found = len(single) + len(double)
        followed = found >= self.num_highlights
        first = f" (first {snippet((single or double)[0])})" if found else ""
        detail = (
            f"found {plural(found, 'highlighted section')}{first}; "
            f"needs at least {self.num_highlights}"
        )
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionCount:
    """At least N sections, each opened by ``<spliter> <number>`` (case-sensitive, as officially).

    The prompt says "must have N sections", but the official check is ``>= N``; the deviation
    ``sections_exact`` makes it ``== N``.
    """

    constraint_id: ClassVar[str] = "detectable_format:multiple_sections"
    num_sections: int = field(metadata={MIN: 1})
    section_spliter: str
    exact: bool = field(default=False, metadata={DEVIATION: "sections_exact"})

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        marker = self.section_spliter.strip()
        pattern = literal_or_regex(marker, prefix=r"\s?", suffix=r"\s?\d+\s?", ignore_case=False)
        # len(split) - 1, not a match count: a group in the spliter adds pieces, as officially.
        found = len(pattern.split(response)) - 1
        needed = self.num_sections
        followed = found == needed if self.exact else found >= needed
        detail = (
            f"found {plural(found, 'section')} marked {snippet(marker + ' <n>')}; "
            f"needs {'exactly' if self.exact else 'at least'} {needed}"
        )
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)
