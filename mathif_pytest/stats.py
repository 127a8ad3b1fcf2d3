"""Hard accuracy, soft accuracy and correctness, pooled over prompts, with 95% intervals.

One response per prompt: a Wilson interval with one trial per prompt. Several responses per
prompt: the same Wilson form on the effective number of trials that the spread of the per-prompt
means implies (the clustered / CLT interval; see :meth:`Rate.of_prompt_means`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mathif_pytest.results import CaseResult

if TYPE_CHECKING:
    from mathif_pytest.analyses import ErrorSets, LengthBins

__all__ = ["METRICS", "GroupStats", "Rate", "Summary", "summarize", "wilson_interval"]

#: The metric names, spelled out (HAcc / SAcc appear only in display text).
METRICS = ("hard_accuracy", "soft_accuracy", "correctness", "compliance")

Z_95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / n`` (``(0, 1)`` when ``n <= 0``).

    ``successes`` and ``n`` may be fractional: an effective number of trials (clustered samples)
    and the successes it implies.
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
    """A pooled rate: ``value = successes / n`` with its 95% interval.

    Attributes:
        successes: the sum of the per-unit values (per-prompt means with several samples).
        n: units (prompts, or constraint instances).
        low, high: the 95% interval.
        effective_n: with several samples per unit, the effective number of independent trials
            the interval was computed with (between ``n - 1`` and the number of responses);
            None when each unit is one trial.
    """

    successes: float
    n: int
    low: float
    high: float
    effective_n: float | None = None

    @property
    def value(self) -> float:
        """The rate itself (0 when ``n`` is 0)."""
        return self.successes / self.n if self.n else 0.0

    @property
    def trials(self) -> float:
        """The number of trials behind the interval: ``effective_n``, else ``n``."""
        return self.n if self.effective_n is None else self.effective_n

    @classmethod
    def of(cls, values: Sequence[float]) -> Rate:
        """The rate of per-unit values in [0, 1] (each unit one prompt or one constraint)."""
        total = math.fsum(values)
        low, high = wilson_interval(total, len(values))
        return cls(successes=total, n=len(values), low=low, high=high)

    @classmethod
    def of_prompt_means(cls, means: Sequence[float], samples: Sequence[int]) -> Rate:
        """The mean of per-unit means (avg@N), with the clustered interval when units repeat.

        With one sample per unit this is :meth:`of`. With several, the variance of the mean is
        estimated from the spread of the per-unit means, ``s**2 / n`` (the CLT / cluster-robust
        variance: samples of one prompt are correlated, prompts are independent), and the
        Wilson interval uses the effective number of trials ``p (1 - p) / (s**2 / n)``, kept
        between 1 and the number of responses. When ``p`` is 0 or 1, or there is one unit, the
        conservative one trial per unit is kept.

        Args:
            means: each unit's mean over its samples.
            samples: each unit's number of samples, in the same order.
        """
        if all(m == 1 for m in samples):
            return cls.of(means)
        n, total = len(means), math.fsum(means)
        p = total / n if n else 0.0
        effective = float(n)
        if n > 1 and 0 < p < 1:
            spread = math.fsum((m - p) ** 2 for m in means) / (n - 1)
            responses = float(sum(samples))
            effective = responses if spread == 0 else min(responses, p * (1 - p) * n / spread)
            effective = max(1.0, effective)
        low, high = wilson_interval(p * effective, effective)
        return cls(successes=total, n=n, low=low, high=high, effective_n=effective)

    def to_dict(self) -> dict[str, float]:
        """``{"value", "successes", "n", "ci_low", "ci_high"}``, plus ``effective_n`` if set."""
        out = {
            "value": self.value,
            "successes": self.successes,
            "n": self.n,
            "ci_low": self.low,
            "ci_high": self.high,
        }
        if self.effective_n is not None:
            out["effective_n"] = self.effective_n
        return out


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
    """Overall metrics plus breakdowns by source, level and constraint type.

    ``by_length`` (obedience against thinking length) and ``error_sets`` (followed x correct)
    are the paper's analyses over the same responses (None when they do not apply).
    """

    overall: GroupStats
    by_source: dict[str, GroupStats] = field(default_factory=dict)
    by_level: dict[str, GroupStats] = field(default_factory=dict)
    by_constraint: dict[str, GroupStats] = field(default_factory=dict)
    by_length: LengthBins | None = None
    error_sets: ErrorSets | None = None

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
        out["by_length"] = None if self.by_length is None else self.by_length.to_dict()
        out["error_sets"] = None if self.error_sets is None else self.error_sets.to_dict()
        return out


def summarize(results: Iterable[CaseResult]) -> Summary:
    """Pool results into a :class:`Summary`.

    Each prompt counts once: with several samples per prompt, its hard/soft/correct values are the
    means over its samples, and the benchmark value is the mean over prompts (the paper pools the
    420 prompts; it does not average per-file means). The length bins and error sets count
    responses (see :mod:`mathif_pytest.analyses`).
    """
    from mathif_pytest.analyses import error_sets, length_bins

    # A sample asked with and without its constraints is two prompts ("w/o const." runs).
    by_prompt: dict[tuple[str, bool], list[CaseResult]] = defaultdict(list)
    responses = list(results)
    for result in responses:
        by_prompt[(result.uid, result.constrained)].append(result)
    prompts = list(by_prompt.values())
    return Summary(
        overall=_group_stats(prompts),
        by_source=_grouped(prompts, lambda r: [r.source]),
        by_level=_grouped(prompts, lambda r: [r.level]),
        by_constraint=_grouped(prompts, lambda r: list(dict.fromkeys(r.constraint_ids)), True),
        by_length=length_bins(responses),
        error_sets=error_sets(responses),
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


def _rate(prompts: list[list[CaseResult]], value: Callable[[CaseResult], float]) -> Rate:
    means = [_mean(value(c) for c in cases) for cases in prompts]
    return Rate.of_prompt_means(means, [len(cases) for cases in prompts])


def _group_stats(prompts: list[list[CaseResult]], constraint_id: str | None = None) -> GroupStats:
    constrained = [cases for cases in prompts if cases[0].constrained]
    compliance = None
    if constraint_id is not None and constrained:
        compliance = _instance_rate(constrained, constraint_id)
    return GroupStats(
        prompts=len(prompts),
        cases=sum(len(cases) for cases in prompts),
        hard_accuracy=_rate(constrained, lambda c: float(bool(c.hard))) if constrained else None,
        soft_accuracy=_rate(constrained, lambda c: c.soft or 0.0) if constrained else None,
        correctness=_rate(prompts, lambda c: float(c.correct)),
        ungradable=sum(c.grade.outcome.value == "ungradable" for cases in prompts for c in cases),
        compliance=compliance,
    )


def _instance_rate(prompts: list[list[CaseResult]], constraint_id: str) -> Rate:
    rates: list[float] = []
    samples: list[int] = []
    for cases in prompts:
        positions = [i for i, cid in enumerate(cases[0].constraint_ids) if cid == constraint_id]
        rates.extend(_mean(float(c.follow[i]) for c in cases) for i in positions)
        samples.extend(len(cases) for _ in positions)
    return Rate.of_prompt_means(rates, samples)
