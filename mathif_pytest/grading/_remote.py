"""The sympy steps of :class:`~mathif_pytest.grading.Grader` in worker processes.

Both sides of it: :func:`preload` and :func:`handle` run in the workers (a handler of
:mod:`mathif_pytest.workers`: a worker imports only sympy, pylatexenc and the grading modules);
:class:`SympyWorkers` is the parent's pool of them, each call under the grading time limit, on any
thread (the parent kills and replaces a worker that overruns it).
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any

from mathif_pytest.workers import Worker, WorkerGone, WorkerSlots

__all__ = ["SympyWorkers", "handle", "preload"]


def preload() -> None:
    """Import and exercise sympy once, so the first real request is not charged for it."""
    from mathif_pytest.grading._decide import decide
    from mathif_pytest.grading._symbolic import SympyOps
    from mathif_pytest.grading._tora import ToraSettings

    decide("\\frac{\\sqrt{2}}{2}", "1/sqrt(2)", settings=ToraSettings(), ops=SympyOps())


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Decide one (reference, extracted answer) pair with sympy; never retires."""
    from mathif_pytest.grading._decide import decide
    from mathif_pytest.grading._memo import memo_disabled
    from mathif_pytest.grading._symbolic import SympyOps
    from mathif_pytest.grading._tora import ToraSettings

    settings = ToraSettings(
        include_percentage=bool(request["include_percentage"]),
        elementwise_lists=bool(request["elementwise_lists"]),
        tolerance=float(request["tolerance"]),
    )
    try:
        with memo_disabled(not request["memo"]):
            decision = decide(
                str(request["reference"]),
                str(request["extracted"]),
                settings=settings,
                ops=SympyOps(),
            )
    except Exception as error:  # reported to the parent, which grades the pair UNGRADABLE
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}, False
    return {"ok": True, "correct": decision.correct, "how": decision.how}, False


class SympyWorkers:
    """Up to ``size`` sympy workers, started on first use; each call borrows an idle one."""

    def __init__(self, size: int) -> None:
        self._slots = WorkerSlots(size, __name__, "Grader")
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._idle: queue.LifoQueue[int] = queue.LifoQueue()
        for slot in reversed(range(size)):
            self._idle.put(slot)

    def call(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Decide ``payload`` on an idle worker, waiting at most ``timeout`` seconds for it.

        Raises:
            WorkerGone: no answer in time (``timed_out``; the worker is killed and will be
                replaced), or the grader is closed, or a worker could not start or died.
        """
        idle = self._idle_slots()
        slot = idle.get()
        try:
            reply: dict[str, Any] = self._worker(slot).call(payload, timeout)
            return reply
        finally:
            idle.put(slot)

    def _idle_slots(self) -> queue.LifoQueue[int]:
        with self._lock:
            if os.getpid() != self._pid:  # forked: slots borrowed by the parent's threads
                self._pid, self._idle = os.getpid(), queue.LifoQueue()
                for slot in reversed(range(self._slots.size)):
                    self._idle.put(slot)
            return self._idle

    def _worker(self, slot: int) -> Worker:
        try:
            return self._slots.get(slot)
        except RuntimeError:
            raise WorkerGone("the grader has been closed") from None

    def pids(self) -> tuple[int, ...]:
        """Process ids of the workers currently running."""
        return self._slots.pids()

    def startups(self) -> tuple[float, ...]:
        """Seconds each worker started so far took to load sympy and report ready."""
        return self._slots.startups()

    def close(self) -> None:
        """Stop the workers; later calls raise WorkerGone."""
        self._slots.close()
