"""The grading steps both graders share: their settings, the decision cache, the fast path.

:class:`~mathif_pytest.grading.Grader` (sympy in worker processes it owns) and the scoring
workers' :class:`~mathif_pytest.grading._inline.InlineGrader` (sympy in the worker itself) take
the same steps in the same order: extract the answer, look the decision up, decide in-process
what exact arithmetic decides, and only then run sympy.
"""

from __future__ import annotations

from dataclasses import dataclass

from mathif_pytest.grading._decide import CheapOps, Decision, NeedsSympy, decide
from mathif_pytest.grading._tora import ToraSettings
from mathif_pytest.protocol import Deviations

__all__ = ["IN_PROCESS_MAX_CHARS", "CacheKey", "Config", "DecisionCache", "quick_decision"]

#: Longer answers skip the in-process fast path and go straight to sympy, under the deadline.
IN_PROCESS_MAX_CHARS = 2000
_CACHE_MAX_ENTRIES = 200_000
CacheKey = tuple[str, str, ToraSettings]


@dataclass(frozen=True, slots=True)
class Config:
    """The per-call settings of grading."""

    deviations: Deviations
    timeout: float

    @property
    def tora(self) -> ToraSettings:
        return ToraSettings(
            include_percentage=not self.deviations.no_percent_leniency,
            elementwise_lists=self.deviations.elementwise_lists,
        )


class DecisionCache:
    """Decisions by (reference, extracted answer, settings); emptied when it holds too many.

    Args:
        enabled: ``False`` remembers nothing (the naive configuration).
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._decisions: dict[CacheKey, Decision] = {}

    def get(self, key: CacheKey) -> Decision | None:
        """The remembered decision, if any."""
        return self._decisions.get(key)

    def remember(self, key: CacheKey, decision: Decision) -> None:
        """Keep ``decision`` (when enabled)."""
        if not self.enabled:
            return
        if len(self._decisions) >= _CACHE_MAX_ENTRIES:
            self._decisions.clear()
        self._decisions[key] = decision


def quick_decision(reference: str, extracted: str, settings: ToraSettings) -> Decision | None:
    """The decision where exact arithmetic makes it (as sympy would), else None (sympy's turn)."""
    if max(len(reference), len(extracted)) > IN_PROCESS_MAX_CHARS:
        return None
    try:
        return decide(reference, extracted, settings=settings, ops=CheapOps())
    except NeedsSympy:
        return None
