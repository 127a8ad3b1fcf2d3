"""The price of constraints: correctness with and without them, paired by prompt (paper Table 3).

Each prompt asked both ways (``constraints: both``) is one pair. The drop is ``without - with``
(positive when constraints cost correctness); the paper's "Diff." is ``100 (with - without) /
without``. Each row carries the exact paired test of "no change" (McNemar's binomial test on the
discordant prompts; the paired sign-flip test with several samples per prompt) and a 95% interval
of the drop: Newcombe's method 10 (Wilson score limits of both margins, combined with the phi
correlation of the pairs; Newcombe 1998, Stat. Med. 17:2635) with one response per prompt, the
normal interval of the mean paired difference with several.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Z_95, wilson_interval

if TYPE_CHECKING:
    from mathif_pytest.compare.exact import PairedTest

__all__ = [
    "ConstraintCost",
    "CostRow",
    "constraint_cost",
    "headline_cases",
    "newcombe_paired_interval",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CostRow:
    """Correctness with and without constraints on the prompts asked both ways.

    Attributes:
        prompts: paired prompts.
        with_constraints: correctness with the constraints in the prompt.
        without_constraints: correctness without them.
        drop: ``without - with`` (positive: the constraints cost correctness).
        low, high: the 95% interval of ``drop``.
        interval: ``newcombe`` (one response per prompt) or ``normal`` (several).
        relative_drop: ``drop / without`` (None when nothing was correct without).
        test: the exact paired test of "no change" (``p_regression``: small when the
            constraints make answers worse).
        worse: prompts right without the constraints and wrong with them.
        better: prompts right with the constraints and wrong without.
    """

    prompts: int
    with_constraints: float
    without_constraints: float
    drop: float
    low: float
    high: float
    interval: str
    relative_drop: float | None
    test: PairedTest
    worse: int
    better: int

    @property
    def paper_diff(self) -> float | None:
        """The paper's "Diff. (%)": ``100 (with - without) / without`` (negative: a cost)."""
        return None if self.relative_drop is None else -100 * self.relative_drop

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``p_value`` is the two-sided exact p."""
        return {
            "prompts": self.prompts,
            "with_constraints": self.with_constraints,
            "without_constraints": self.without_constraints,
            "drop": self.drop,
            "ci_low": self.low,
            "ci_high": self.high,
            "interval": self.interval,
            "relative_drop": self.relative_drop,
            "paper_diff_percent": self.paper_diff,
            "p_value": self.test.p_two_sided,
            "test": self.test.to_dict(),
            "worse": self.worse,
            "better": self.better,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintCost:
    """The constraint cost overall, per source and per level.

    Attributes:
        overall: every paired prompt.
        by_source: per source.
        by_level: per level.
        unpaired: prompts asked only one way (left out).
    """

    overall: CostRow
    by_source: dict[str, CostRow] = field(default_factory=dict)
    by_level: dict[str, CostRow] = field(default_factory=dict)
    unpaired: int = 0

    def group(self, name: str | None) -> CostRow | None:
        """Overall (None or ""), else a source or level row."""
        if not name:
            return self.overall
        return self.by_source.get(name) or self.by_level.get(name)

    def to_dict(self) -> dict[str, Any]:
        """``{"overall", "by_source", "by_level", "unpaired"}``, rows as :meth:`CostRow.to_dict`."""
        return {
            "overall": self.overall.to_dict(),
            "by_source": {k: v.to_dict() for k, v in self.by_source.items()},
            "by_level": {k: v.to_dict() for k, v in self.by_level.items()},
            "unpaired": self.unpaired,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pair:
    source: str
    level: str
    without: Fraction
    with_: Fraction
    binary: bool


def headline_cases(cases: Sequence[CaseResult]) -> list[CaseResult]:
    """The responses a run's headline metrics (and gate, and comparisons) are computed on.

    All of them, except when prompts were asked both with and without their constraints
    (``constraints: both``): then the constrained ones (the paper's "correctness" is with
    constraints); the others enter the constraint cost only.
    """
    asked = {(c.uid, c.constrained) for c in cases}
    both = any((uid, not constrained) in asked for uid, constrained in asked)
    return [c for c in cases if c.constrained] if both else list(cases)


def constraint_cost(results: Iterable[CaseResult]) -> ConstraintCost | None:
    """The constraint cost of results that hold prompts asked both ways; None when none are."""
    by_variant: dict[tuple[str, bool], list[CaseResult]] = defaultdict(list)
    for result in results:
        by_variant[(result.uid, result.constrained)].append(result)
    uids = {uid for uid, _ in by_variant}
    pairs = [
        _pair(by_variant[(uid, False)], by_variant[(uid, True)])
        for uid in sorted(uids)
        if (uid, True) in by_variant and (uid, False) in by_variant
    ]
    if not pairs:
        return None
    return ConstraintCost(
        overall=_cost_row(pairs),
        by_source=_grouped(pairs, lambda p: p.source),
        by_level=_grouped(pairs, lambda p: p.level),
        unpaired=len(uids) - len(pairs),
    )


def _pair(without: Sequence[CaseResult], with_: Sequence[CaseResult]) -> _Pair:
    return _Pair(
        source=with_[0].source,
        level=with_[0].level,
        without=Fraction(sum(c.correct for c in without), len(without)),
        with_=Fraction(sum(c.correct for c in with_), len(with_)),
        binary=len(without) == len(with_) == 1,
    )


def _grouped(pairs: Sequence[_Pair], key: Callable[[_Pair], str]) -> dict[str, CostRow]:
    groups: dict[str, list[_Pair]] = defaultdict(list)
    for pair in pairs:
        groups[key(pair)].append(pair)
    return {name: _cost_row(members) for name, members in sorted(groups.items())}


def _cost_row(pairs: Sequence[_Pair]) -> CostRow:
    """One row: rates, drop, exact test and interval of ``pairs``."""
    n = len(pairs)
    without = float(sum(p.without for p in pairs)) / n
    with_ = float(sum(p.with_ for p in pairs)) / n
    # the compare package (its paired tests) is imported only when a cost is computed
    from mathif_pytest.compare.exact import mcnemar_test, sign_flip_test

    worse = sum(p.without > p.with_ for p in pairs)
    better = sum(p.with_ > p.without for p in pairs)
    if all(p.binary for p in pairs):
        test = mcnemar_test(regressed=worse, improved=better)
        both = sum(p.without == p.with_ == 1 for p in pairs)
        low, high = newcombe_paired_interval(both, worse, better, n - both - worse - better)
        interval = "newcombe"
    else:
        test = sign_flip_test([p.with_ - p.without for p in pairs])
        low, high = _normal_interval([float(p.without - p.with_) for p in pairs])
        interval = "normal"
    return CostRow(
        prompts=n,
        with_constraints=with_,
        without_constraints=without,
        drop=without - with_,
        low=low,
        high=high,
        interval=interval,
        relative_drop=(without - with_) / without if without > 0 else None,
        test=test,
        worse=worse,
        better=better,
    )


def newcombe_paired_interval(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """95% interval of ``(b - c) / n`` for paired 0/1 outcomes (Newcombe 1998, method 10).

    Args:
        a: pairs right both ways.
        b: pairs right only the first way (here: without the constraints).
        c: pairs right only the second way (with them).
        d: pairs wrong both ways.

    Returns:
        ``(low, high)``: the first margin ``(a + b) / n`` and the second ``(a + c) / n`` get
        Wilson limits ``l1, u1`` and ``l2, u2``; with ``phi = (ad - bc) / sqrt((a+b)(c+d)(a+c)
        (b+d))`` (0 when a margin is empty), ``low = theta - sqrt(dl1**2 - 2 phi dl1 du2 +
        du2**2)`` and ``high = theta + sqrt(du1**2 - 2 phi du1 dl2 + dl2**2)``, where ``dl1 =
        p1 - l1``, ``du1 = u1 - p1``, ``dl2 = p2 - l2``, ``du2 = u2 - p2``.
    """
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n)
    l2, u2 = wilson_interval(a + c, n)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins else 0.0
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    theta = (b - c) / n
    low = theta - math.sqrt(max(0.0, dl1**2 - 2 * phi * dl1 * du2 + du2**2))
    high = theta + math.sqrt(max(0.0, du1**2 - 2 * phi * du1 * dl2 + dl2**2))
    return max(-1.0, low), min(1.0, high)


def _normal_interval(differences: Sequence[float]) -> tuple[float, float]:
    """Mean of the per-prompt differences plus or minus 1.96 standard errors."""
    n = len(differences)
    mean = math.fsum(differences) / n
    if n < 2:
        return -1.0, 1.0
    spread = math.fsum((x - mean) ** 2 for x in differences) / (n - 1)
    half = Z_95 * math.sqrt(spread / n)
    return max(-1.0, mean - half), min(1.0, mean + half)
