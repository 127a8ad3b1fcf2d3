"""LoRA adapters as models: a directory with ``adapter_config.json`` (PEFT layout) and its base."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mathif_pytest.errors import BackendUnavailableError

__all__ = ["ADAPTER_CONFIG", "LoraAdapter", "find_adapter", "has_tokenizer"]

ADAPTER_CONFIG = "adapter_config.json"
#: Files that make a directory a tokenizer of its own (an adapter saved with its tokenizer).
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoraAdapter:
    """A PEFT LoRA adapter directory and the base model it applies to.

    Attributes:
        path: the adapter directory.
        base: the base model: the ``base_model`` option, else ``base_model_name_or_path``.
        rank: the adapter's rank ``r`` (vLLM's ``max_lora_rank`` must be at least this).
    """

    path: Path
    base: str
    rank: int


def find_adapter(model: str, base_override: str | None) -> LoraAdapter | None:
    """The adapter at ``model``, or None when ``model`` is not an adapter directory.

    Raises:
        BackendUnavailableError: ``adapter_config.json`` is unreadable, or names no base model
            and none was given.
    """
    path = Path(model).expanduser()
    config_path = path / ADAPTER_CONFIG
    if not config_path.is_file():
        return None
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendUnavailableError(
            f"--model {model}: cannot read {ADAPTER_CONFIG} ({exc}); save the adapter with "
            "PEFT's save_pretrained"
        ) from None
    base = base_override or config.get("base_model_name_or_path")
    if not base:
        raise BackendUnavailableError(
            f"--model {model}: {ADAPTER_CONFIG} names no base model "
            "(base_model_name_or_path); pass --mathif-engine-arg base_model=PATH_OR_HUB_ID"
        )
    rank = config.get("r")
    return LoraAdapter(path=path, base=str(base), rank=int(rank) if rank else 16)


def has_tokenizer(directory: Path) -> bool:
    """Whether ``directory`` holds tokenizer files (an adapter saved with its tokenizer)."""
    return any((directory / name).is_file() for name in _TOKENIZER_FILES)
