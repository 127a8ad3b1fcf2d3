"""Validation of a constraint's data arguments against its checker's dataclass fields."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping
from dataclasses import Field, fields
from typing import Any, get_type_hints

from mathif_pytest.constraints._base import Checker, Relation
from mathif_pytest.errors import ConstraintArgsError
from mathif_pytest.protocol import Deviations

__all__ = ["ACCEPTS", "DEVIATION", "MIN", "VALIDATE", "construct", "data_fields"]

#: Field metadata keys. "min": the least allowed int. "deviation": the field is set from that
#: ``Deviations`` flag, never from data. "validate": an extra check of a str, returning a problem or
#: None. "accepts": how to describe the accepted values, instead of the type's wording.
MIN, DEVIATION, VALIDATE, ACCEPTS = "min", "deviation", "validate", "accepts"


def _got(value: object) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return f"got {type(value).__name__} {shown}"


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def data_fields(cls: type) -> tuple[Field[Any], ...]:
    """The fields of a checker class that come from the data's ``constraint_args``, in order."""
    return tuple(f for f in fields(cls) if DEVIATION not in f.metadata)


def _describe(cls: type, f: Field[Any]) -> str:
    kind = _hints(cls)[f.name]
    if ACCEPTS in f.metadata:
        accepted = str(f.metadata[ACCEPTS])
    elif kind is Relation:
        accepted = " or ".join(repr(r.value) for r in Relation)
    elif kind is int:
        accepted = f"int >= {f.metadata.get(MIN, 0)}"
    elif kind is str:
        accepted = "non-empty str"
    else:
        accepted = "non-empty list of non-empty str"
    return f"{f.name} ({accepted})"


def _accepted(cls: type) -> str:
    described = [_describe(cls, f) for f in data_fields(cls)]
    return "accepted fields: " + (", ".join(described) if described else "none (null or {})")


def _convert(cls: type, f: Field[Any], value: object) -> tuple[object, str | None]:
    """The value to construct with, or a problem sentence (without the field's name)."""
    kind = _hints(cls)[f.name]
    if kind is Relation:
        choices = {r.value: r for r in Relation}
        if isinstance(value, str) and value in choices:
            return choices[value], None
        return value, f"must be 'less than' or 'at least' ({_got(value)})"
    if kind is int:
        least = f.metadata.get(MIN, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            return value, f"must be an int ({_got(value)})"
        return value, None if value >= least else f"must be at least {least} ({_got(value)})"
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            return value, f"must be a non-empty string ({_got(value)})"
        check: Callable[[str], str | None] | None = f.metadata.get(VALIDATE)
        return value, check(value) if check else None
    if not isinstance(value, list | tuple) or not value:
        return value, f"must be a non-empty list of strings ({_got(value)})"
    if not all(isinstance(item, str) and item.strip() for item in value):
        return value, f"must hold only non-empty strings ({_got(value)})"
    return tuple(value), None


def _unexpected(cls: type, key: object, value: object) -> str:
    names = [f.name for f in data_fields(cls)]
    if key in {f.name for f in fields(cls)} - set(names):
        return f"{key!r} is set from the deviation options, not from data ({_got(value)})"
    hint = difflib.get_close_matches(str(key), names, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unexpected argument {key!r} ({_got(value)}){suggestion}"


def construct(
    cls: type[Any],
    constraint_id: str,
    args: Mapping[str, object] | None,
    deviations: Deviations,
) -> Checker:
    """Validate ``args`` for ``cls`` and build the checker; see ``build_checker``.

    Raises:
        ConstraintArgsError: the first problem found, naming the id and the accepted fields.
    """

    def fail(problem: str) -> ConstraintArgsError:
        accepted = _accepted(cls)
        if problem.endswith("?"):  # after "did you mean 'x'?", start a new sentence
            accepted = " " + accepted[0].upper() + accepted[1:]
        else:
            accepted = "; " + accepted
        return ConstraintArgsError(f"constraint {constraint_id!r}: {problem}{accepted}")

    args = {} if args is None else args
    if not isinstance(args, Mapping):
        raise fail(f"arguments must be an object or null ({_got(args)})")
    expected = {f.name: f for f in data_fields(cls)}
    for key, value in args.items():
        if key not in expected:
            raise fail(_unexpected(cls, key, value))
    missing = [name for name in expected if name not in args]
    if missing:
        given = ", ".join(repr(key) for key in args) or "none"
        raise fail(f"missing argument {missing[0]!r} (got keys {given})")
    kwargs: dict[str, object] = {}
    for name, f in expected.items():
        kwargs[name], problem = _convert(cls, f, args[name])
        if problem:
            raise fail(f"argument {name!r} {problem}")
    for f in fields(cls):
        if DEVIATION in f.metadata:
            kwargs[f.name] = getattr(deviations, f.metadata[DEVIATION])
    checker: Checker = cls(**kwargs)
    return checker
