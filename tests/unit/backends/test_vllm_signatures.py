"""The calls the vLLM backend makes, checked against the signatures of the installed vLLM.

Skipped where vLLM is not installed (the shared CPU venv). The CUDA build imports without a
GPU, so this runs on any machine for any version in the supported range; the README's
"Backends, the store, and xdist" section has the command for the floor and the newest release.
The backend runs against the recording double (fake_vllm.py); every recorded call is then bound
to, or constructed with, the real classes.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import fake_vllm
import pytest
from fake_vllm import FakeVLLM

from mathif_pytest.backends import BackendConfig, GenerationRequest, SamplingSettings
from mathif_pytest.backends.vllm import VLLMBackend, engine_fields, lora_rank

pytest.importorskip("transformers")


def _import_real(name: str) -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(name)


@pytest.fixture(scope="module")
def real() -> dict[str, Any]:
    """The real vLLM objects the backend touches, imported before any double is installed."""
    pytest.importorskip("vllm")
    arg_utils = _import_real("vllm.engine.arg_utils")
    sampling = _import_real("vllm.sampling_params")
    return {
        "version": _import_real("vllm").__version__,
        "EngineArgs": arg_utils.EngineArgs,
        "SamplingParams": sampling.SamplingParams,
        "RequestOutputKind": sampling.RequestOutputKind,
        "LoRARequest": _import_real("vllm.lora.request").LoRARequest,
        "TokensPrompt": _import_real("vllm.inputs").TokensPrompt,
        "LLMEngine": _import_real("vllm.v1.engine.llm_engine").LLMEngine,
        "parallel_state": _import_real("vllm.distributed.parallel_state"),
    }


@pytest.fixture
def recorded(
    real: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tiny_lora_dir: Path,
) -> type[FakeVLLM]:
    """Run the backend with every feature on (LoRA, pass-through, full sampling, stop strings)."""
    fake = fake_vllm.install(monkeypatch)
    sampling = SamplingSettings(
        temperature=0.6,
        top_p=0.95,
        max_tokens=32,
        seed=7,
        top_k=20,
        min_p=0.05,
        repetition_penalty=1.1,
        stop=("</answer>",),
    )
    options = {
        "tensor_parallel_size": 1,
        "gpu_memory_utilization": 0.5,
        "enforce_eager": True,
        "revision": "main",
        "max_num_seqs": 64,
        "engine_args": {"max_num_batched_tokens": 4096},
    }
    config = BackendConfig(
        name="vllm", model=str(tiny_lora_dir), sampling=sampling, options=options
    )
    backend = VLLMBackend(config)
    request = GenerationRequest(key="k", uid="u", sample=0, prompt="What is 1 plus 2?", seed=3)
    stream = backend.generate([request, dataclasses.replace(request, key="k2", sample=1)])
    next(stream)
    stream.close()  # aborts the second request
    backend.close()
    return fake


def test_engine_arguments_are_fields_of_engine_args(
    real: dict[str, Any], recorded: type[FakeVLLM]
) -> None:
    fields = {f.name for f in dataclasses.fields(real["EngineArgs"])}
    ((_, kwargs),) = recorded.called("LLM")
    assert set(kwargs) <= fields, sorted(set(kwargs) - fields)
    assert kwargs["max_lora_rank"] == lora_rank(8)


def test_sampling_params_construct_with_the_real_class(
    real: dict[str, Any], recorded: type[FakeVLLM]
) -> None:
    for _, kwargs in recorded.called("SamplingParams"):
        values = dict(kwargs, output_kind=real["RequestOutputKind"][kwargs["output_kind"].name])
        params = real["SamplingParams"](**values)
        assert (params.top_k, params.max_tokens, params.seed) == (20, 32, 3)


def test_lora_request_and_tokens_prompt_construct_with_the_real_classes(
    real: dict[str, Any], recorded: type[FakeVLLM]
) -> None:
    for _, kwargs in recorded.called("LoRARequest"):
        assert real["LoRARequest"](**kwargs).lora_int_id == 1
    tokens_prompt = real["TokensPrompt"]
    allowed = tokens_prompt.__required_keys__ | tokens_prompt.__optional_keys__
    for _, kwargs in recorded.called("TokensPrompt"):
        assert set(kwargs) <= allowed
        assert tokens_prompt(**kwargs)["prompt_token_ids"]


def test_engine_loop_calls_bind_to_the_real_llm_engine(
    real: dict[str, Any], recorded: type[FakeVLLM]
) -> None:
    engine = real["LLMEngine"]
    for args, kwargs in recorded.called("add_request"):
        inspect.signature(engine.add_request).bind(object(), *args, **kwargs)
    inspect.signature(engine.step).bind(object())
    inspect.signature(engine.has_unfinished_requests).bind(object())
    inspect.signature(engine.abort_request).bind(object(), ["mathif-1"])


def test_gpu_memory_is_released_with_functions_that_exist(
    real: dict[str, Any], recorded: type[FakeVLLM]
) -> None:
    names = [name for name, _, _ in recorded.calls]
    for name in ("destroy_model_parallel", "destroy_distributed_environment"):
        assert name in names
        inspect.signature(getattr(real["parallel_state"], name)).bind()


def test_engine_fields_read_from_the_source_match_the_real_dataclass(
    real: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "vllm.engine.arg_utils")
    assert engine_fields() == {f.name for f in dataclasses.fields(real["EngineArgs"])}
