"""Interventions on the model's thinking, run in stages through any backend that continues a prefix.

``repeat_constraints`` (the paper's "+repeat"), ``thinking_budget: T`` and ``budget_forcing: N``
(s1-style "Wait"): see ``docs/interventions.md`` for our reading of the paper and the strings.
"""

from __future__ import annotations

from mathif_pytest.interventions.spec import (
    CLOSE_INSERT,
    KINDS,
    REMINDER,
    THINK_CLOSE,
    WAIT,
    Intervention,
    parse_intervention,
    reminder_text,
)

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
