"""What an intervention is, how a suite or the command line names it, and the exact strings used.

No official code exists for the paper's "+repeat" or for its budget forcing (protocol §4.4, §6):
these are our reading of its prose, documented in ``docs/interventions.md`` with the same strings.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mathif_pytest.errors import MathIFError

__all__ = [
    "CLOSE_INSERT",
    "KINDS",
    "REMINDER",
    "THINK_CLOSE",
    "WAIT",
    "Intervention",
    "parse_intervention",
    "reminder_text",
]

#: The end-of-thinking marker every stage watches for (R1-distill, QwQ, Qwen3).
THINK_CLOSE = "</think>"
#: ``repeat_constraints``: what replaces the model's ``</think>`` ("append 'Wait' ... then
#: reintroduce the original constraint immediately afterward", paper §5.3); ``{constraints}`` is
#: the prompt's constraint descriptions joined by one space, exactly as in the prompt.
REMINDER = "\nWait, {constraints}\n"
#: ``budget_forcing``: what replaces the model's ``</think>`` (s1's string, appended as it is).
WAIT = "Wait"
#: ``thinking_budget``: what closes a thinking cut at its budget.
CLOSE_INSERT = "\n</think>\n\n"
#: Each kind, and whether it takes a number (its budget or count).
KINDS: Mapping[str, bool] = {
    "repeat_constraints": False,
    "thinking_budget": True,
    "budget_forcing": True,
}
_FORM = "repeat_constraints, thinking_budget=TOKENS or budget_forcing=N"


@dataclass(frozen=True, slots=True, kw_only=True)
class Intervention:
    """One intervention on the model's thinking.

    Attributes:
        kind: ``repeat_constraints``, ``thinking_budget`` or ``budget_forcing``.
        value: the thinking budget in tokens, or the number of forced ``Wait``; None for
            ``repeat_constraints``.
    """

    kind: str
    value: int | None = None

    @property
    def label(self) -> str:
        """``repeat_constraints``, ``thinking_budget=512``, ``budget_forcing=4``."""
        return self.kind if self.value is None else f"{self.kind}={self.value}"

    @property
    def needs_constraints(self) -> bool:
        """The intervention repeats the constraints: their prompts must carry them."""
        return self.kind == "repeat_constraints"

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "value", "label"}``."""
        return {"kind": self.kind, "value": self.value, "label": self.label}

    def key_dict(self) -> dict[str, Any]:
        """What keys its responses in the store: kind, value and the exact strings inserted.

        Changing a string (a new reading of the paper) generates afresh.
        """
        strings = {
            "repeat_constraints": {"reminder": REMINDER},
            "thinking_budget": {"close": CLOSE_INSERT},
            "budget_forcing": {"wait": WAIT},
        }[self.kind]
        return {"kind": self.kind, "value": self.value, "marker": THINK_CLOSE, **strings}


def reminder_text(constraints: str) -> str:
    """The exact text ``repeat_constraints`` inserts for a prompt with these constraints."""
    return REMINDER.format(constraints=constraints)


def parse_intervention(value: Any, where: str) -> Intervention:
    """An intervention from a suite's ``intervention:`` or ``--mathif-intervention``.

    Accepted: a mapping with one key (``{thinking_budget: 1024}``, ``{repeat_constraints:
    true}``), or text (``budget_forcing=4``, ``repeat_constraints``).

    Raises:
        MathIFError: an unknown kind (with a did-you-mean), a missing or non-positive number,
            a number given to ``repeat_constraints``, or several kinds at once.
    """
    kind, number = _split(value, where)
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise MathIFError(f"{where}: unknown intervention {kind!r}{hint}; use {_FORM}")
    if not KINDS[kind]:
        if number not in (None, True):
            raise MathIFError(f"{where}: {kind} takes no number (got {number!r}); use {kind}")
        return Intervention(kind=kind)
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise MathIFError(
            f"{where}: {kind} needs a positive whole number (got {number!r}); e.g. "
            f"{kind}={1024 if kind == 'thinking_budget' else 4}"
        )
    return Intervention(kind=kind, value=number)


def _split(value: Any, where: str) -> tuple[str, Any]:
    if isinstance(value, str):
        kind, sep, number = value.strip().partition("=")
        return kind.strip(), (number.strip() if sep else None)
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, number),) = value.items()
        return str(kind), number
    raise MathIFError(
        f"{where}: expected one intervention, as a mapping with one key or as text "
        f"(got {value!r}); use {_FORM}"
    )
