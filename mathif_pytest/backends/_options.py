"""Read a backend's settings out of ``BackendConfig.options`` into a typed dataclass."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mathif_pytest.errors import BackendUnavailableError

__all__ = ["ModelOptions", "at_least", "read_options"]

_T = TypeVar("_T")
#: what a declared type accepts (an int is a valid float)
_ACCEPTS: dict[Any, tuple[type, ...]] = {float: (int, float)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelOptions:
    """Settings shared by the backends that load a checkpoint (vLLM, transformers).

    Attributes:
        dtype: ``auto`` (the checkpoint's), ``bfloat16``, ``float16``, ``float32``.
        trust_remote_code: run the checkpoint's own modelling and tokenizer code.
        revision: hub revision (branch, tag or commit) of the model (of the base, for LoRA).
        chat_template: a Jinja template (a ``.jinja`` file or inline text) replacing the
            tokenizer's own.
        chat_template_kwargs: variables for the template, e.g. ``{enable_thinking: false}``.
        base_model: the base of a LoRA adapter (default: its ``base_model_name_or_path``).
    """

    dtype: str = "auto"
    trust_remote_code: bool = False
    revision: str | None = None
    chat_template: str | None = None
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    base_model: str | None = None


def at_least(minimum: int, default: int) -> Any:
    """A dataclass field whose value :func:`read_options` requires to be ``>= minimum``."""
    return dataclasses.field(default=default, metadata={"minimum": minimum})


def read_options(cls: type[_T], backend: str, options: Mapping[str, Any]) -> _T:
    """Build ``cls`` (a dataclass with defaults) from the keys of ``options`` it declares.

    Keys meant for other backends are ignored, so one set of options can follow a model from
    backend to backend.

    Raises:
        BackendUnavailableError: a value of the wrong type, e.g. ``batch_size='8'``, or below
            its field's minimum (see :func:`at_least`).
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        if item.name not in options:
            continue
        value = options[item.name]
        _check(backend, item.name, value, hints[item.name])
        minimum = item.metadata.get("minimum")
        if minimum is not None and value is not None and value < minimum:
            raise BackendUnavailableError(
                f"{backend} backend option {item.name}={value!r} is invalid, because it must be "
                f"at least {minimum}; fix the value in the suite or on the command line"
            )
        values[item.name] = value
    return cls(**values)


def _check(backend: str, name: str, value: Any, hint: Any) -> None:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    members = typing.get_args(hint) if union else (hint,)
    bases = [typing.get_origin(member) or member for member in members]
    allowed = tuple(kind for base in bases for kind in _ACCEPTS.get(base, (base,)))
    wrong_bool = isinstance(value, bool) and bool not in allowed
    if wrong_bool or not isinstance(value, allowed):
        expected = " or ".join(sorted({kind.__name__ for kind in allowed} - {"NoneType"}))
        raise BackendUnavailableError(
            f"{backend} backend option {name}={value!r} is invalid, because it must be of type "
            f"{expected}; fix the value in the suite or on the command line"
        )
