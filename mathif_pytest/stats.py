"""Hard accuracy, soft accuracy and correctness, pooled over prompts, with 95% Wilson intervals."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.results import CaseResult

__all__ = ["METRICS", "GroupStats", "Rate", "Summary", "summarize", "wilson_interval"]

#: The metric names, spelled out (HAcc / SAcc appear only in display text).
METRICS = ("hard_accuracy", "soft_accuracy", "correctness", "compliance")

Z_95 = 1.959963984540054


def wilson_interval(successes: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n`` (``(0, 1)`` when ``n == 0``).

    ``successes`` may be fractional (a sum of per-prompt means); the interval then treats each
    prompt as one trial, which accounts for several samples of the same prompt being correlated.
    """
    if n <= 0:
        return 0.0, 1.0
    p = min(max(successes / n, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Rounding can put a bound a hair past the estimate at p = 0 or 1; the interval contains p.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """A pooled rate: ``value = successes / n`` with its 95% Wilson interval."""

    successes: float
    n: int
    low: float
    high: float

    @property
    def value(self) -> float:
        """The rate itself (0 when ``n`` is 0)."""
        return self.successes / self.n if self.n else 0.0

    @classmethod
    def of(cls, values: Sequence[float]) -> Rate:
        """The rate of per-unit values in [0, 1] (each unit one prompt or one constraint)."""
        total = math.fsum(values)
        low, high = wilson_interval(total, len(values))
        return cls(successes=total, n=len(values), low=low, high=high)

    def to_dict(self) -> dict[str, float]:
        """``{"value", "successes", "n", "ci_low", "ci_high"}``."""
        return {
            "value": self.value,
            "successes": self.successes,
            "n": self.n,
            "ci_low": self.low,
            "ci_high": self.high,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupStats:
    """The metrics of one group of prompts (all, one source, one level, one constraint type).

    Attributes:
        prompts: number of distinct prompts (uids).
        cases: number of scored responses (prompts × samples).
        hard_accuracy: share of prompts with every constraint followed (None if unconstrained).
        soft_accuracy: mean share of constraints followed (None if unconstrained).
        correctness: share of prompts with a correct final answer.
        ungradable: number of responses whose answer could not be graded (counted not correct).
        compliance: for a constraint-type group, the share of that type's instances followed.
    """

    prompts: int
    cases: int
    hard_accuracy: Rate | None
    soft_accuracy: Rate | None
    correctness: Rate
    ungradable: int
    compliance: Rate | None = None

    def metric(self, name: str) -> Rate | None:
        """A metric by its spelled-out name (``hard_accuracy``…); None if not applicable."""
        if name not in METRICS:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
        value: Rate | None = getattr(self, name)
        return value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the rates (each a :meth:`Rate.to_dict`) and counts."""
        out: dict[str, Any] = {"prompts": self.prompts, "cases": self.cases}
        for name in METRICS:
            rate = getattr(self, name)
            if rate is not None:
                out[name] = rate.to_dict()
        out["ungradable"] = self.ungradable
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Overall metrics plus breakdowns by source, level and constraint type."""

    overall: GroupStats
    by_source: dict[str, GroupStats] = field(default_factory=dict)
    by_level: dict[str, GroupStats] = field(default_factory=dict)
    by_constraint: dict[str, GroupStats] = field(default_factory=dict)

    def group(self, name: str | None) -> GroupStats | None:
        """A group's stats by name: None/"" is overall, else a source, level or constraint id."""
        if not name:
            return self.overall
        for table in (self.by_source, self.by_level, self.by_constraint):
            if name in table:
                return table[name]
        return None

    def group_names(self) -> list[str]:
        """Every group name that :meth:`group` accepts, besides overall."""
        return [*self.by_source, *self.by_level, *self.by_constraint]

    def to_dict(self) -> dict[str, Any]:
        """The documented ``summary`` JSON object of ``mathif score`` and ``--mathif-results``."""
        out = self.overall.to_dict()
        out["n"] = self.overall.prompts
        out["by_source"] = {k: v.to_dict() for k, v in self.by_source.items()}
        out["by_level"] = {k: v.to_dict() for k, v in self.by_level.items()}
        out["by_constraint"] = {k: v.to_dict() for k, v in self.by_constraint.items()}
        return out


def summarize(results: Iterable[CaseResult]) -> Summary:
    """Pool results into a :class:`Summary`.

    Each prompt counts once: with several samples per prompt, its hard/soft/correct values are the
    means over its samples, and the benchmark value is the mean over prompts (the paper pools the
    420 prompts; it does not average per-file means).
    """
    # A sample asked with and without its constraints is two prompts ("w/o const." runs).
    by_prompt: dict[tuple[str, bool], list[CaseResult]] = defaultdict(list)
    for result in results:
        by_prompt[(result.uid, result.constrained)].append(result)
    prompts = list(by_prompt.values())
    return Summary(
        overall=_group_stats(prompts),
        by_source=_grouped(prompts, lambda r: [r.source]),
        by_level=_grouped(prompts, lambda r: [r.level]),
        by_constraint=_grouped(prompts, lambda r: list(dict.fromkeys(r.constraint_ids)), True),
    )


def _grouped(
    prompts: list[list[CaseResult]],
    keys: Callable[[CaseResult], list[str]],
    per_constraint: bool = False,
) -> dict[str, GroupStats]:
    groups: dict[str, list[list[CaseResult]]] = defaultdict(list)
    for cases in prompts:
        for key in keys(cases[0]):
            groups[key].append(cases)
    return {
        key: _group_stats(members, key if per_constraint else None)
        for key, members in sorted(groups.items())
    }


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return math.fsum(items) / len(items)


def _group_stats(prompts: list[list[CaseResult]], constraint_id: str | None = None) -> GroupStats:
    constrained = [cases for cases in prompts if cases[0].constrained]
    hard = [_mean(float(bool(c.hard)) for c in cases) for cases in constrained]
    soft = [_mean(c.soft or 0.0 for c in cases) for cases in constrained]
    compliance = None
    if constraint_id is not None and constrained:
        compliance = Rate.of(_instance_rates(constrained, constraint_id))
    return GroupStats(
        prompts=len(prompts),
        cases=sum(len(cases) for cases in prompts),
        hard_accuracy=Rate.of(hard) if constrained else None,
        soft_accuracy=Rate.of(soft) if constrained else None,
        correctness=Rate.of([_mean(float(c.correct) for c in cases) for cases in prompts]),
        ungradable=sum(c.grade.outcome.value == "ungradable" for cases in prompts for c in cases),
        compliance=compliance,
    )


def _instance_rates(prompts: list[list[CaseResult]], constraint_id: str) -> list[float]:
    rates: list[float] = []
    for cases in prompts:
        positions = [i for i, cid in enumerate(cases[0].constraint_ids) if cid == constraint_id]
        rates.extend(_mean(float(c.follow[i]) for c in cases) for i in positions)
    return rates
