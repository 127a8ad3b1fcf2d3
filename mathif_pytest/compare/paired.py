"""A paired comparison of two runs on the prompts both share: deltas, intervals, p-values, flips."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from mathif_pytest.compare.bootstrap import bootstrap_means, percentile_bounds
from mathif_pytest.compare.exact import PairedTest, mcnemar_test, sign_flip_test
from mathif_pytest.compare.flips import Flip, count_flips, find_flips, flips_by_constraint
from mathif_pytest.compare.pairing import Pairing, pair_samples
from mathif_pytest.compare.power_model import DEFAULT_POWER, PowerModel, row_power
from mathif_pytest.gate import DELTA_METRICS
from mathif_pytest.results import CaseResult

__all__ = [
    "CompareOptions",
    "ComparisonReport",
    "MetricDelta",
    "compare_runs",
    "prompt_units",
    "prompt_value",
]

_Key = tuple[str, bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareOptions:
    """How two runs are compared.

    Attributes:
        alpha: level of the tests and gate; intervals are two-sided ``1 - alpha`` (95% at 0.05)
            and gate bounds one-sided ``1 - alpha``.
        resamples: paired bootstrap resamples.
        seed: seeds the bootstrap (and the Monte Carlo fallback of the sign-flip test).
    """

    alpha: float = 0.05
    resamples: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha must lie in (0, 0.5) (got {self.alpha})")
        if self.resamples < 100:
            raise ValueError(f"resamples must be at least 100 (got {self.resamples})")


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricDelta:
    """One metric compared on the paired prompts: candidate - baseline.

    Attributes:
        metric: ``hard_accuracy``, ``soft_accuracy`` or ``correctness``.
        prompts: paired prompts the metric applies to.
        baseline, candidate: the metric of each run on those prompts (means of per-prompt means).
        delta: ``candidate - baseline``.
        low, high: the two-sided ``1 - alpha`` paired-bootstrap percentile interval of delta.
        lower_bound, upper_bound: one-sided ``1 - alpha`` bootstrap bounds of delta.
        test: the exact paired test of "no change".
        regressed, improved: prompts whose value fell / rose.
        mean_square: mean of the squared per-prompt differences (the discordant share when each
            prompt has one 0/1 outcome per run).
        model: the runs as the power computations see them (:meth:`detectable_drop`).
        draws: the bootstrap deltas (not part of equality, repr or the JSON form).
    """

    metric: str
    prompts: int
    baseline: float
    candidate: float
    delta: float
    low: float
    high: float
    lower_bound: float
    upper_bound: float
    test: PairedTest
    regressed: int
    improved: int
    mean_square: float
    model: PowerModel
    draws: Any = field(default=None, repr=False, compare=False)

    @property
    def p_value(self) -> float:
        """The two-sided exact p-value of "no change"."""
        return self.test.p_two_sided

    def bootstrap_p(self, margin: float, *, below: bool) -> float:
        """The bootstrap p-value of the margin: the share of resampled deltas at or above it.

        ``below=True`` gives the share at or below it instead. Small when the margin lies far
        in that tail (the one-sided test of "delta >= margin", resp. "delta <= margin").
        """
        import numpy as np

        draws = np.asarray(self.draws, dtype=np.float64)
        draws = draws[~np.isnan(draws)]
        if not len(draws):
            return 1.0
        hits = draws <= margin + 1e-9 if below else draws >= margin - 1e-9
        return float(np.count_nonzero(hits)) / len(draws)

    def detectable_drop(
        self, *, margin: float = 0.0, alpha: float = 0.05, power: float = DEFAULT_POWER
    ) -> float | None:
        """The drop a lone ``delta >= margin`` row at level alpha catches with this power.

        See :func:`~mathif_pytest.compare.power_model.row_power`; None when no drop is.
        """
        statement = row_power(self.model, margin=min(margin, 0.0), level=alpha, target=power)
        return statement.detectable_drop

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields (the test nested), plus the 80%-power drop."""
        return {
            "metric": self.metric,
            "prompts": self.prompts,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "delta": self.delta,
            "ci_low": self.low,
            "ci_high": self.high,
            "lower_bound": self.lower_bound,
            "upper_bound": self.upper_bound,
            "test": self.test.to_dict(),
            "regressed": self.regressed,
            "improved": self.improved,
            "mean_square": self.mean_square,
            "detectable_drop_80": self.detectable_drop(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonReport:
    """Two runs compared on the prompts both share (paired by ``(uid, constrained)``).

    Attributes:
        baseline, candidate: labels of the runs.
        group: the group compared (a source, level or constraint id), None for all prompts.
        options: the alpha, resamples and seed used.
        shared, only_baseline, only_candidate: prompt counts of the pairing.
        pairing: how samples were paired within prompts (all of them, or the sample indices
            both runs share when their sample counts differ).
        deltas: one :class:`MetricDelta` per applicable metric (hard and soft accuracy only on
            constrained prompts), in :data:`~mathif_pytest.gate.DELTA_METRICS` order.
        flips: the samples (paired by index) whose hard verdict or correctness changed.
    """

    baseline: str
    candidate: str
    group: str | None
    options: CompareOptions
    shared: int
    only_baseline: int
    only_candidate: int
    pairing: Pairing
    deltas: tuple[MetricDelta, ...]
    flips: tuple[Flip, ...]

    def metric(self, name: str) -> MetricDelta | None:
        """The delta of a metric, None when it does not apply (no shared constrained prompts)."""
        return next((d for d in self.deltas if d.metric == name), None)

    def flip_counts(self) -> dict[str, int]:
        """Flips per kind (see :data:`~mathif_pytest.compare.flips.FLIP_KINDS`)."""
        return count_flips(self.flips)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: labels, options, counts, ``metrics`` by name, flip counts and flips."""
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "group": self.group,
            "alpha": self.options.alpha,
            "resamples": self.options.resamples,
            "seed": self.options.seed,
            "prompts": {
                "shared": self.shared,
                "only_baseline": self.only_baseline,
                "only_candidate": self.only_candidate,
            },
            "pairing": self.pairing.to_dict(),
            "metrics": {d.metric: d.to_dict() for d in self.deltas},
            "flip_counts": self.flip_counts(),
            "flips_by_constraint": flips_by_constraint(self.flips),
            "flips": [f.to_dict() for f in self.flips],
        }


def compare_runs(
    baseline: Sequence[CaseResult],
    candidate: Sequence[CaseResult],
    options: CompareOptions | None = None,
    *,
    group: str | None = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
) -> ComparisonReport:
    """Compare a candidate run with a baseline run on the prompts both share.

    Prompts pair by ``(uid, constrained)``; with several samples per prompt each run's value of a
    prompt is the mean over its samples (as in :func:`~mathif_pytest.stats.summarize`). When
    the runs drew different samples of a prompt (1 against 8), only the sample indices both
    have are compared (:func:`~mathif_pytest.compare.pairing.pair_samples`), which keeps the
    exact tests exact: a prompt's two values are then exchangeable under "no change". Each
    metric gets the exact paired test (:func:`~mathif_pytest.compare.exact.paired_test`: McNemar
    for one 0/1 outcome per prompt, else the sign-flip test of per-prompt means) and a paired
    bootstrap over prompts (one set of seeded resamples shared by the three metrics).

    Args:
        baseline: the baseline run's results.
        candidate: the candidate run's results.
        options: alpha, resamples and seed (defaults: 0.05, 10,000, 0).
        group: restrict to a source, level or constraint id (None: all prompts).
        labels: names of the two runs for messages and tables.
    """
    options = options or CompareOptions()
    base, cand = prompt_units(baseline, group), prompt_units(candidate, group)
    only_baseline = len(base.keys() - cand.keys())
    only_candidate = len(cand.keys() - base.keys())
    base, cand, pairing = pair_samples(base, cand)
    keys = sorted(base.keys() & cand.keys())
    deltas = _deltas(keys, base, cand, options)
    pairs = [(b, c) for k in keys for b, c in _paired_samples(base[k], cand[k])]
    return ComparisonReport(
        baseline=labels[0],
        candidate=labels[1],
        group=group,
        options=options,
        shared=len(keys),
        only_baseline=only_baseline,
        only_candidate=only_candidate,
        pairing=pairing,
        deltas=deltas,
        flips=find_flips(pairs),
    )


def prompt_units(cases: Sequence[CaseResult], group: str | None) -> dict[_Key, list[CaseResult]]:
    """A run's responses per prompt ``(uid, constrained)``, restricted to a group (None: all)."""
    units: dict[_Key, list[CaseResult]] = defaultdict(list)
    for case in cases:
        if group is None or group in (case.source, case.level) or group in case.constraint_ids:
            units[(case.uid, case.constrained)].append(case)
    return units


def _paired_samples(
    base: list[CaseResult], cand: list[CaseResult]
) -> list[tuple[CaseResult, CaseResult]]:
    by_index = {c.sample: c for c in cand}
    return [(b, by_index[b.sample]) for b in base if b.sample in by_index]


#: A prompt's value as an exact fraction ``(numerator, denominator)``: cheap, and exact for tests.
_Value = tuple[int, int]


def prompt_value(cases: list[CaseResult], metric: str) -> _Value:
    """A prompt's metric as an exact fraction ``(successes, units)`` over its responses."""
    if metric == "correctness":
        return sum(c.correct for c in cases), len(cases)
    if metric == "hard_accuracy":
        return sum(bool(c.hard) for c in cases), len(cases)
    # Every sample of a prompt has the same constraints: soft = followed / (samples * constraints).
    per_sample = len(cases[0].verdicts)
    return sum(sum(c.follow) for c in cases), len(cases) * per_sample or 1


def _applies(key: _Key, metric: str) -> bool:
    return key[1] or metric == "correctness"


def _deltas(
    keys: list[_Key],
    base: dict[_Key, list[CaseResult]],
    cand: dict[_Key, list[CaseResult]],
    options: CompareOptions,
) -> tuple[MetricDelta, ...]:
    if not keys:
        return ()
    values = {
        k: {m: (prompt_value(base[k], m), prompt_value(cand[k], m)) for m in DELTA_METRICS}
        for k in keys
    }
    weights = [[float(_applies(k, m)) for m in DELTA_METRICS] for k in keys]
    differences = [
        [c[0] / c[1] - b[0] / b[1] if _applies(k, m) else 0.0 for m, (b, c) in values[k].items()]
        for k in keys
    ]
    draws = bootstrap_means(differences, weights, resamples=options.resamples, seed=options.seed)
    samples = Counter(len(base[k]) for k in keys).most_common(1)[0][0]
    out = []
    for column, metric in enumerate(DELTA_METRICS):
        pairs = [values[k][metric] for k in keys if _applies(k, metric)]
        if pairs:
            out.append(_metric_delta(metric, pairs, draws[:, column], options, samples))
    return tuple(out)


def _metric_delta(
    metric: str,
    pairs: list[tuple[_Value, _Value]],
    draws: Any,
    options: CompareOptions,
    samples: int,
) -> MetricDelta:
    n = len(pairs)
    baseline = [b[0] / b[1] for b, _ in pairs]
    candidate = [c[0] / c[1] for _, c in pairs]
    diffs = [c - b for b, c in zip(baseline, candidate, strict=True)]
    bounds = percentile_bounds(draws, options.alpha)
    return MetricDelta(
        metric=metric,
        prompts=n,
        baseline=math.fsum(baseline) / n,
        candidate=math.fsum(candidate) / n,
        delta=math.fsum(diffs) / n,
        low=bounds.low,
        high=bounds.high,
        lower_bound=bounds.lower,
        upper_bound=bounds.upper,
        test=_exact_test(pairs, options.seed),
        regressed=sum(d < 0 for d in diffs),
        improved=sum(d > 0 for d in diffs),
        mean_square=math.fsum(d * d for d in diffs) / n,
        model=PowerModel.from_pairs(metric, pairs, samples),
        draws=draws,
    )


def _exact_test(pairs: list[tuple[_Value, _Value]], seed: int) -> PairedTest:
    if all(v[0] in (0, v[1]) for pair in pairs for v in pair):
        regressed = sum(b[0] > 0 and c[0] == 0 for b, c in pairs)
        improved = sum(b[0] == 0 and c[0] > 0 for b, c in pairs)
        return mcnemar_test(regressed=regressed, improved=improved)
    return sign_flip_test([Fraction(*c) - Fraction(*b) for b, c in pairs], seed)
