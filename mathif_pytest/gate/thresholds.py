"""Gate thresholds: ``METRIC[GROUP] OP VALUE`` expressions, parsed and checked once."""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from mathif_pytest.errors import GateSpecError
from mathif_pytest.stats import METRICS

__all__ = ["COST_METRICS", "DELTA_METRICS", "DELTA_PREFIX", "Threshold", "parse_threshold"]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_EXPRESSION = re.compile(
    r"^\s*(?P<metric>[a-z_.]+)\s*(?:\[\s*(?P<group>[^\]]+?)\s*\])?\s*"
    r"(?P<op>>=|<=|>|<)\s*(?P<value>-?[0-9]*\.?[0-9]+)\s*(?P<percent>%?)\s*$"
)
_FORM = (
    "METRIC[GROUP]>=VALUE, e.g. hard_accuracy>=0.40, correctness[aime]>=20%, "
    "delta.hard_accuracy>=-0.02 or constraint_cost.correctness<=0.10"
)
#: ``constraint_cost[aime].correctness`` is written ``constraint_cost.correctness[aime]``.
_COST_GROUP_FIRST = re.compile(r"^\s*constraint_cost\s*\[([^\]]+)\]\s*\.\s*([a-z_]+)")
#: A metric written ``delta.<metric>`` is a change against a baseline run (candidate - baseline).
DELTA_PREFIX = "delta."
#: The metrics a delta threshold may name (``compliance`` is a per-instance rate, not paired).
DELTA_METRICS = ("hard_accuracy", "soft_accuracy", "correctness")
#: The constraint cost (a ``constraints: both`` suite): ``constraint_cost.correctness`` is the
#: drop ``without - with`` in correctness, ``constraint_cost.relative_correctness`` that drop
#: over the correctness without constraints; ``constraint_cost`` alone means the first.
COST_METRICS = ("constraint_cost.correctness", "constraint_cost.relative_correctness")


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """One gate condition: ``metric[group] op value``.

    Attributes:
        metric: ``hard_accuracy``, ``soft_accuracy``, ``correctness`` or ``compliance``.
        group: ``None`` for overall, else a source, level or constraint id.
        op: one of ``>=``, ``>``, ``<=``, ``<``.
        value: the bound, as a fraction in [0, 1] (in [-1, 1] for a delta threshold).
        text: the expression as written (for messages).
        relative_to_baseline: a ``delta.<metric>`` threshold: ``value`` bounds the change
            candidate - baseline, judged by a paired test against a baseline run
            (:mod:`mathif_pytest.compare`); :func:`evaluate_gate` alone cannot judge it.
    """

    metric: str
    group: str | None
    op: str
    value: float
    text: str
    relative_to_baseline: bool = False

    @property
    def constraint_cost(self) -> bool:
        """A ``constraint_cost.*`` threshold: judged on the paired with/without correctness."""
        return self.metric in COST_METRICS

    @property
    def in_points(self) -> bool:
        """Its value is a difference of rates (a delta or the absolute constraint cost)."""
        return self.relative_to_baseline or self.metric == COST_METRICS[0]

    @property
    def label(self) -> str:
        """``metric[group]`` or ``metric`` (``delta.metric…`` for a delta threshold)."""
        name = f"{DELTA_PREFIX}{self.metric}" if self.relative_to_baseline else self.metric
        return f"{name}[{self.group}]" if self.group else name

    def holds(self, observed: float) -> bool:
        """Whether an observed rate satisfies the condition."""
        return _OPERATORS[self.op](observed, self.value)


def parse_threshold(text: str) -> Threshold:
    """Parse ``hard_accuracy>=0.40``, ``correctness[aime]>=20%``, ``delta.hard_accuracy>=-0.02``.

    A ``delta.`` metric (``hard_accuracy``, ``soft_accuracy``, ``correctness``) bounds the change
    against a baseline run; its value may be negative.

    A rate bound is a fraction in [0, 1] (``0.40``) or a percentage in [0%, 100%] (``40%``);
    a delta bound lies in [-1, 1] (or [-100%, 100%]). ``hard_accuracy>=10`` is an error, not
    1000%.

    Raises:
        GateSpecError: not of that form, an unknown metric (with a did-you-mean), or a bound
            outside its range (with the fraction and the percentage the user may have meant).
    """
    match = _EXPRESSION.match(_COST_GROUP_FIRST.sub(r"constraint_cost.\2[\1]", text))
    if not match:
        raise GateSpecError(f"{text!r} is not a gate expression; use {_FORM}")
    written = match["metric"]
    if written == "constraint_cost":
        written = COST_METRICS[0]
    relative = written.startswith(DELTA_PREFIX)
    metric = written[len(DELTA_PREFIX) :] if relative else written
    if metric not in (DELTA_METRICS if relative else (*METRICS, *COST_METRICS)):
        known = [*METRICS, *(DELTA_PREFIX + m for m in DELTA_METRICS), *COST_METRICS]
        close = difflib.get_close_matches(written, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
        raise GateSpecError(f"{text!r}: unknown metric {written!r}{hint}")
    value = float(match["value"]) / (100 if match["percent"] else 1)
    signed = relative or metric in COST_METRICS
    _check_range(text, value, signed, written_as_percent=bool(match["percent"]))
    return Threshold(
        metric=metric,
        group=match["group"],
        op=match["op"],
        value=value,
        text=text,
        relative_to_baseline=relative,
    )


def _check_range(text: str, value: float, relative: bool, *, written_as_percent: bool) -> None:
    """A rate bound in [0, 1], a delta bound in [-1, 1]; the message offers both spellings."""
    low = -1.0 if relative else 0.0
    if low <= value <= 1.0:
        return
    written = f"{100 * value:g}%" if written_as_percent else f"{value:g}"
    if relative and text.strip().startswith("constraint_cost"):
        raise GateSpecError(
            f"{text!r}: a constraint cost is a difference of rates between -1 and 1 (got "
            f"{written}); write e.g. constraint_cost.correctness<=0.10 or <=10%"
        )
    if relative:
        raise GateSpecError(
            f"{text!r}: a delta is a difference of rates between -1 and 1 (got {written}); "
            "write e.g. delta.hard_accuracy>=-0.02 or delta.hard_accuracy>=-2%"
        )
    hint = (
        f"; did you mean {value / 100:g} ({value:g}%)?"
        if not written_as_percent and 1 < value <= 100
        else ""
    )
    raise GateSpecError(
        f"{text!r}: a rate bound is a fraction between 0 and 1 or a percentage between 0% "
        f"and 100% (got {written}){hint}"
    )
