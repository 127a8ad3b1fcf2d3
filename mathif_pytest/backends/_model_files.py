"""Read a checkpoint's small JSON files (config, generation config) without loading the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["model_max_len", "read_model_json"]

#: Keys that bound a model's context, as vLLM reads them from ``config.json`` (it takes the min).
_LENGTH_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
)


def read_model_json(model: str, name: str, revision: str | None = None) -> dict[str, Any] | None:
    """``name`` (e.g. ``config.json``) of a checkpoint directory or a cached hub model.

    Returns:
        The parsed object, or None when the file is absent, unreadable or not cached.
    """
    local = Path(model).expanduser()
    path: Path | None = local / name if local.is_dir() else _cached(model, name, revision)
    if path is None or not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def model_max_len(config: dict[str, Any]) -> int | None:
    """The longest context a model takes, from its ``config.json`` (None when it does not say).

    Follows vLLM: the smallest of the length keys (of ``text_config`` for multimodal models),
    times the rope-scaling factor for scalings that extend the context.
    """
    config = config.get("text_config") or config
    lengths = [config.get(key) for key in _LENGTH_KEYS]
    positive = [value for value in lengths if isinstance(value, int) and value > 0]
    if not positive:
        return None
    length = min(positive)
    scaling = config.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type"))
    factor = scaling.get("factor")
    if kind not in (None, "default", "su", "longrope", "llama3", "mrope") and factor:
        if kind == "yarn" and scaling.get("original_max_position_embeddings"):
            length = int(scaling["original_max_position_embeddings"])
        length = int(length * float(factor))
    return length


def _cached(repo_id: str, name: str, revision: str | None) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, name, revision=revision)
    except (ImportError, OSError, ValueError):
        return None
    return Path(found) if isinstance(found, str) else None
