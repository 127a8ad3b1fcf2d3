"""Obedience against thinking length (paper §5.1, Figure 6): quantile bins and a rank correlation.

Responses are binned by their thinking tokens at quantile edges (numpy's default "linear"
quantiles; equal edges merged, so ties never split a bin), and each bin reports HAcc, SAcc and
correctness over its responses with 95% Wilson intervals (one trial per response). The rank
correlation is Spearman's rho (average ranks for ties) between thinking tokens and each
constrained response's hard (all followed) and soft (share followed) compliance, with a 95%
interval from Fisher's z and the Bonett-Wright standard error ``sqrt((1 + rho**2 / 2) / (n -
3))``.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Z_95, Rate

__all__ = [
    "DEFAULT_BINS",
    "Correlation",
    "LengthBin",
    "LengthBins",
    "format_edge",
    "length_bins",
    "quantile_edges",
    "spearman",
]

#: The paper splits outputs into 6 bins.
DEFAULT_BINS = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Correlation:
    """A rank correlation with its 95% interval (None bounds with 3 or fewer pairs)."""

    rho: float
    n: int
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        """``{"rho", "n", "ci_low", "ci_high"}``."""
        return {"rho": self.rho, "n": self.n, "ci_low": self.low, "ci_high": self.high}


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthBin:
    """The responses whose thinking length lies in ``[low, high)`` (the last bin: ``[low, high]``).

    Attributes:
        low, high: the bin's edges, in thinking tokens.
        responses: responses in the bin.
        hard_accuracy, soft_accuracy: over its constrained responses (None if it has none).
        correctness: over all its responses.
    """

    low: float
    high: float
    responses: int
    hard_accuracy: Rate | None
    soft_accuracy: Rate | None
    correctness: Rate

    def to_dict(self) -> dict[str, Any]:
        """Edges, ``n`` and each rate as :meth:`Rate.to_dict` (null when not applicable)."""
        out: dict[str, Any] = {"low": self.low, "high": self.high, "n": self.responses}
        for name in ("hard_accuracy", "soft_accuracy", "correctness"):
            rate = getattr(self, name)
            out[name] = None if rate is None else rate.to_dict()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthBins:
    """Quantile bins of thinking length and the rank correlations with compliance.

    Attributes:
        edges: the bin edges (one more than the bins).
        bins: the bins, shortest thinking first.
        hard: Spearman's rho of thinking tokens with all-constraints-followed (0/1).
        soft: Spearman's rho of thinking tokens with the share of constraints followed.
        sources: how many responses' lengths came from each source (``tokenizer``...).
    """

    edges: tuple[float, ...]
    bins: tuple[LengthBin, ...]
    hard: Correlation | None = None
    soft: Correlation | None = None
    sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"edges", "bins", "spearman": {"hard", "soft"}, "length_sources"}``."""
        return {
            "edges": list(self.edges),
            "bins": [b.to_dict() for b in self.bins],
            "spearman": {
                "hard": None if self.hard is None else self.hard.to_dict(),
                "soft": None if self.soft is None else self.soft.to_dict(),
            },
            "length_sources": dict(self.sources),
        }


def format_edge(edge: float) -> str:
    """A bin edge for display: one decimal, none for whole numbers (``81.7``, ``430``)."""
    return f"{edge:.1f}".removesuffix(".0")


def length_bins(results: Iterable[CaseResult], bins: int = DEFAULT_BINS) -> LengthBins | None:
    """Bin responses by thinking length; None when no response has a known length.

    With constrained responses present, only they are binned (the paper's analysis is on the
    prompts with constraints); otherwise every response is, for correctness alone.
    """
    known = [r for r in results if r.thinking_tokens is not None]
    constrained = [r for r in known if r.constrained]
    chosen = constrained or known
    if not chosen:
        return None
    lengths = [float(r.thinking_tokens or 0) for r in chosen]
    edges = quantile_edges(lengths, bins)
    members: list[list[CaseResult]] = [[] for _ in range(len(edges) - 1)]
    for result, length in zip(chosen, lengths, strict=True):
        members[min(bisect.bisect_right(edges, length) - 1, len(members) - 1)].append(result)
    found = [_bin(edges[i], edges[i + 1], group) for i, group in enumerate(members) if group]
    hard = [float(bool(r.hard)) for r in constrained]
    soft = [r.soft or 0.0 for r in constrained]
    thinking = [float(r.thinking_tokens or 0) for r in constrained]
    return LengthBins(
        edges=tuple(edges),
        bins=tuple(found),
        hard=spearman(thinking, hard),
        soft=spearman(thinking, soft),
        sources=dict(sorted(Counter(r.length_source or "unknown" for r in chosen).items())),
    )


def quantile_edges(values: Sequence[float], bins: int) -> list[float]:
    """The ``k / bins`` quantiles (k = 0..bins, linear interpolation), equal edges merged.

    A single distinct value gives one bin ``[v, v]``.
    """
    ordered = sorted(values)
    edges: list[float] = []
    for k in range(bins + 1):
        position = (len(ordered) - 1) * k / bins
        below = math.floor(position)
        above = min(below + 1, len(ordered) - 1)
        edge = ordered[below] + (ordered[above] - ordered[below]) * (position - below)
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return edges if len(edges) > 1 else [edges[0], edges[0]]


def _bin(low: float, high: float, members: Sequence[CaseResult]) -> LengthBin:
    constrained = [r for r in members if r.constrained]
    return LengthBin(
        low=low,
        high=high,
        responses=len(members),
        hard_accuracy=Rate.of([float(bool(r.hard)) for r in constrained]) if constrained else None,
        soft_accuracy=Rate.of([r.soft or 0.0 for r in constrained]) if constrained else None,
        correctness=Rate.of([float(r.correct) for r in members]),
    )


def spearman(x: Sequence[float], y: Sequence[float]) -> Correlation | None:
    """Spearman's rho with average ranks; None with fewer than 2 pairs or a constant side."""
    n = len(x)
    if n < 2:
        return None
    rx, ry = _ranks(x), _ranks(y)
    mx, my = math.fsum(rx) / n, math.fsum(ry) / n
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = math.fsum((a - mx) ** 2 for a in rx)
    syy = math.fsum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    rho = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
    if n <= 3 or abs(rho) == 1.0:
        return Correlation(rho=rho, n=n, low=None if n <= 3 else rho, high=None if n <= 3 else rho)
    half = Z_95 * math.sqrt((1 + rho * rho / 2) / (n - 3))
    z = math.atanh(rho)
    return Correlation(rho=rho, n=n, low=math.tanh(z - half), high=math.tanh(z + half))


def _ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for i in order[start : end + 1]:
            ranks[i] = (start + end) / 2 + 1
        start = end + 1
    return ranks
