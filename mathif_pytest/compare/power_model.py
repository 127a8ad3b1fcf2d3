"""The model behind every power statement, and the power of one "no worse than" row.

A run is ``prompts`` prompts; prompt i has a success probability ``p_i`` per unit (a sample, or a
constraint of a sample for soft accuracy), drawn from a beta distribution with mean ``mean`` and
within-prompt variance ``within = E[p (1 - p)]`` (the rest of ``mean (1 - mean)`` is the spread
between prompts). Each run draws its units independently given ``p_i``; a drop of ``delta``
turns the candidate's probabilities into ``p_i (1 - delta / mean)``: every prompt loses the
same share, the drop the gate's own simulated replays use. With one 0/1 unit per prompt the rerun
discordance (the share of prompts whose outcome differs between two runs of one checkpoint) is
``2 * within``.

Fitted from a comparison (both runs pooled: ``c (m - c) / (m (m - 1))`` per prompt estimates
``p (1 - p)`` without bias under "no change"), or from one run with several samples per prompt
(``mathif plan``); with one sample per prompt and run it cannot be estimated from one run, and
the worst case (every prompt equally likely to succeed) is assumed unless a discordance is given.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist

from mathif_pytest.compare.power_exact import BinaryRule, binary_power
from mathif_pytest.compare.power_sim import power_curve
from mathif_pytest.gate.evidence import PowerStatement

__all__ = ["DEFAULT_POWER", "PowerModel", "row_power"]

#: The power a printed minimum detectable drop refers to.
DEFAULT_POWER = 0.8
#: A prompt's value as an exact fraction ``(numerator, denominator)``.
_Value = tuple[int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerModel:
    """A metric's runs, as the power computations see them (see the module docstring).

    Attributes:
        metric: ``hard_accuracy``, ``soft_accuracy`` or ``correctness``.
        prompts: prompts.
        samples: samples per prompt and run.
        units: ``((units per prompt, prompts with that many), ...)``; units are samples, times
            constraints for soft accuracy.
        mean: the baseline's rate.
        within: ``E[p (1 - p)]`` per unit.
        assumption: a sentence when ``within`` was assumed rather than estimated.
    """

    metric: str
    prompts: int
    samples: int
    units: tuple[tuple[int, int], ...]
    mean: float
    within: float
    assumption: str = ""

    @property
    def binary(self) -> bool:
        """One 0/1 unit per prompt and run: the exact engine applies."""
        return self.units == ((1, self.prompts),)

    @property
    def discordance(self) -> float:
        """The rerun discordance of one unit, ``2 * within``."""
        return 2 * self.within

    def unit_counts(self) -> list[int]:
        """Units of each prompt, one entry per prompt."""
        return [size for size, count in self.units for _ in range(count)]

    def unit_sizes(self) -> list[int]:
        """The distinct numbers of units per prompt."""
        return [size for size, _ in self.units]

    def beta_parameters(self) -> tuple[float | None, float | None]:
        """``(a, b)`` of the prompts' beta distribution.

        ``(None, None)``: every prompt's probability is ``mean``; ``(0, 0)``: each prompt
        always or never succeeds.
        """
        spread = self.mean * (1 - self.mean)
        between = spread - self.within
        if spread <= 0 or between <= 1e-12:
            return None, None
        if self.within <= 1e-12:
            return 0.0, 0.0
        total = spread / between - 1
        return self.mean * total, (1 - self.mean) * total

    def mirrored(self) -> PowerModel:
        """The same runs counted by failures (for "no rise beyond" rows)."""
        return replace(self, mean=1 - self.mean)

    def resized(self, prompts: int, samples: int) -> PowerModel:
        """The model of a suite of ``prompts`` prompts (same mix) and ``samples`` samples each."""
        shares = [
            (size // self.samples * samples, count / self.prompts) for size, count in self.units
        ]
        counts = [max(0, round(share * prompts)) for _, share in shares]
        counts[-1] += prompts - sum(counts)
        units = tuple((size, c) for (size, _), c in zip(shares, counts, strict=True) if c > 0)
        return replace(self, prompts=prompts, samples=samples, units=units)

    @classmethod
    def from_pairs(
        cls, metric: str, pairs: Sequence[tuple[_Value, _Value]], samples: int
    ) -> PowerModel:
        """Fit from a comparison's per-prompt ``((num, den) baseline, (num, den) candidate)``."""
        n = len(pairs)
        pooled = [(b[0] + c[0], b[1] + c[1]) for b, c in pairs]
        return cls(
            metric=metric,
            prompts=n,
            samples=samples,
            units=_unit_histogram([b[1] for b, _ in pairs]),
            mean=math.fsum(b[0] / b[1] for b, _ in pairs) / n,
            within=math.fsum(_within(c, m) for c, m in pooled) / n,
        )

    @classmethod
    def from_run(
        cls, metric: str, values: Sequence[_Value], samples: int, discordance: float | None = None
    ) -> PowerModel:
        """Fit from one run's per-prompt ``(num, den)`` (``mathif plan``).

        ``within`` comes from ``discordance / 2`` when given, else from the prompts with at
        least two units, else the worst case ``mean (1 - mean)`` is assumed (and said).
        """
        n = len(values)
        mean = math.fsum(v[0] / v[1] for v in values) / n
        informative = [_within(*v) for v in values if v[1] >= 2]
        assumption = ""
        if discordance is not None:
            within = discordance / 2
            assumption = f"rerun discordance {discordance:g} as given"
        elif informative:
            within = math.fsum(informative) / len(informative)
        else:
            within = mean * (1 - mean)
            assumption = (
                "one sample per prompt: the spread between reruns cannot be estimated, so the "
                "worst case (every prompt equally likely to succeed) is assumed"
            )
        units = _unit_histogram([v[1] for v in values])
        return cls(
            metric=metric,
            prompts=n,
            samples=samples,
            units=units,
            mean=mean,
            within=min(within, mean * (1 - mean)),
            assumption=assumption,
        )


def _within(successes: int, units: int) -> float:
    return successes * (units - successes) / (units * (units - 1)) if units >= 2 else 0.0


def _unit_histogram(sizes: Sequence[int]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(Counter(sizes).items()))


@functools.lru_cache(maxsize=64)
def _binary_rule(prompts: int, margin: float, level: float) -> BinaryRule:
    return BinaryRule.build(prompts, margin, level)


def _power_function(model: PowerModel, margin: float, level: float) -> Callable[[float], float]:
    if model.binary:
        rule = _binary_rule(model.prompts, margin, level)
        return lambda drop: binary_power(rule, model.discordance, model.mean, drop)
    return power_curve(model, (margin, level))


def row_power(
    model: PowerModel,
    *,
    margin: float,
    level: float,
    target: float = DEFAULT_POWER,
    required_drop: float | None = None,
) -> PowerStatement:
    """The power of a "no worse than" row (``delta >= margin``, ``margin <= 0``).

    The detectable drop is the smallest drop in ``[-margin, mean]`` with power ``>= target``;
    None when even a total collapse (``drop = mean``) is caught with a lower probability.

    Args:
        model: the runs (mirror it first for a "no rise beyond" row).
        margin: the row's margin, ``<= 0``.
        level: the per-row level of its test.
        target: the power wanted.
        required_drop: also report the power against this drop.
    """
    power = _power_function(model, margin, level)
    max_drop = max(0.0, model.mean)
    max_power = power(max_drop) if max_drop > 0 else 0.0
    drop, at_drop = (None, None)
    if max_power >= target:
        drop, at_drop = _detectable_drop(power, model, (margin, level, target), max_power)
    return PowerStatement(
        method="exact" if model.binary else "simulation",
        level=level,
        target=target,
        detectable_drop=drop,
        power_at_detectable_drop=at_drop,
        max_drop=max_drop,
        max_power=max_power,
        prompts=model.prompts,
        samples=model.samples,
        required_drop=required_drop,
        power_at_required_drop=None
        if required_drop is None
        else power(min(required_drop, max_drop)),
        assumption=model.assumption,
    )


def _detectable_drop(
    power: Callable[[float], float],
    model: PowerModel,
    rule: tuple[float, float, float],
    max_power: float,
) -> tuple[float, float]:
    """Search ``[-margin, mean]`` (``power(mean) = max_power >= target``): see the engines."""
    margin, level, target = rule
    low = min(max(-margin, 0.0), model.mean)
    if model.binary:
        return _bisect(power, (low, model.mean), max_power, target)
    guess = min(max(_normal_guess(model, margin, level, target), low), model.mean)
    return _secant(power, ((low, level), (model.mean, max_power)), guess, target)


def _normal_guess(model: PowerModel, margin: float, level: float, target: float) -> float:
    """The normal approximation of the detectable drop: where the simulated search starts.

    ``-margin + (z(1 - level) + z(target)) * sd / sqrt(n)``, with ``sd**2`` the variance of a
    prompt's difference between reruns (``2 * within / units``, averaged over the prompts).
    """
    normal = NormalDist()
    spread = sum(2 * model.within / size * count for size, count in model.units) / model.prompts
    factor = normal.inv_cdf(1 - level) + normal.inv_cdf(target)
    return -margin + factor * math.sqrt(spread / model.prompts)


def _bisect(
    power: Callable[[float], float], bracket: tuple[float, float], at_high: float, target: float
) -> tuple[float, float]:
    """The smallest drop with ``power >= target`` on a cheap exact curve, to 1e-5."""
    low, high = bracket
    while high - low > 1e-5:
        middle = (low + high) / 2
        at_middle = power(middle)
        if at_middle >= target:
            high, at_high = middle, at_middle
        else:
            low = middle
    return high, at_high


def _secant(
    power: Callable[[float], float],
    ends: tuple[tuple[float, float], tuple[float, float]],
    guess: float,
    target: float,
) -> tuple[float, float]:
    """The smallest drop with ``power >= target`` on a simulated curve.

    Each point costs a tenth of a second and is known to about 0.006, so: the secant method on
    the probit scale (the power curve is close to a probit line in the drop), started at the
    normal approximation's answer, kept inside the bracket, stopped within 0.005 of the target
    or at a twentieth of a point.
    """
    (low, at_low), (high, at_high) = ends
    previous, current = (low, at_low), (guess, power(guess))
    for _ in range(12):
        x, p = current
        if p >= target:
            high, at_high = x, p
        else:
            low, at_low = x, p
        if at_high - target <= 0.005 or high - low <= 5e-4:
            break
        step = _probit_secant(previous, current, target)
        nxt = step if low < step < high else (low + high) / 2
        previous, current = current, (nxt, power(nxt))
    return high, at_high


def _probit_secant(a: tuple[float, float], b: tuple[float, float], target: float) -> float:
    normal = NormalDist()

    def probit(p: float) -> float:
        return normal.inv_cdf(min(max(p, 0.001), 0.999))

    slope = probit(b[1]) - probit(a[1])
    if slope == 0:
        return float("nan")
    return b[0] + (b[0] - a[0]) * (probit(target) - probit(b[1])) / slope
