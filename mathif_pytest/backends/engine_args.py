"""``--mathif-engine-arg`` settings: merged, checked at start-up against the backend, masked.

Every key must be one the resolved backend declares (its options dataclass), one it passes
through to its engine (vLLM: the fields of ``EngineArgs``), or a session key
(``generation_config``). Anything else is a usage error naming the key and a close match, raised
before any model loads: a typo such as ``tensor_paralel_size=4`` must not run with TP=1.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from mathif_pytest.errors import BackendUnavailableError

__all__ = [
    "MERGED_KEYS",
    "SECRET_NAMES",
    "SESSION_KEYS",
    "check_engine_args",
    "mask_secrets",
    "merge_engine_args",
]

#: Keys the session consumes before a backend is built (the sampling source).
SESSION_KEYS = frozenset({"generation_config"})
#: Values accepted for ``generation_config``.
GENERATION_CONFIG_VALUES = ("model",)
#: Keys whose mapping values merge when repeated (instead of the last one winning).
MERGED_KEYS = frozenset({"engine_args", "chat_template_kwargs"})
#: Keys whose values describe() masks: exact names, so ``tokenizer`` or
#: ``max_num_batched_tokens`` are shown as they are.
SECRET_NAMES = frozenset({"hf_token", "token", "api_key", "password", "secret", "access_token"})


def merge_engine_args(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs in order into one mapping: later values win, dict keys merge.

    ``engine_args={a: 1}`` then ``engine_args={b: 2}`` gives ``{a: 1, b: 2}`` (same for
    ``chat_template_kwargs``).
    """
    merged: dict[str, Any] = {}
    for key, value in pairs:
        previous = merged.get(key)
        if key in MERGED_KEYS and isinstance(previous, Mapping) and isinstance(value, Mapping):
            merged[key] = {**previous, **value}
        else:
            merged[key] = value
    return merged


def mask_secrets(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the values of :data:`SECRET_NAMES` keys replaced by ``***``."""
    return {key: "***" if key in SECRET_NAMES else value for key, value in values.items()}


def check_engine_args(backend: str, options: Mapping[str, Any]) -> None:
    """Fail when ``options`` has a key ``backend`` neither declares nor passes to its engine.

    Also checks the declared options' types and bounds, and ``generation_config``'s value.

    Args:
        backend: a resolved backend name (not ``auto``).
        options: the merged engine arguments.

    Raises:
        BackendUnavailableError: the first unknown key, with a did-you-mean and the valid keys.
    """
    from mathif_pytest.backends._options import read_options
    from mathif_pytest.backends.resolve import options_class

    cls = options_class(backend)
    declared = {f.name for f in dataclasses.fields(cls)} if cls is not None else set()
    passthrough = _passthrough(cls)
    # passthrough None: vLLM is not installed, building the backend will say so
    for key in options:
        known = key in declared or key in SESSION_KEYS
        if not known and passthrough is not None and key not in passthrough:
            _unknown(backend, key, declared | passthrough, where="")
    nested = options.get("engine_args")
    if isinstance(nested, Mapping) and passthrough is not None:
        for key in nested:
            if key not in passthrough:
                _unknown(backend, key, passthrough, where="engine_args.")
    _check_generation_config(options.get("generation_config"))
    if cls is not None:
        read_options(cls, backend, options)


def _passthrough(cls: type | None) -> frozenset[str] | None:
    """What the engine accepts beyond the declared options; None when it cannot be known."""
    method = getattr(cls, "passthrough", None)
    if method is None:
        return frozenset()
    known: frozenset[str] | None = method()
    return known


def _unknown(backend: str, key: str, valid: set[str] | frozenset[str], where: str) -> None:
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(sorted(valid)) if len(valid) <= 20 else f"{len(valid)} engine arguments"
    raise BackendUnavailableError(
        f"--mathif-engine-arg {where}{key}: the {backend} backend does not accept {key!r}{hint} "
        f"(valid: {listed or 'none'}); fix the key or remove it"
    )


def _check_generation_config(value: Any) -> None:
    if value is not None and value not in GENERATION_CONFIG_VALUES:
        raise BackendUnavailableError(
            f"--mathif-engine-arg generation_config={value!r} is invalid; use "
            "generation_config=model to sample with the checkpoint's generation_config.json "
            "(by default MathIF's own settings are sent explicitly)"
        )
