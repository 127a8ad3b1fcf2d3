"""Affix checkers: ``startend:end_checker`` (closing phrase) and ``startend:quotation``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.constraints._text import snippet

__all__ = ["EndPhrase", "Quotation"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EndPhrase:
    r"""The response must end with ``end_phrase``, ignoring case and outer whitespace.

    As officially, double quotes around the response are removed first (so this combines with
    ``startend:quotation``), and nothing may follow the phrase, not even a ``\boxed{}`` answer.
    """

    constraint_id: ClassVar[str] = "startend:end_checker"
    end_phrase: str

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        text = response.strip().strip('"').lower()
        phrase = self.end_phrase.strip().lower()
        if text.endswith(phrase):
            detail = f"ends with {snippet(self.end_phrase.strip())}"
            return Verdict(constraint_id=self.constraint_id, followed=True, detail=detail)
        tail = response.strip().strip('"')[-max(len(phrase), 20) :]
        wanted = snippet(self.end_phrase.strip())
        detail = f"response ends with {snippet('…' + tail)} instead of {wanted}"
        return Verdict(constraint_id=self.constraint_id, followed=False, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quotation:
    """The stripped response must start and end with an ASCII ``"`` (curly quotes do not count)."""

    constraint_id: ClassVar[str] = "startend:quotation"

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        text = response.strip()
        followed = len(text) > 1 and text[0] == '"' and text[-1] == '"'
        if followed:
            detail = 'wrapped in double quotation marks (")'
        else:
            detail = (
                f'not wrapped in ASCII double quotes ("): starts with {snippet(text[:1])} '
                f"and ends with {snippet(text[-1:])}"
            )
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)
