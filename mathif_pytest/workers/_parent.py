"""The parent side: start a worker, call it with a deadline, kill, replace, close.

Waiting polls the worker's pipe with a timeout, which works on any thread (no signals), so the
deadlines hold off the main thread and inside pytest-xdist workers. :class:`WorkerSlots` is tied
to the process that created it: after a ``fork`` the child starts its own workers instead of
sharing the parent's pipes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["STARTUP_SECONDS", "Worker", "WorkerGone", "WorkerSlots"]

#: Seconds a new worker may take to import and load everything (never charged to a request).
STARTUP_SECONDS = 120.0
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
from mathif_pytest.workers._child import main
main()
"""


class WorkerGone(Exception):
    """The worker could not start, died, or did not answer in time (it has been killed).

    Attributes:
        timed_out: the request's deadline passed (rather than the worker dying or never starting).
    """

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class Worker:
    """One worker process serving ``handler`` (a module name) and its two pipes.

    Used by one thread at a time. It starts loading at once; the first :meth:`call` waits for it
    to be ready (up to :data:`STARTUP_SECONDS`) before its own deadline starts.
    """

    def __init__(self, handler: str) -> None:
        to_child, outbox_fd = os.pipe()
        inbox_fd, from_child = os.pipe()
        self.started = time.monotonic()
        command = [sys.executable, "-c", _BOOTSTRAP, _PACKAGE_ROOT, handler]
        try:
            self.process = subprocess.Popen(
                [*command, str(to_child), str(from_child)],
                pass_fds=(to_child, from_child),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as error:  # out of processes or file descriptors
            for fd in (to_child, outbox_fd, inbox_fd, from_child):
                os.close(fd)
            raise WorkerGone(f"could not start a worker ({error})") from None
        os.close(to_child)
        os.close(from_child)
        self._outbox = Connection(outbox_fd, readable=False)
        self._inbox = Connection(inbox_fd, writable=False)
        self.startup_seconds: float | None = None
        self.retired = False

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def call(self, request: object, timeout: float) -> Any:
        """Send ``request``; the handler's reply, waited for at most ``timeout`` s once ready.

        Raises:
            WorkerGone: the worker died, did not start, or overran (it has been killed).
        """
        try:
            if self.startup_seconds is None:
                self._await_ready()  # before sending: a large request would block until then
            self._outbox.send(request)
            reply, self.retired = self._receive(timeout)
        except (OSError, EOFError) as error:
            self.kill()
            raise WorkerGone(f"the worker exited ({type(error).__name__})") from None
        if self.retired:  # it exits after this reply: reap it now
            self.close()
        return reply

    def _await_ready(self) -> None:
        kind, ready_at = self._receive(STARTUP_SECONDS, starting=True)
        if kind != "ready":
            self.kill()
            raise WorkerGone("the worker did not report ready")
        self.startup_seconds = max(0.0, float(ready_at) - self.started)

    def _receive(self, timeout: float, *, starting: bool = False) -> tuple[Any, bool]:
        if not self._inbox.poll(timeout):
            self.kill()
            if starting:
                raise WorkerGone(f"the worker did not start within {timeout:g} s")
            raise WorkerGone(f"no answer within {timeout:g} s", timed_out=True)
        first, second = self._inbox.recv()
        return first, second

    def alive(self) -> bool:
        """Whether it can take a request (running, and not retired)."""
        return not self.retired and self.process.poll() is None

    def kill(self) -> None:
        """Kill the process (if still running), then close the pipes and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.close()

    def close(self) -> None:
        """Close the pipes (the worker exits on end of input) and reap it."""
        self.hang_up()
        self.reap()

    def hang_up(self) -> None:
        """Close the pipes: the worker exits on end of input (:meth:`reap` waits for it)."""
        for connection in (self._outbox, self._inbox):
            with contextlib.suppress(OSError):
                connection.close()

    def reap(self) -> None:
        """Wait for the process to exit (2 s, then kill it)."""
        try:
            self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WorkerSlots:
    """``size`` slots, each holding one worker of ``handler``, started on first use.

    Args:
        size: the number of slots (workers at most).
        handler: the handler module the workers serve.
        owner: named in the error raised after :meth:`close`.
    """

    def __init__(self, size: int, handler: str, owner: str) -> None:
        self.size = size
        self.handler = handler
        self.owner = owner
        self._pid = os.getpid()
        self._workers: list[Worker | None] = [None] * size
        self._startups: list[float] = []  # of the workers replaced so far
        self._lock = threading.Lock()
        self.closed = False

    def get(self, slot: int) -> Worker:
        """The slot's worker, started now if there is none or the last one died or retired.

        Raises:
            RuntimeError: the slots have been closed.
            WorkerGone: a new worker could not be started.
        """
        with self._lock:
            if self.closed:
                raise RuntimeError(f"{self.owner}: used after close()")
            if os.getpid() != self._pid:  # forked: the pipes belong to the parent's workers
                self._pid, self._workers = os.getpid(), [None] * self.size
            worker = self._workers[slot]
            if worker is None or not worker.alive():
                if worker is not None:
                    worker.close()
                    if worker.startup_seconds is not None:
                        self._startups.append(worker.startup_seconds)
                worker = self._workers[slot] = Worker(self.handler)
            return worker

    def start(self, count: int | None = None) -> None:
        """Start workers in the first ``count`` slots now (they load in the background)."""
        for slot in range(min(self.size, count or self.size)):
            with contextlib.suppress(WorkerGone):  # tried again, and reported, when used
                self.get(slot)

    def pids(self) -> tuple[int, ...]:
        """Process ids of the workers currently running."""
        with self._lock:
            return tuple(w.pid for w in self._workers if w is not None and w.alive())

    def startups(self) -> tuple[float, ...]:
        """Seconds each worker started so far took to load and report ready (when it has)."""
        with self._lock:
            current = (w.startup_seconds for w in self._workers if w is not None)
            return (*self._startups, *(s for s in current if s is not None))

    def close(self) -> None:
        """Stop the workers; later :meth:`get` raises RuntimeError."""
        with self._lock:
            self.closed = True
            workers, self._workers = self._workers, [None] * self.size
        if os.getpid() != self._pid:
            return
        running = [worker for worker in workers if worker is not None]
        for worker in running:  # all told first: they exit in parallel
            worker.hang_up()
        for worker in running:
            worker.reap()
