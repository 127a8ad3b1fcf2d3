"""What every constraint checker is: a frozen dataclass of its arguments with one pure ``check``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Protocol

__all__ = ["Checker", "Relation", "Verdict"]


class Relation(enum.Enum):
    """A comparison in a constraint's arguments; the data spells only these two."""

    LESS_THAN = "less than"
    AT_LEAST = "at least"

    def holds(self, value: int, bound: int) -> bool:
        """Whether ``value`` satisfies this relation to ``bound`` (strict ``<``, or ``>=``)."""
        return value < bound if self is Relation.LESS_THAN else value >= bound

    def need(self, bound: int) -> str:
        """The requirement as words: "fewer than 3" or "at least 3"."""
        return f"fewer than {bound}" if self is Relation.LESS_THAN else f"at least {bound}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """Whether one constraint was followed, with a sentence a human can act on.

    Attributes:
        constraint_id: the registry id, exactly as in the data (``keywords:frequency``).
        followed: the official strict verdict (or the deviated one, if a deviation is enabled).
        detail: why, e.g. "'than' appears 3 times; needs fewer than 2".
    """

    constraint_id: str
    followed: bool
    detail: str


class Checker(Protocol):
    """A constraint checker: a frozen dataclass whose fields are the constraint's arguments."""

    constraint_id: ClassVar[str]

    def check(self, response: str) -> Verdict:
        """Judge one response (the post-thinking text) against this constraint. Never raises."""
        ...
