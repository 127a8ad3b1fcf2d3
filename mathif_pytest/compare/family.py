"""Family-wise control across the tested rows of one gate: Holm's step-down adjustment."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CORRECTIONS", "adjust_p_values", "holm"]

#: ``holm``: family-wise error at most alpha across the rows; ``none``: each row at its own level.
CORRECTIONS = ("holm", "none")


def holm(p_values: Sequence[float]) -> tuple[float, ...]:
    """Holm-adjusted p-values, in the input order.

    Sort the k p-values ascending; the i-th smallest (1-based) is multiplied by ``k - i + 1``,
    capped at 1, and made non-decreasing along the sorted order. Rejecting every row whose
    adjusted p is below alpha keeps the chance of any false rejection at most alpha, whatever
    the dependence between the rows (Holm 1979). Adjusted p-values never fall when a raw one
    rises, so replacing a p-value by a larger, more conservative one can only reject less.
    """
    k = len(p_values)
    adjusted = [0.0] * k
    running = 0.0
    for rank, index in enumerate(sorted(range(k), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (k - rank) * p_values[index]))
        adjusted[index] = running
    return tuple(adjusted)


def adjust_p_values(p_values: Sequence[float], correction: str) -> tuple[float, ...]:
    """Adjust a family's p-values: :func:`holm`, or ``none`` (returned as they are).

    Raises:
        ValueError: an unknown correction.
    """
    if correction == "holm":
        return holm(p_values)
    if correction == "none":
        return tuple(p_values)
    raise ValueError(f"unknown correction {correction!r}; use one of {', '.join(CORRECTIONS)}")
