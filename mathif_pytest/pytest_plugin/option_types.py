"""The value types of the ``--mathif-*`` options: parse a word or raise argparse's type error.

argparse prints ``argument --mathif-x: <message>`` for an :class:`argparse.ArgumentTypeError`, so
each message says what the value is not and what it should be.
"""

from __future__ import annotations

import argparse
from typing import Any

from mathif_pytest.batch.shards import Shard, parse_shard
from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate import Threshold, parse_threshold
from mathif_pytest.interventions import Intervention, parse_intervention
from mathif_pytest.protocol import Deviations

__all__ = [
    "deviation",
    "engine_arg",
    "fraction",
    "gate",
    "intervention",
    "level",
    "min_power",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "seed",
    "shard",
]


def gate(text: str) -> Threshold:
    """A gate expression (``hard_accuracy>=0.40``)."""
    try:
        return parse_threshold(text)
    except GateSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str, kind: type[float] | type[int]) -> Any:
    """``text`` as a number; argparse then names the option in the message (not this function)."""
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def fraction(text: str) -> float:
    """A number in [0, 1]."""
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction between 0 and 1")
    return float(value)


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(value)


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 0")
    return int(value)


def non_negative_float(text: str) -> float:
    """A number >= 0."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number >= 0")
    return float(value)


def positive_float(text: str) -> float:
    """A number > 0."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return float(value)


def level(text: str) -> float:
    """A significance level in (0, 0.5)."""
    # The paired tests and one-sided bounds of delta.* thresholds need 0 < alpha < 0.5.
    value = _number(text, float)
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a significance level in (0, 0.5), e.g. 0.05"
        )
    return float(value)


def min_power(text: str) -> tuple[float, float | None]:
    """``POWER`` or ``POWER@DROP`` (``0.8``, ``0.8@0.05``)."""
    power_text, _, drop_text = text.partition("@")
    try:
        power = float(power_text)
        drop = (
            None
            if not drop_text
            else float(drop_text.rstrip("%")) / (100 if drop_text.endswith("%") else 1)
        )
    except ValueError:
        power, drop = -1.0, None
    if not 0 < power < 1 or (drop is not None and not 0 < drop <= 1):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not POWER or POWER@DROP with POWER in (0, 1) and DROP in (0, 1], "
            "e.g. 0.8 or 0.8@0.05 (80% power against a 5-point drop)"
        )
    return power, drop


def seed(text: str) -> str:
    """An integer, or ``none`` (kept as text: not given must stay distinguishable)."""
    # Kept as text: None must stay "not given" so that a suite's seed can apply.
    if text.lower() != "none":
        try:
            int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer or 'none'") from None
    return text


def engine_arg(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``, the value read as YAML (``tensor_parallel_size=4``)."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. tensor_parallel_size=4)")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.strip(), parsed


def shard(text: str) -> Shard:
    """``I/N``: this job's share of the cases."""
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def intervention(text: str) -> Intervention:
    """An intervention, as a suite's ``intervention:`` value (``budget_forcing: 2``...)."""
    from mathif_pytest.errors import MathIFError

    try:
        return parse_intervention(text, "--mathif-intervention")
    except MathIFError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def deviation(text: str) -> str:
    """The name of a deliberate fix of official scoring."""
    if text not in Deviations.names():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a deviation; choose from {', '.join(Deviations.names())}"
        )
    return text
