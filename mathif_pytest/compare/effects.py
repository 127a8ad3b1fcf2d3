"""An intervention's effect beside the plain run of the same checkpoint, paired by prompt.

A results file made with an intervention (its cases record one) is matched with a file of the
same model (``meta.generation.fingerprint``, else ``meta.model``) made without one; the two are
compared like neighbouring checkpoints (:func:`~mathif_pytest.compare.paired.compare_runs`), so
the change in HAcc and correctness comes with its paired interval and exact p-value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mathif_pytest.analyses import headline_cases
from mathif_pytest.compare.paired import CompareOptions, ComparisonReport, compare_runs
from mathif_pytest.runfile import RunFile

__all__ = ["InterventionEffect", "intervention_effects", "intervention_label", "model_identity"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InterventionEffect:
    """One intervened run against the plain run of the same checkpoint.

    Attributes:
        intervention: its label (``repeat_constraints``, ``budget_forcing=4``...).
        plain: the plain run's label.
        intervened: the intervened run's label.
        comparison: plain (baseline) against intervened (candidate), paired by prompt.
    """

    intervention: str
    plain: str
    intervened: str
    comparison: ComparisonReport

    def to_dict(self) -> dict[str, Any]:
        """Labels and the comparison's JSON form."""
        return {
            "intervention": self.intervention,
            "plain": self.plain,
            "intervened": self.intervened,
            "comparison": self.comparison.to_dict(),
        }


def intervention_label(run: RunFile) -> str | None:
    """The intervention a run's responses went through (None: a plain run)."""
    for case in run.cases:
        if case.intervention is not None:
            return str(case.intervention.get("label") or case.intervention.get("kind"))
    return None


def model_identity(meta: Mapping[str, Any]) -> str | None:
    """What names the model of a run: its fingerprint, else ``--model`` as given."""
    generation = meta.get("generation")
    if isinstance(generation, Mapping) and generation.get("fingerprint"):
        return str(generation["fingerprint"])
    return str(meta["model"]) if meta.get("model") else None


def intervention_effects(
    runs: Sequence[RunFile], labels: Sequence[str], options: CompareOptions | None = None
) -> tuple[InterventionEffect, ...]:
    """Each intervened run against the first plain run of the same model (if there is one)."""
    plain: dict[str, int] = {}
    for index, run in enumerate(runs):
        identity = model_identity(run.meta)
        if identity is not None and intervention_label(run) is None:
            plain.setdefault(identity, index)
    effects = []
    for index, run in enumerate(runs):
        label, identity = intervention_label(run), model_identity(run.meta)
        if label is None or identity not in plain:
            continue
        base = plain[identity]
        comparison = compare_runs(
            headline_cases(runs[base].cases),
            headline_cases(run.cases),
            options,
            labels=(labels[base], labels[index]),
        )
        effects.append(
            InterventionEffect(
                intervention=label,
                plain=labels[base],
                intervened=labels[index],
                comparison=comparison,
            )
        )
    return tuple(effects)
