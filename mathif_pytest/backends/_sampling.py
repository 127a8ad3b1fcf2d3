"""One sampling definition, sent explicitly: engine parameters from ``SamplingSettings``.

Engines fill whatever a request leaves unset from the checkpoint's ``generation_config.json``
(transformers merges it into ``generate``; a vLLM server does it for top-k, min-p and the
repetition penalty; Qwen3 ships ``top_k=20``), so each backend sends every parameter. The
checkpoint's values are used only when asked (``generation_config=model``): they are then read
here into the settings, so they are recorded and keyed like any other.
"""

from __future__ import annotations

from typing import Any

from mathif_pytest.backends._lora import find_adapter
from mathif_pytest.backends._model_files import read_model_json
from mathif_pytest.backends._types import SamplingSettings
from mathif_pytest.errors import MathIFError

__all__ = ["model_sampling", "transformers_sampling", "vllm_sampling"]

#: generation_config.json keys that become sampling settings, by the settings' names
_MODEL_KEYS = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty")


def model_sampling(model: str, options: dict[str, Any]) -> dict[str, Any]:
    """The sampling values of a checkpoint's ``generation_config.json`` (of the base, for LoRA).

    ``do_sample: false`` becomes temperature 0 (greedy). Keys it does not set are left out.

    Raises:
        MathIFError: the checkpoint has no readable generation config.
    """
    adapter = find_adapter(model, options.get("base_model"))
    source = adapter.base if adapter is not None else model
    config = read_model_json(source, "generation_config.json", options.get("revision"))
    if config is None:
        raise MathIFError(
            f"--mathif-engine-arg generation_config=model: {source} has no readable "
            "generation_config.json (a local checkpoint or a cached hub model); drop the "
            "argument to use MathIF's sampling settings"
        )
    values = {key: config[key] for key in _MODEL_KEYS if config.get(key) is not None}
    if config.get("do_sample") is False:
        values["temperature"] = 0.0
    return values


def vllm_sampling(
    sampling: SamplingSettings, *, seed: int | None, max_tokens: int
) -> dict[str, Any]:
    """``vllm.SamplingParams`` keyword arguments: every parameter, nothing left to defaults.

    ``top_k=-1`` is "off" in every supported vLLM (0 is accepted only by newer ones).
    """
    return {
        "n": 1,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k if sampling.top_k > 0 else -1,
        "min_p": sampling.min_p,
        "repetition_penalty": sampling.repetition_penalty,
        "max_tokens": max_tokens,
        "seed": seed,
        "stop": list(sampling.stop),
    }


def transformers_sampling(sampling: SamplingSettings) -> dict[str, Any]:
    """``transformers.GenerationConfig`` sampling fields: every one, so the model's never apply.

    Greedy (temperature 0) sets the sampling-only fields to their neutral values.
    """
    if sampling.temperature <= 0:
        return {
            "do_sample": False,
            "temperature": 1.0,
            "top_p": 1.0,
            "top_k": 0,
            "min_p": None,
            "repetition_penalty": sampling.repetition_penalty,
        }
    return {
        "do_sample": True,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "min_p": sampling.min_p or None,
        "repetition_penalty": sampling.repetition_penalty,
    }
