"""Identify a model, a request and a request's seed without loading anything (store keys, seeds)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mathif_pytest.backends import BackendConfig, SamplingSettings
from mathif_pytest.backends._chat import load_chat_template
from mathif_pytest.backends._lora import find_adapter
from mathif_pytest.errors import BackendUnavailableError

__all__ = ["model_fingerprint", "request_key", "request_seed", "variant_key"]

#: Bump when what goes into a fingerprint changes: old store rows then stop matching.
_VERSION = "mathif-fingerprint-v1"
#: Hashed whole: what decides how prompts are rendered and tokenised, and the model's shape.
_SMALL_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "tokenizer.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "model.safetensors.index.json",
    "adapter_config.json",
    "pytorch_model.bin.index.json",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
#: Bytes read at the start, middle and end of each weight file: 3 MiB per shard, however large.
_SAMPLE_BYTES = 1 << 20
_MAX_HEADER_BYTES = 100 << 20


def model_fingerprint(config: BackendConfig) -> str:
    """A short hex id of the model behind ``config``, computed without loading it.

    * a checkpoint directory: sha256 of the config, generation config, tokenizer files and chat
      template, plus each weight file's name, size and a hash of sampled byte ranges (the
      safetensors header and 1 MiB at its start, middle and end), so it takes milliseconds even
      for a 100 GB checkpoint, and two checkpoints of one training run differ. The path itself is
      not part of it: a copied checkpoint keeps its fingerprint.
    * a hub id: the id plus the commit of its cached snapshot (``revision`` option), if cached.
    * a LoRA adapter directory: the adapter's files as above, plus its base's identity.
    * plus, when set, the ``chat_template`` override and ``chat_template_kwargs``.
    * openai: the served model name (``served_model`` option, else asked from ``GET /models``),
      not the server URLs, so that replicas, shards and re-deployed servers share responses. vLLM
      names a model by the path or hub id given to ``vllm serve`` unless ``--served-model-name``
      says otherwise: give each checkpoint its own name (new weights under an old name are not
      detected).
    * replay: sha256 of the responses file.

    Returns:
        16 hex characters.

    Raises:
        BackendUnavailableError: a file cannot be read; for openai, the server cannot be asked.
    """
    try:
        parts = _parts(config)
    except OSError as exc:
        raise BackendUnavailableError(
            f"--model {config.model}: cannot read {exc.filename or config.model} to fingerprint "
            f"the model ({exc.strerror or exc}); check the path and its permissions"
        ) from None
    return _sha256_json([_VERSION, *parts])[:16]


def _parts(config: BackendConfig) -> list[Any]:
    kind = _kind(config)
    if kind == "replay":
        return ["replay", _file_sha256(Path(config.model))]
    if kind == "openai":
        from mathif_pytest.backends.openai import served_model_name

        return ["openai", served_model_name(config)]
    adapter = find_adapter(config.model, config.options.get("base_model"))
    if adapter is None:
        parts = _model_parts(config.model, config.options.get("revision"))
    else:  # the adapter's own files, and its base's
        base = _model_parts(adapter.base, config.options.get("revision"))
        parts = ["lora", *_checkpoint_parts(adapter.path), base]
    return parts + _rendering_parts(config.options)


def _model_parts(model: str, revision: str | None) -> list[Any]:
    local = Path(model).expanduser()
    return (
        ["checkpoint", *_checkpoint_parts(local)] if local.is_dir() else _hub_parts(model, revision)
    )


def _rendering_parts(options: Mapping[str, Any]) -> list[Any]:
    """A chat template override and its variables decide the prompts: part of the identity.

    Left out when unset, so fingerprints taken before these options existed still match.
    """
    parts: dict[str, Any] = {}
    if options.get("chat_template") is not None:
        parts["chat_template"] = load_chat_template(str(options["chat_template"]))
    if options.get("chat_template_kwargs"):
        parts["chat_template_kwargs"] = dict(options["chat_template_kwargs"])
    return [parts] if parts else []


def request_key(
    backend_name: str, fingerprint: str, sampling: SamplingSettings, prompt: str, sample: int
) -> str:
    """The store key of one request: sha256 of a canonical JSON of everything that decides it.

    The uid is not part of it: two samples with the same prompt share stored responses.
    """
    return _sha256_json(
        {
            "backend": backend_name,
            "fingerprint": fingerprint,
            "sampling": sampling.key_dict(),
            "prompt": prompt,
            "sample": sample,
        }
    )


def variant_key(key: str, variant: Mapping[str, Any]) -> str:
    """The key of a variant of the request ``key``: what else decides its response.

    ``variant`` is JSON-ready: an intervention (for its final response), or a stage's prefix,
    stop strings and budget. Plain requests keep their :func:`request_key`.
    """
    return _sha256_json({"request": key, "variant": dict(variant)})


def request_seed(base_seed: int | None, uid: str, sample: int) -> int | None:
    """This request's own seed: a function of the base seed, uid and sample index only.

    So a request gets the same seed whatever else is in its batch, and prompts are not correlated
    (one seed for every request would be). Fits in 31 bits (numpy, torch, vLLM, servers).

    Returns:
        ``None`` when ``base_seed`` is ``None`` (unseeded run).
    """
    if base_seed is None:
        return None
    digest = hashlib.sha256(json.dumps([base_seed, uid, sample]).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _kind(config: BackendConfig) -> str:
    if config.name == "replay" or (config.name == "auto" and config.model.endswith(".jsonl")):
        return "replay"
    is_url = config.model.startswith(("http://", "https://"))
    if config.name == "openai" or (config.name == "auto" and is_url):
        return "openai"
    return "model"


def _checkpoint_parts(directory: Path) -> list[Any]:
    small = [
        [name, _file_sha256(directory / name)]
        for name in _SMALL_FILES
        if (directory / name).is_file()
    ]
    weights = [
        _weight_identity(path)
        for path in sorted(directory.iterdir())
        if path.suffix in _WEIGHT_SUFFIXES and path.is_file()
    ]
    return [small, weights]


def _weight_identity(path: Path) -> list[Any]:
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if path.suffix == ".safetensors":
            digest.update(_safetensors_header(handle, size))
        middle = max(0, size // 2 - _SAMPLE_BYTES // 2)
        for offset in sorted({0, middle, max(0, size - _SAMPLE_BYTES)}):
            handle.seek(offset)
            digest.update(handle.read(_SAMPLE_BYTES))
    return [path.name, size, digest.hexdigest()]


def _safetensors_header(handle: BinaryIO, size: int) -> bytes:
    """The JSON header (tensor names, dtypes, shapes, offsets); empty when it looks malformed."""
    length = int.from_bytes(handle.read(8), "little")
    if length > min(size - 8, _MAX_HEADER_BYTES):
        return b""
    return handle.read(length)


def _hub_parts(model: str, revision: str | None) -> list[Any]:
    commit = _cached_commit(model, revision)
    return ["hub", model, commit or f"uncached:{revision}"]


def _cached_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit of the cached snapshot, read from the local cache only (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    except (ImportError, OSError, ValueError):  # not installed, unreadable cache, not a repo id
        return None
    return Path(found).parent.name if isinstance(found, str) else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
