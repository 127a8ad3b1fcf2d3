"""The parent side of the scoring workers: start, send chunks, wait with a deadline, replace.

Responses are cut into chunks that idle workers take in turn; each outcome goes back to the
index of its response, so the results do not depend on the number of workers or on timing.
A worker that dies or overruns its backstop deadline (C code that never returns to the
interpreter, where the in-worker ``SIGALRM`` bound cannot act) is killed; its chunk is then scored
one response at a time in fresh workers, and a response that kills a worker again is reported
as not checked and UNGRADABLE, with the reason. A pool is tied to the process that created it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

from mathif_pytest.constraints import Verdict
from mathif_pytest.grading import AnswerGrade, Grade
from mathif_pytest.grading._grades import make_grade
from mathif_pytest.scoring._tasks import Outcome, Task, WorkerSettings

__all__ = ["CHUNK", "STARTUP_SECONDS", "ScoringPool"]

#: Responses per message: large enough to amortise pickling, small enough to balance the load.
CHUNK = 48
#: Seconds a new worker may take to import and load everything (added to its first deadline).
STARTUP_SECONDS = 120.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# As for the grading workers: run this very copy of the package, never the working directory's
# modules (the cwd entry that -c puts first is dropped).
_BOOTSTRAP = """
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
if sys.argv[1] not in sys.path:
    sys.path.insert(0, sys.argv[1])
from mathif_pytest.scoring._worker import main
main()
"""


class WorkerGone(Exception):
    """The worker died, or did not answer in time (it has been killed)."""


class _Worker:
    """One worker process and its two pipes. Used by one thread at a time."""

    def __init__(self) -> None:
        to_child, self._outbox_fd = os.pipe()
        self._inbox_fd, from_child = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, _PACKAGE_ROOT, str(to_child), str(from_child)],
            pass_fds=(to_child, from_child),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self.outbox = Connection(self._outbox_fd, readable=False)
        self.inbox = Connection(self._inbox_fd, writable=False)
        self.fresh = True
        self.retired = False

    def call(self, message: object, timeout: float) -> list[Outcome]:
        """Send one chunk and wait for its outcomes, at most ``timeout`` seconds (plus start-up)."""
        if self.fresh:
            timeout += STARTUP_SECONDS
        try:
            self.outbox.send(message)
            if not self.inbox.poll(timeout):
                raise WorkerGone(f"no answer within {timeout:g} s")
            outcomes, self.retired = self.inbox.recv()
        except (OSError, EOFError) as error:
            self.kill()
            raise WorkerGone(f"the worker exited ({type(error).__name__})") from None
        except WorkerGone:
            self.kill()
            raise
        self.fresh = False
        return list(outcomes)

    def alive(self) -> bool:
        return not self.retired and self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.close()

    def close(self) -> None:
        """Close the pipes (the worker exits on EOF) and reap it."""
        for connection in (self.outbox, self.inbox):
            with contextlib.suppress(OSError):
                connection.close()
        try:
            self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _failed(task: Task, reason: str) -> Outcome:
    detail = f"not checked: {reason}; counted as not followed"
    verdicts = tuple(
        Verdict(constraint_id=c.constraint_id, followed=False, detail=detail)
        for c in (task.checkers if task.constrained else ())
    )
    grade: Grade = make_grade(AnswerGrade.UNGRADABLE, None, task.reference, reason)
    return verdicts, grade


class ScoringPool:
    """Up to ``jobs`` scoring workers, started on first use (or by :meth:`start`).

    Use it as a context manager, or call :meth:`close`.

    Args:
        jobs: worker processes; 1 is the serial reference (still out of process, so that the
            per-response bound holds).
    """

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ValueError(f"ScoringPool: jobs={jobs!r} is invalid; use 1 or more")
        self.jobs = jobs
        self._pid = os.getpid()
        self._workers: list[_Worker | None] = [None] * jobs
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self, count: int | None = None) -> None:
        """Start workers now (they load in the background), so the first chunk does not wait."""
        for slot in range(min(self.jobs, count or self.jobs)):
            self._worker(slot)

    def _worker(self, slot: int) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("ScoringPool: used after close()")
            if os.getpid() != self._pid:  # forked: the pipes belong to the parent's workers
                self._pid, self._workers = os.getpid(), [None] * self.jobs
            worker = self._workers[slot]
            if worker is None or not worker.alive():
                if worker is not None:
                    worker.close()
                worker = self._workers[slot] = _Worker()
            return worker

    def score(self, tasks: Sequence[Task], settings: WorkerSettings) -> list[Outcome]:
        """Score ``tasks``; one outcome per task, in order, whatever the number of workers."""
        chunks: queue.SimpleQueue[tuple[int, Sequence[Task]]] = queue.SimpleQueue()
        for start in range(0, len(tasks), CHUNK):
            chunks.put((start, tasks[start : start + CHUNK]))
        outcomes: list[Outcome | None] = [None] * len(tasks)

        def drain(slot: int) -> None:
            while True:
                try:
                    start, chunk = chunks.get_nowait()
                except queue.Empty:
                    return
                for offset, outcome in enumerate(self._chunk(slot, chunk, settings)):
                    outcomes[start + offset] = outcome

        slots = min(self.jobs, max(1, -(-len(tasks) // CHUNK)))
        with ThreadPoolExecutor(slots, "mathif-scoring") as executor:
            list(executor.map(drain, range(slots)))
        return [outcome for outcome in outcomes if outcome is not None]

    def _chunk(self, slot: int, chunk: Sequence[Task], settings: WorkerSettings) -> list[Outcome]:
        try:
            return self._worker(slot).call((settings, list(chunk)), _budget(len(chunk), settings))
        except WorkerGone:
            return [self._single(slot, task, settings) for task in chunk]

    def _single(self, slot: int, task: Task, settings: WorkerSettings) -> Outcome:
        try:
            return self._worker(slot).call((settings, [task]), _budget(1, settings))[0]
        except WorkerGone as error:
            return _failed(task, f"the scoring worker failed on this response ({error})")

    def close(self) -> None:
        """Stop the workers; later use raises RuntimeError."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, [None] * self.jobs
        if os.getpid() != self._pid:
            return
        for worker in workers:
            if worker is not None:
                worker.close()


def _budget(count: int, settings: WorkerSettings) -> float:
    """The backstop for ``count`` responses: every in-worker bound, plus slack."""
    return 10.0 + count * (settings.check_timeout + settings.grading_timeout + 1.0)
