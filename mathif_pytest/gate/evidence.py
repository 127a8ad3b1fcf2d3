"""The statistics behind a gate row decided by a test: p-values, the family, the power."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PowerStatement", "RowTest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerStatement:
    """What a "no worse than" row can detect, at its own margin, metric, size and level.

    Attributes:
        method: ``exact`` (one 0/1 outcome per prompt: binomial over discordant pairs) or
            ``simulation`` (soft accuracy, several samples per prompt).
        level: the per-row level the power is computed at (``alpha / k`` under Holm with k
            rows: Holm's strictest step, so the power is a lower bound).
        target: the power asked for (80%, or ``--mathif-min-power``).
        detectable_drop: the smallest drop (baseline - candidate, a fraction) the row catches
            with probability ``>= target``; None when no drop is (``undetectable``).
        power_at_detectable_drop: the power at that drop.
        max_drop: the largest drop there can be (the baseline's rate: everything lost).
        max_power: the power against that total collapse.
        required_drop: ``--mathif-min-power P@DROP``'s drop, if given.
        power_at_required_drop: the power against it.
        prompts: paired prompts.
        samples: samples per prompt and run.
        assumption: how the spread between reruns was obtained, when it was assumed.
        change: ``drop``, or ``rise`` for a "no rise beyond" (``<=``) row.
    """

    method: str
    level: float
    target: float
    detectable_drop: float | None
    power_at_detectable_drop: float | None
    max_drop: float
    max_power: float
    prompts: int
    samples: int
    required_drop: float | None = None
    power_at_required_drop: float | None = None
    assumption: str = ""
    change: str = "drop"

    @property
    def detectable(self) -> bool:
        """Some drop is caught with the target power."""
        return self.detectable_drop is not None

    def meets(self, target: float) -> bool:
        """Whether the row has at least ``target`` power (against the required drop, if any)."""
        if self.required_drop is not None:
            return (self.power_at_required_drop or 0.0) >= target
        return self.max_power >= target

    def sentence(self) -> str:
        """``power 0.80 against a drop of 7.9 pts (...)`` or ``undetectable: ...``."""
        setting = f"at level {self.level:.2g} with {self.prompts} prompts"
        extreme = "losing everything" if self.change == "drop" else "the largest rise"
        if self.detectable_drop is None:
            text = (
                f"undetectable: even {extreme} ({100 * self.max_drop:.1f} pts) fails "
                f"this row with probability {self.max_power:.2f} {setting}"
            )
        else:
            text = (
                f"power {self.power_at_detectable_drop:.2f} against a {self.change} of "
                f"{100 * self.detectable_drop:.1f} pts ({self.method}, {setting})"
            )
        if self.required_drop is not None:
            text += (
                f"; power {self.power_at_required_drop:.2f} against the required {self.change} of "
                f"{100 * self.required_drop:.1f} pts"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields, plus ``detectable``."""
        return {
            "method": self.method,
            "level": self.level,
            "target": self.target,
            "detectable": self.detectable,
            "detectable_drop": self.detectable_drop,
            "power_at_detectable_drop": self.power_at_detectable_drop,
            "max_drop": self.max_drop,
            "max_power": self.max_power,
            "required_drop": self.required_drop,
            "power_at_required_drop": self.power_at_required_drop,
            "prompts": self.prompts,
            "samples": self.samples,
            "assumption": self.assumption,
            "change": self.change,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RowTest:
    """How a row decided by a test was judged.

    Attributes:
        kind: ``no-worse`` (fails on a significant shortfall past the margin), ``must-improve``
            (passes only on a significant improvement past the margin) or
            ``significantly-below`` (an absolute threshold in ``--mathif-absolute
            significant`` mode).
        null: the null hypothesis, e.g. ``delta >= -0.02``.
        p_value: the row's one-sided p-value of its null.
        components: the p-values it combines, e.g. ``(("bootstrap", 0.002), ("mcnemar-exact
            at 0", 0.0008))``; the row's p is their maximum (both tests must reject).
        adjusted_p: after the family correction.
        correction: ``holm`` or ``none``.
        family: the labels (as written) of every row in the family, this one included.
        alpha: the level the adjusted p is compared with (family-wise under Holm).
        rejected: the null is rejected (estimate past the margin and ``adjusted_p < alpha``).
        pairing: how samples were paired (delta rows), e.g. ``all samples``.
        power: what the row can detect (``no-worse`` delta rows), None otherwise.
        underpowered: the row failed only because ``--mathif-min-power`` was not met.
    """

    kind: str
    null: str
    p_value: float
    components: tuple[tuple[str, float], ...]
    adjusted_p: float
    correction: str
    family: tuple[str, ...]
    alpha: float
    rejected: bool
    pairing: str = ""
    power: PowerStatement | None = None
    underpowered: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields (``power`` nested, ``components`` as a mapping)."""
        return {
            "kind": self.kind,
            "null": self.null,
            "p_value": self.p_value,
            "components": dict(self.components),
            "adjusted_p": self.adjusted_p,
            "correction": self.correction,
            "family": list(self.family),
            "family_size": len(self.family),
            "alpha": self.alpha,
            "rejected": self.rejected,
            "pairing": self.pairing,
            "power": None if self.power is None else self.power.to_dict(),
            "underpowered": self.underpowered,
        }
