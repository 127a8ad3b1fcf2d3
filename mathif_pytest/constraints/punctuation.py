"""Punctuation checker: ``punctuation:no_comma``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.constraints._text import plural, word_around

__all__ = ["NoComma"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NoComma:
    """No ASCII comma (``1,000`` and ``(1,2)`` count; the full-width comma U+FF0C does not)."""

    constraint_id: ClassVar[str] = "punctuation:no_comma"

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        count = response.count(",")
        if not count:
            return Verdict(
                constraint_id=self.constraint_id, followed=True, detail="contains no comma"
            )
        first = response.index(",")
        where = word_around(response, first, first + 1)
        detail = f"contains {plural(count, 'comma')} (first in {where})"
        return Verdict(constraint_id=self.constraint_id, followed=False, detail=detail)
