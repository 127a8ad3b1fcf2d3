"""The parent side of the grading workers: start, call with a deadline, kill, restart, close.

Waiting uses a reader thread per worker and ``queue.Queue.get(timeout=...)``, which works on any
thread and on every platform, so the time limit holds off the main thread and inside
pytest-xdist workers. A pool is tied to the process that created it: after a ``fork`` the child
starts its own workers instead of sharing the parent's pipes.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

__all__ = ["STARTUP_TIMEOUT", "WorkerFailed", "WorkerPool", "WorkerTimeout"]

#: Seconds a new worker may take to import sympy and report ready (not charged to any call).
STARTUP_TIMEOUT = 120.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# The worker must run this very copy of the package (a checkout is not always installed), and must
# not import modules from the working directory (a stray ``sympy.py`` there): drop the cwd entry
# ``-c`` puts first, and add the package root only when the interpreter would not find it anyway.
_BOOTSTRAP = """
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
if sys.argv[1] not in sys.path:
    sys.path.insert(0, sys.argv[1])
from mathif_pytest.grading._worker import main
main()
"""


class WorkerTimeout(Exception):
    """The worker did not answer within the deadline; it has been killed."""


class WorkerFailed(Exception):
    """The worker could not be started, or died, or could not grade the pair."""


class _Worker:
    """One worker process, its pipes and its reader thread. Used by one caller at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, _PACKAGE_ROOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.next_id = 0
        assert self.process.stdout is not None
        self.reader = threading.Thread(
            target=self._read, args=(self.process.stdout,), name="mathif-grader-reader", daemon=True
        )
        self.reader.start()
        self.started = time.perf_counter()
        self._await(None, STARTUP_TIMEOUT, starting=True)
        self.startup_seconds = time.perf_counter() - self.started

    def _read(self, stream: TextIO) -> None:
        try:
            for line in stream:
                with contextlib.suppress(ValueError):
                    self.replies.put(json.loads(line))
        except (OSError, ValueError):  # the stream was closed under us: same as end of stream
            pass
        self.replies.put(None)  # end of stream: the worker is gone

    def _await(self, request_id: int | None, timeout: float, *, starting: bool = False) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                reply = self.replies.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                self.kill()
                if starting:
                    raise WorkerFailed("worker did not start in time") from None
                raise WorkerTimeout from None
            if reply is None:
                self.kill()
                raise WorkerFailed("worker exited unexpectedly")
            if starting or reply.get("id") == request_id:
                return reply

    def call(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.next_id += 1
        request = {**payload, "id": self.next_id}
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        except (OSError, ValueError) as error:
            self.kill()
            raise WorkerFailed(f"worker pipe closed ({error})") from None
        reply: dict[str, Any] = self._await(self.next_id, timeout)
        return reply

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.reader is not threading.current_thread():
            self.reader.join(timeout=1.0)  # EOF comes promptly once the process is gone
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Ask the worker to exit (stdin EOF), then make sure it did."""
        stdin = self.process.stdin
        try:
            if stdin is not None:
                stdin.close()
            self.process.wait(timeout=2.0)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class WorkerPool:
    """Up to ``size`` workers, started on first use; each call borrows one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._all: list[_Worker] = []
        self._closed = False
        self.startups: list[float] = []
        for _ in range(size):
            self._idle.put(None)

    def _check_process(self) -> None:
        if os.getpid() != self._pid:  # forked: the pipes belong to the parent's workers
            with self._lock:
                self._pid = os.getpid()
                self._all = []
                self._idle = queue.LifoQueue()
                for _ in range(self.size):
                    self._idle.put(None)

    def _spawn(self) -> _Worker:
        worker = _Worker()
        with self._lock:
            self._all = [*(w for w in self._all if w.alive()), worker]
            self.startups.append(worker.startup_seconds)
        return worker

    def call(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request to an idle worker and wait at most ``timeout`` seconds for it.

        Raises:
            WorkerTimeout: no answer in time (that worker is killed; a new one replaces it).
            WorkerFailed: the pool is closed, or a worker could not start or died.
        """
        self._check_process()
        if self._closed:
            raise WorkerFailed("the grader has been closed")
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive():
                worker = self._spawn()
            return worker.call(payload, timeout)
        finally:
            self._idle.put(worker if worker is not None and worker.alive() else None)

    def pids(self) -> tuple[int, ...]:
        """Process ids of the workers currently running."""
        with self._lock:
            return tuple(w.process.pid for w in self._all if w.alive())

    def close(self) -> None:
        """Stop every worker this process started; later calls raise WorkerFailed."""
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        if os.getpid() != self._pid:
            return
        for worker in workers:
            worker.close()
