"""A gate row decided by a test, before the family correction: its p-value and what it saw."""

from __future__ import annotations

from dataclasses import dataclass

from mathif_pytest.compare.power_model import PowerModel
from mathif_pytest.gate import Threshold
from mathif_pytest.stats import Rate

__all__ = ["RowStatistics"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RowStatistics:
    """What a tested row needs to be judged once the family's adjusted p-values are known.

    Attributes:
        threshold: the row.
        kind: ``no-worse``, ``must-improve`` or ``significantly-below`` (see
            :class:`~mathif_pytest.gate.evidence.RowTest`).
        null: the null hypothesis, e.g. ``delta >= -0.02``.
        p_value: the row's one-sided p-value of its null.
        components: the p-values it is the maximum of, with their names.
        rate: what the row's ``rate`` shows (the delta with its interval, or the rate).
        observed: the first part of the reason, e.g. ``delta -6.90 pts over 420 prompts, ...``.
        past_margin: the estimate lies on the rejecting side of the margin.
        margin: the margin in the row's own direction (``<= 0`` for "no worse than").
        model: the runs for the power of a "no worse than" delta row; None otherwise.
        pairing: ``all samples`` or ``shared sample indices`` (delta rows), else ``""``.
        pairing_note: the sentence for the reason when samples were left out, else ``""``.
    """

    threshold: Threshold
    kind: str
    null: str
    p_value: float
    components: tuple[tuple[str, float], ...]
    rate: Rate
    observed: str
    past_margin: bool
    margin: float
    model: PowerModel | None = None
    pairing: str = ""
    pairing_note: str = ""
