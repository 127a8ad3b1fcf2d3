"""Planning a gate: the power of each ``delta.*`` row as a function of prompts and samples.

From one baseline run, each row's model (:class:`~.power_model.PowerModel`: its group's
prompts, the metric's rate and spread) is resized to other suite sizes and numbers of samples
per prompt, and the row's power is computed as the gate would (its margin, the per-row level of
its family). More samples per prompt shrink the noise of every prompt's value: the lever
Miller (2024, "Adding error bars to evals") recommends when the prompts are fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mathif_pytest.compare.paired import prompt_units, prompt_value
from mathif_pytest.compare.power_model import DEFAULT_POWER, PowerModel, row_power
from mathif_pytest.errors import MathIFError
from mathif_pytest.gate import Threshold
from mathif_pytest.gate.evidence import PowerStatement
from mathif_pytest.results import CaseResult

__all__ = ["Plan", "PlanOptions", "PlanRow", "plan_gate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    """What to plan for.

    Attributes:
        alpha: the gate's level (family-wise under Holm).
        correction: ``holm`` (each row's power at ``alpha / rows``) or ``none``.
        target: the power a detectable drop refers to.
        prompts: suite sizes (prompts over all groups) to plan for; each group keeps its share.
        samples: samples per prompt to plan for.
        drop: report the power against this drop instead of the detectable drop.
        discordance: the rerun discordance to assume when the baseline has one sample per
            prompt (None: the worst case).
    """

    alpha: float = 0.05
    correction: str = "holm"
    target: float = DEFAULT_POWER
    prompts: tuple[int, ...] = ()
    samples: tuple[int, ...] = (1, 2, 4, 8)
    drop: float | None = None
    discordance: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRow:
    """One gate row: its model from the baseline and its power per (prompts, samples).

    Attributes:
        threshold: the row.
        model: fitted from the baseline's group (mirrored for ``<=`` rows).
        rate: the metric's rate in the baseline's group.
        cells: ``((suite prompts, samples), statement)`` in ``prompts x samples`` order.
    """

    threshold: Threshold
    model: PowerModel
    rate: float
    cells: tuple[tuple[tuple[int, int], PowerStatement], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The plan: the rows, the level each is tested at, and the rows left out (with why)."""

    rows: tuple[PlanRow, ...]
    level: float
    prompts: int
    samples: int
    options: PlanOptions
    skipped: tuple[str, ...]


def plan_gate(
    cases: Sequence[CaseResult], thresholds: Sequence[Threshold], options: PlanOptions
) -> Plan:
    """The power of each "no worse than" delta row of a gate, from a baseline run's cases.

    Raises:
        MathIFError: no delta row to plan, or a row's group has no prompts in the baseline.
    """
    rows = [t for t in thresholds if t.relative_to_baseline and _no_worse(t)]
    skipped = [
        f"{t.text}: " + ("not a delta row" if not t.relative_to_baseline else "must improve")
        for t in thresholds
        if t not in rows
    ]
    if not rows:
        raise MathIFError("no 'no worse than' delta row to plan; pass --gate delta.METRIC>=-0.02")
    units = prompt_units(cases, None)
    samples = max((len(v) for v in units.values()), default=1)
    level = options.alpha / len(rows) if options.correction == "holm" else options.alpha
    sizes = options.prompts or (len(units),)
    planned = tuple(_plan_row(t, cases, len(units), (level, sizes, samples), options) for t in rows)
    return Plan(
        rows=planned,
        level=level,
        prompts=len(units),
        samples=samples,
        options=options,
        skipped=tuple(skipped),
    )


def _no_worse(threshold: Threshold) -> bool:
    sign = 1 if threshold.op in (">=", ">") else -1
    return sign * threshold.value <= 0


def _plan_row(
    threshold: Threshold,
    cases: Sequence[CaseResult],
    total: int,
    setting: tuple[float, tuple[int, ...], int],
    options: PlanOptions,
) -> PlanRow:
    level, sizes, baseline_samples = setting
    units = prompt_units(cases, threshold.group)
    applies = threshold.metric == "correctness"
    values = [prompt_value(v, threshold.metric) for k, v in units.items() if k[1] or applies]
    if not values:
        where = f" in group {threshold.group!r}" if threshold.group else ""
        raise MathIFError(f"{threshold.text}: the baseline has no prompts{where} for it")
    model = PowerModel.from_run(
        threshold.metric, values, baseline_samples, discordance=options.discordance
    )
    rate = model.mean
    if threshold.op in ("<=", "<"):
        model = model.mirrored()
    margin = -abs(threshold.value)
    cells = []
    for size in sizes:
        group_prompts = max(1, round(len(values) * size / total))
        for samples in options.samples:
            resized = model.resized(group_prompts, samples)
            statement = row_power(
                resized,
                margin=margin,
                level=level,
                target=options.target,
                required_drop=options.drop,
            )
            cells.append(((size, samples), statement))
    return PlanRow(threshold=threshold, model=model, rate=rate, cells=tuple(cells))
