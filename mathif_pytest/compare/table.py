"""A titled table of text cells: what ``mathif compare`` prints and writes as Markdown."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Table"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A titled table of text cells; ``folded`` tables go in a ``<details>`` block in Markdown."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    folded: bool = False
