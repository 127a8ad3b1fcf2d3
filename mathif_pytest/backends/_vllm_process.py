"""Keep this process whole around vLLM: warnings, environment, RNGs, and engine processes.

Facts from VLLM_IN_PYTEST.md: vLLM's imports warn (fatal under ``filterwarnings = error``);
starting the engine edits ``os.environ`` and, in-process, reseeds ``random``/numpy/torch; its
EngineCore does not notice its parent's death, and a Ctrl-C during engine start-up is swallowed.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from types import FrameType, ModuleType
from typing import Any

from mathif_pytest.backends._deps import import_optional

__all__ = [
    "SignalGuard",
    "quiet_warnings",
    "release_memory",
    "restored_process_state",
    "shutdown_engine",
]


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """VLLM's imports warn (torch.jit deprecations); under ``-W error`` that would be fatal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _in_process() -> bool:
    return os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "1") == "0"


@contextlib.contextmanager
def restored_process_state() -> Iterator[None]:
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


class SignalGuard:
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


def shutdown_engine(llm: Any) -> None:
    """Stop the engine's processes (``LLM`` has no ``shutdown()`` in the supported versions)."""
    engine_core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if engine_core is not None:
        engine_core.shutdown()
    elif callable(getattr(llm, "shutdown", None)):
        llm.shutdown()


def release_memory() -> None:
    """Give the GPU memory of a shut-down engine back: what vLLM's own tests do after ``del llm``.

    Tears down vLLM's model-parallel groups and torch.distributed state (an in-process engine
    keeps them, with their buffers), collects the engine's objects, and empties torch's CUDA
    cache so that the memory returns to the device, not only to pytest's allocator.
    """
    parallel_state = import_optional("vllm.distributed.parallel_state", "vllm")
    parallel_state.destroy_model_parallel()
    parallel_state.destroy_distributed_environment()
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
