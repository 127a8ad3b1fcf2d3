"""Combination checker: ``combination:repeat_prompt`` (repeat the request, then answer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.constraints._text import snippet

__all__ = ["RepeatPrompt"]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass(frozen=True, slots=True, kw_only=True)
class RepeatPrompt:
    """The response must start with the request, ignoring case and outer whitespace.

    Anything before the request ("Sure.") fails; anything after it is the answer. In the data the
    request is always the row's question, GSM8K's "####" instruction included.
    """

    constraint_id: ClassVar[str] = "combination:repeat_prompt"
    prompt_to_repeat: str

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        text, request = response.strip(), self.prompt_to_repeat.strip()
        if text.lower().startswith(request.lower()):
            detail = f"starts with the request ({len(request)} characters)"
            return Verdict(constraint_id=self.constraint_id, followed=True, detail=detail)
        same = _common_prefix(text.lower(), request.lower())
        if same == 0:
            detail = f"response starts with {snippet(text, 30)} instead of the request"
        else:
            detail = (
                f"response repeats the first {same} characters of the request, then has "
                f"{snippet(text[same:], 25)} where the request has {snippet(request[same:], 25)}"
            )
        return Verdict(constraint_id=self.constraint_id, followed=False, detail=detail)
