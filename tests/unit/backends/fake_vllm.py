"""A recording test double of the ``vllm`` module, as strict as the real API.

Every class and method accepts exactly the keywords that *every* recorded vLLM version accepts
(``vllm_api/vllm-*.json``, written by ``vllm_api/record.py`` from the real signatures), so a
keyword that exists only in newer releases (``tokenization_kwargs`` on ``LLM.generate`` came in
0.16) fails here as it would fail for a user on the floor version. Every call is recorded in
``FakeVLLM.calls`` so that ``test_vllm_signatures.py`` can replay it against an installed vLLM.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib.machinery
import inspect
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

API_DIR = Path(__file__).parent / "vllm_api"


def recorded_apis() -> list[dict[str, Any]]:
    """Every recorded version's API, oldest first."""
    paths = sorted(API_DIR.glob("vllm-*.json"))
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def common_api() -> dict[str, list[str]]:
    """What every recorded version accepts: the intersection, keeping the floor's order."""
    apis = recorded_apis()
    common: dict[str, list[str]] = {}
    for key, values in apis[0].items():
        if isinstance(values, list):
            common[key] = [v for v in values if all(v in api[key] for api in apis)]
    return common


API = common_api()


def _checked(name: str, accepted: list[str], kwargs: dict[str, Any]) -> None:
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {unknown[0]!r}")


def _signature(names: list[str]) -> inspect.Signature:
    """A signature with the recorded names: the first ones positional, the rest keyword."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for n in names
    ]
    return inspect.Signature(params)


class RequestOutputKind(enum.Enum):
    CUMULATIVE = 0
    DELTA = 1
    FINAL_ONLY = 2


class SamplingParams:
    def __init__(self, **kwargs: Any) -> None:
        _checked("SamplingParams", API["sampling_params"], kwargs)
        if kwargs.get("top_k", -1) < -1 or kwargs.get("max_tokens", 1) < 1:
            raise ValueError("top_k must be at least -1 and max_tokens at least 1")
        self.kwargs = kwargs
        FakeVLLM.record("SamplingParams", (), kwargs)


class LoRARequest:
    def __init__(self, **kwargs: Any) -> None:
        _checked("LoRARequest", API["lora_request"], kwargs)
        self.kwargs = kwargs
        FakeVLLM.record("LoRARequest", (), kwargs)


def TokensPrompt(**kwargs: Any) -> dict[str, Any]:  # a TypedDict in vLLM
    _checked("TokensPrompt", API["tokens_prompt"], kwargs)
    FakeVLLM.record("TokensPrompt", (), kwargs)
    return dict(kwargs)


#: (text, token ids, finish reason), or with a fourth item: the stop string that ended it
#: (vLLM's ``CompletionOutput.stop_reason``; None otherwise).
Responder = Callable[[list[int], SamplingParams], tuple[Any, ...]]


def default_responder(prompt_ids: list[int], params: SamplingParams) -> tuple[str, list[int], str]:
    """Three tokens (fewer if max_tokens is smaller); ``length`` when max_tokens cut it."""
    max_tokens = params.kwargs["max_tokens"]
    tokens = [7] * min(3, max_tokens)
    reason = "length" if len(tokens) == max_tokens else "stop"
    return f"reply to {len(prompt_ids)} tokens", tokens, reason


class FakeEngine:
    """``LLM.llm_engine``: add_request, step (``per_step`` requests finish per step), abort."""

    def __init__(self, owner: FakeLLM) -> None:
        self._owner = owner
        self.queue: list[tuple[str, list[int], SamplingParams, Any]] = []
        self.aborted: list[str] = []
        self.steps = 0
        self.engine_core = types.SimpleNamespace(shutdown=owner.shutdown_core)

    def add_request(self, *args: Any, **kwargs: Any) -> None:
        bound = _signature(API["add_request"]).bind(self, *args, **kwargs)
        FakeVLLM.record("add_request", args, kwargs)
        values = bound.arguments
        prompt, params = values["prompt"], values["params"]
        if FakeVLLM.fail_generate is not None:
            raise FakeVLLM.fail_generate
        self.queue.append(
            (values["request_id"], prompt["prompt_token_ids"], params, values.get("lora_request"))
        )

    def has_unfinished_requests(self) -> bool:
        return bool(self.queue)

    def abort_request(self, request_ids: list[str]) -> None:
        self.aborted += request_ids
        self.queue = [q for q in self.queue if q[0] not in request_ids]

    def step(self) -> list[Any]:
        self.steps += 1
        done, self.queue = self.queue[: FakeVLLM.per_step], self.queue[FakeVLLM.per_step :]
        return [self._output(*item) for item in done]

    def _output(self, request_id: str, ids: list[int], params: SamplingParams, lora: Any) -> Any:
        assert params.kwargs["output_kind"] is RequestOutputKind.FINAL_ONLY
        text, tokens, reason, *stopped = FakeVLLM.responder(ids, params)
        completion = types.SimpleNamespace(
            text=text, finish_reason=reason, token_ids=tokens, stop_reason=(stopped or [None])[0]
        )
        return types.SimpleNamespace(
            request_id=request_id, finished=True, prompt_token_ids=ids, outputs=[completion]
        )


class FakeLLM:
    def __init__(self, **kwargs: Any) -> None:
        _checked("LLM", API["engine_args"], kwargs)
        FakeVLLM.record("LLM", (), kwargs)
        if FakeVLLM.fail_start is not None:
            raise FakeVLLM.fail_start
        import os
        import random
        import warnings

        warnings.warn("torch.jit.script_method is deprecated", DeprecationWarning, stacklevel=1)
        os.environ["LD_PRELOAD"] = "libgomp.so.1"  # vLLM edits the environment while starting
        if os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING") == "0":
            random.seed(0)  # and, in-process, reseeds the caller's RNGs
        self.kwargs = kwargs
        self.shutdowns = 0
        self.llm_engine = FakeEngine(self)
        FakeVLLM.instances.append(self)

    def shutdown_core(self) -> None:
        self.shutdowns += 1
        FakeVLLM.record("shutdown", (), {})


class FakeVLLM:
    """The double's shared state (reset by :func:`install`)."""

    instances: ClassVar[list[FakeLLM]] = []
    calls: ClassVar[list[tuple[str, tuple[Any, ...], dict[str, Any]]]] = []
    fail_start: Exception | None = None
    fail_generate: Exception | None = None
    per_step = 1
    responder: Responder = staticmethod(default_responder)

    @classmethod
    def record(cls, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        cls.calls.append((name, args, dict(kwargs)))

    @classmethod
    def called(cls, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for n, args, kwargs in cls.calls if n == name]


def _module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def _parallel_state() -> types.ModuleType:
    def destroy_model_parallel() -> None:
        FakeVLLM.record("destroy_model_parallel", (), {})

    def destroy_distributed_environment() -> None:
        FakeVLLM.record("destroy_distributed_environment", (), {})

    return _module(
        "vllm.distributed.parallel_state",
        destroy_model_parallel=destroy_model_parallel,
        destroy_distributed_environment=destroy_distributed_environment,
    )


def install(monkeypatch: pytest.MonkeyPatch) -> type[FakeVLLM]:
    """Put the double in ``sys.modules`` for one test, with fresh state."""
    engine_args = dataclasses.make_dataclass(
        "EngineArgs", [(name, Any, dataclasses.field(default=None)) for name in API["engine_args"]]
    )
    modules = {
        "vllm": _module("vllm", LLM=FakeLLM, SamplingParams=SamplingParams, __version__="fake"),
        "vllm.inputs": _module("vllm.inputs", TokensPrompt=TokensPrompt),
        "vllm.sampling_params": _module(
            "vllm.sampling_params",
            SamplingParams=SamplingParams,
            RequestOutputKind=RequestOutputKind,
        ),
        "vllm.lora": _module("vllm.lora"),
        "vllm.lora.request": _module("vllm.lora.request", LoRARequest=LoRARequest),
        "vllm.engine": _module("vllm.engine"),
        "vllm.engine.arg_utils": _module("vllm.engine.arg_utils", EngineArgs=engine_args),
        "vllm.distributed": _module("vllm.distributed"),
        "vllm.distributed.parallel_state": _parallel_state(),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(FakeVLLM, "instances", [])
    monkeypatch.setattr(FakeVLLM, "calls", [])
    monkeypatch.setattr(FakeVLLM, "fail_start", None)
    monkeypatch.setattr(FakeVLLM, "fail_generate", None)
    monkeypatch.setattr(FakeVLLM, "per_step", 1)
    monkeypatch.setattr(FakeVLLM, "responder", staticmethod(default_responder))
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)
    return FakeVLLM
