"""A checkpoint sweep: each run's metrics, and paired comparisons between neighbouring runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathif_pytest.analyses import ConstraintCost, constraint_cost, headline_cases
from mathif_pytest.compare.effects import (
    InterventionEffect,
    intervention_effects,
    intervention_label,
)
from mathif_pytest.compare.paired import CompareOptions, ComparisonReport, compare_runs
from mathif_pytest.errors import MathIFError
from mathif_pytest.runfile import RunFile
from mathif_pytest.stats import Summary, summarize

__all__ = ["Checkpoint", "Sweep", "build_sweep", "checkpoint_labels", "data_revision"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """One run of the sweep.

    Attributes:
        label: its name in tables and plots.
        path: the results file.
        summary: its metrics (95% Wilson intervals), breakdowns and analyses included; over the
            constrained prompts when the run also asked them without constraints.
        revision: the data revision it was scored on, when the file records one.
        cost: correctness with vs without constraints (a run that asked both ways).
        intervention: the intervention its responses went through (None: plain).
    """

    label: str
    path: str
    summary: Summary
    revision: str | None
    cost: ConstraintCost | None = None
    intervention: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """Checkpoints in the given order, and each neighbour pair compared (earlier = baseline).

    ``effects``: each intervened run against the plain run of the same model.
    """

    checkpoints: tuple[Checkpoint, ...]
    comparisons: tuple[ComparisonReport, ...]
    warnings: tuple[str, ...]
    effects: tuple[InterventionEffect, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form: per checkpoint its label, path, revision and summary; the comparisons."""
        return {
            "checkpoints": [
                {
                    "label": c.label,
                    "path": c.path,
                    "revision": c.revision,
                    "summary": c.summary.to_dict(),
                    "constraint_cost": None if c.cost is None else c.cost.to_dict(),
                    "intervention": c.intervention,
                }
                for c in self.checkpoints
            ],
            "comparisons": [r.to_dict() for r in self.comparisons],
            "interventions": [e.to_dict() for e in self.effects],
            "warnings": list(self.warnings),
        }


def data_revision(meta: Mapping[str, Any]) -> str | None:
    """The data revision a results document records (``meta.data.revision``), if any."""
    data = meta.get("data")
    revision = data.get("revision") if isinstance(data, Mapping) else meta.get("data_revision")
    return str(revision) if revision else None


def checkpoint_labels(paths: Sequence[Path]) -> list[str]:
    """Short unique names: file stems, else ``parent/stem``, else the full paths."""
    for candidates in (
        [p.stem for p in paths],
        [f"{p.parent.name}/{p.stem}" for p in paths],
        [str(p) for p in paths],
    ):
        if len(set(candidates)) == len(candidates):
            return candidates
    return [f"{i + 1}:{p}" for i, p in enumerate(paths)]


def build_sweep(
    runs: Sequence[RunFile],
    labels: Sequence[str] | None = None,
    options: CompareOptions | None = None,
) -> Sweep:
    """Summarise each run and compare each with the next (paired, on shared prompts).

    Raises:
        MathIFError: no runs, or labels that do not match the runs one to one.
    """
    if not runs:
        raise MathIFError("no results files given; pass at least one RESULTS.json")
    names = list(labels) if labels else checkpoint_labels([r.path for r in runs])
    if len(names) != len(runs) or len(set(names)) != len(names):
        raise MathIFError(
            f"got {len(names)} labels for {len(runs)} runs; give one distinct "
            "--label per results file, in order"
        )
    checkpoints = tuple(_checkpoint(name, run) for name, run in zip(names, runs, strict=True))
    headlines = [headline_cases(run.cases) for run in runs]
    comparisons = tuple(
        compare_runs(headlines[i - 1], headlines[i], options, labels=(names[i - 1], names[i]))
        for i in range(1, len(runs))
    )
    return Sweep(
        checkpoints=checkpoints,
        comparisons=comparisons,
        warnings=_warnings(checkpoints, comparisons),
        effects=intervention_effects(runs, names, options),
    )


def _checkpoint(label: str, run: RunFile) -> Checkpoint:
    headline = headline_cases(run.cases)
    return Checkpoint(
        label=label,
        path=str(run.path),
        summary=summarize(headline),
        revision=data_revision(run.meta),
        cost=constraint_cost(run.cases) if len(headline) < len(run.cases) else None,
        intervention=intervention_label(run),
    )


def _warnings(
    checkpoints: Sequence[Checkpoint], comparisons: Sequence[ComparisonReport]
) -> tuple[str, ...]:
    out = []
    revisions = {c.label: c.revision for c in checkpoints if c.revision}
    if len(set(revisions.values())) > 1:
        listed = ", ".join(f"{label}: {rev}" for label, rev in revisions.items())
        out.append(
            f"the runs were scored on different data revisions ({listed}); "
            "comparisons use only the prompts they share"
        )
    for report in comparisons:
        if report.shared == 0:
            out.append(
                f"{report.baseline} and {report.candidate} share no prompts; "
                "they cannot be compared"
            )
    return tuple(out)
