"""Scoring on worker processes (:mod:`mathif_pytest.workers`): chunks shared out, results in order.

Responses are cut into chunks that idle workers take in turn; each outcome goes back to the
index of its response, so the results do not depend on the number of workers or on timing.
A worker that dies or overruns its backstop deadline (C code that never returns to the
interpreter, where the in-worker ``SIGALRM`` bound cannot act) is killed; its chunk is then scored
one response at a time in fresh workers, and a response that kills a worker again is reported
as not checked and UNGRADABLE, with the reason. A pool is tied to the process that created it.
"""

from __future__ import annotations

import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from mathif_pytest.constraints import Verdict
from mathif_pytest.grading import AnswerGrade, Grade
from mathif_pytest.grading._grades import make_grade
from mathif_pytest.scoring._tasks import Outcome, Task, WorkerSettings
from mathif_pytest.workers import Worker, WorkerGone, WorkerSlots

__all__ = ["CHUNK", "ScoringPool"]

#: Responses per message: large enough to amortise pickling, small enough to balance the load.
CHUNK = 48


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
        self._slots = WorkerSlots(jobs, "mathif_pytest.scoring._worker", "ScoringPool")

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self, count: int | None = None) -> None:
        """Start workers now (they load in the background), so the first chunk does not wait."""
        self._slots.start(count)

    def _worker(self, slot: int) -> Worker:
        return self._slots.get(slot)

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
            return list(self._worker(slot).call((settings, chunk), _budget(len(chunk), settings)))
        except WorkerGone:
            return [self._single(slot, task, settings) for task in chunk]

    def _single(self, slot: int, task: Task, settings: WorkerSettings) -> Outcome:
        try:
            worker = self._worker(slot)
            outcomes: list[Outcome] = worker.call((settings, [task]), _budget(1, settings))
            return outcomes[0]
        except WorkerGone as error:
            return _failed(task, f"the scoring worker failed on this response ({error})")

    def close(self) -> None:
        """Stop the workers; later use raises RuntimeError."""
        self._slots.close()


def _budget(count: int, settings: WorkerSettings) -> float:
    """The backstop for ``count`` responses: every in-worker bound, plus slack."""
    return 10.0 + count * (settings.check_timeout + settings.grading_timeout + 1.0)
