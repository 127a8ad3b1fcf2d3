"""The batch grader: extraction, decision cache, fast path, and sympy worker processes."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mathif_pytest.grading._decide import Decision
from mathif_pytest.grading._grades import (
    AnswerGrade,
    Grade,
    from_decision,
    internal_error,
    make_grade,
)
from mathif_pytest.grading._match import Extraction, extract
from mathif_pytest.grading._memo import memo_disabled
from mathif_pytest.grading._remote import SympyWorkers
from mathif_pytest.grading._steps import CacheKey, Config, DecisionCache, quick_decision
from mathif_pytest.protocol import Deviations
from mathif_pytest.workers import WorkerGone

__all__ = ["Grader"]


@dataclass(frozen=True, slots=True)
class _Job:
    """One pair that needs a worker: where its grade goes and what to send."""

    index: int
    reference: str
    extraction: Extraction
    key: CacheKey


#: What a worker run gives: the decision, or the detail of an UNGRADABLE grade.
_Outcome = Decision | str


class Grader:
    """Grades answers in batches, with a decision cache and sympy worker processes.

    Use it as a context manager (or call :meth:`close`) to stop its workers; a grader that is
    garbage-collected or still open at interpreter exit stops them too.

    Args:
        deviations: opt-in departures from the official protocol (``accept_hash_answer`` and
            ``no_percent_leniency`` concern grading).
        timeout: wall-clock seconds allowed for the sympy part of one answer; past it the answer
            is ``UNGRADABLE``.
        jobs: worker processes, i.e. answers graded in parallel by :meth:`grade_many`.
        cache: remember decisions by (reference, extracted answer, deviations), so repeated
            answers are free. ``Grader(jobs=1, cache=False)`` grades every answer from scratch,
            one at a time: the naive configuration for benchmarks.
        fast_path: decide in-process what exact arithmetic decides (plain numbers, fractions,
            strings) exactly as the official cascade would; ``False`` sends every answer that
            reaches a sympy step to a worker (for benchmarks).

    Raises:
        ValueError: ``timeout`` is not positive or ``jobs`` is below 1.
    """

    def __init__(
        self,
        *,
        deviations: Deviations = Deviations(),  # noqa: B008 - frozen, so sharing it is safe
        timeout: float = 5.0,
        jobs: int = 1,
        cache: bool = True,
        fast_path: bool = True,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"Grader: timeout={timeout!r} is invalid; use a positive number")
        if jobs < 1:
            raise ValueError(f"Grader: jobs={jobs!r} is invalid; use 1 or more")
        self.jobs = jobs
        self.fast_path = fast_path
        self._config = Config(deviations, float(timeout))
        self._cache = DecisionCache(enabled=cache)
        self._pool = SympyWorkers(jobs)
        self._finalizer = weakref.finalize(self, self._pool.close)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def deviations(self) -> Deviations:
        """The deviations this grader applies."""
        return self._config.deviations

    @property
    def timeout(self) -> float:
        """Seconds allowed for the sympy part of one answer."""
        return self._config.timeout

    @property
    def worker_startup_seconds(self) -> tuple[float, ...]:
        """How long each worker started so far took to import sympy and report ready."""
        return self._pool.startups()

    @property
    def worker_pids(self) -> tuple[int, ...]:
        """Process ids of this grader's running worker processes (for diagnostics)."""
        return self._pool.pids()

    def close(self) -> None:
        """Stop the worker processes. Grading afterwards needing a worker is ``UNGRADABLE``."""
        self._finalizer()

    def grade(self, reference: str, text: str) -> Grade:
        """Grade the answer segment ``text`` against ``reference``; see :func:`grade_answer`."""
        return self._grade_all([(reference, text)], self._config)[0]

    def grade_many(self, pairs: Sequence[tuple[str, str]]) -> list[Grade]:
        """Grade (reference, answer segment) pairs; sympy work runs on ``jobs`` workers.

        Returns:
            One :class:`Grade` per pair, in the order of ``pairs``.
        """
        return self._grade_all(pairs, self._config)

    def _grade_all(self, pairs: Sequence[tuple[str, str]], config: Config) -> list[Grade]:
        grades: list[Grade | None] = [None] * len(pairs)
        pending: list[_Job] = []
        for index, (reference, text) in enumerate(pairs):
            started = self._start(index, reference, text, config)
            if isinstance(started, Grade):
                grades[index] = started
            else:
                pending.append(started)
        outcomes = self._run_workers(pending, config)
        for job in pending:
            grades[job.index] = _job_grade(job, outcomes[self._group(job)])
        return [grade for grade in grades if grade is not None]

    def _group(self, job: _Job) -> CacheKey | int:
        """Pairs with the same key are graded once when caching (not in the naive setting)."""
        return job.key if self._cache.enabled else job.index

    def _start(self, index: int, reference: str, text: str, config: Config) -> Grade | _Job:
        """Extract, then try the cache and the fast path; a :class:`_Job` if a worker must."""
        extraction: Extraction | None = None
        try:
            hashes = config.deviations.accept_hash_answer
            extraction = extract(text, accept_hash_answer=hashes)
            key = (reference, extraction.answer, config.tora)
            decision = self._cache.get(key)
            if decision is None and self.fast_path:
                with memo_disabled(not self._cache.enabled):
                    decision = quick_decision(reference, extraction.answer, config.tora)
            if decision is None:
                return _Job(index, reference, extraction, key)
            self._cache.remember(key, decision)
            return from_decision(decision, extraction, reference)
        except Exception as error:  # a bug of ours must not crash a test run
            return internal_error(error, extraction, reference)

    def _run_workers(self, pending: list[_Job], config: Config) -> dict[CacheKey | int, _Outcome]:
        firsts = list({self._group(job): job for job in reversed(pending)}.values())[::-1]
        if self.jobs == 1 or len(firsts) <= 1:
            outcomes = [self._in_worker(job, config) for job in firsts]
        else:
            with ThreadPoolExecutor(min(self.jobs, len(firsts)), "mathif-grader") as executor:
                outcomes = list(executor.map(lambda job: self._in_worker(job, config), firsts))
        return {self._group(job): out for job, out in zip(firsts, outcomes, strict=True)}

    def _in_worker(self, job: _Job, config: Config) -> _Outcome:
        payload: dict[str, Any] = {
            "reference": job.reference,
            "extracted": job.extraction.answer,
            "include_percentage": config.tora.include_percentage,
            "tolerance": config.tora.tolerance,
            "elementwise_lists": config.tora.elementwise_lists,
            "memo": self._cache.enabled,
        }
        try:
            reply = self._pool.call(payload, config.timeout)
        except WorkerGone as error:
            if error.timed_out:
                return f"grading timed out after {config.timeout:g} s"
            return f"grading worker failed ({error})"
        if not reply.get("ok"):
            return f"internal grader error ({reply.get('error')})"
        decision = Decision(bool(reply["correct"]), str(reply["how"]))
        self._cache.remember(job.key, decision)
        return decision


def _job_grade(job: _Job, outcome: _Outcome) -> Grade:
    if isinstance(outcome, Decision):
        return from_decision(outcome, job.extraction, job.reference)
    return make_grade(AnswerGrade.UNGRADABLE, job.extraction, job.reference, outcome)
