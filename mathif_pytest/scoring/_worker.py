"""A scoring worker process: constraint checks and grading of chunks of responses.

The worker is a fresh interpreter started by :mod:`._pool` (never a fork of a process that may
hold torch or vLLM threads, and no user ``__main__`` is re-imported). It loads the detectors and
sympy once, then answers one pickled chunk of :class:`Task` at a time over a pipe. Each
response's constraint checks run under one wall-clock bound (``check_timeout``), which replaces
nltk's per-regex-call timeouts (paid ~400,000 times on a long answer); each answer's sympy steps
run under ``grading_timeout``. It exits when the pipe closes, so a parent killed with SIGKILL
leaves no worker behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from multiprocessing.connection import Connection

from mathif_pytest.constraints import Verdict, check_response
from mathif_pytest.grading._grader import Config
from mathif_pytest.grading._inline import InlineGrader, Overrun, deadline
from mathif_pytest.scoring._tasks import Outcome, Task, WorkerSettings

__all__ = ["main", "score_task"]

#: Address-space cap, so that a pathological answer fails instead of swapping the machine.
_MEMORY_LIMIT_BYTES = 4 * 1024**3


def _bounded_checks(task: Task, seconds: float) -> tuple[Verdict, ...]:
    """The verdicts, all within ``seconds``; past it, the unfinished ones are not followed."""
    done: list[Verdict] = []
    try:
        with deadline(seconds):
            for checker in task.checkers:
                done.extend(check_response([checker], task.answer))
    except Overrun:
        detail = f"checking took over {seconds:g} s (pathological text?); counted as not followed"
        done.extend(
            Verdict(constraint_id=c.constraint_id, followed=False, detail=detail)
            for c in task.checkers[len(done) :]
        )
    return tuple(done)


def score_task(task: Task, grader: InlineGrader, check_timeout: float) -> Outcome:
    """Check and grade one response (in this process; the caller provides the isolation)."""
    verdicts = _bounded_checks(task, check_timeout) if task.constrained else ()
    return verdicts, grader.grade(task.reference, task.answer)


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no cap
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _MEMORY_LIMIT_BYTES
    if hard != resource.RLIM_INFINITY:
        limit = min(hard, limit)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _preload() -> None:
    """Import and load everything scoring needs, before the first chunk arrives."""
    # nltk imports scipy.stats (1.2 s) for one collocation score we never use; this interpreter
    # runs only our scoring code, so scipy is hidden from it (nltk falls back without it).
    sys.modules.setdefault("scipy", None)  # type: ignore[arg-type]
    from mathif_pytest.constraints._text import unguard_tokenizers
    from mathif_pytest.constraints.language import detect_language
    from mathif_pytest.grading._symbolic import SympyOps

    unguard_tokenizers()  # the per-response bound below replaces nltk's per-call timeouts
    detect_language("warm up the detector")
    SympyOps()


def _serve(inbox: Connection, outbox: Connection) -> None:
    graders: dict[WorkerSettings, InlineGrader] = {}
    while True:
        try:
            settings, tasks = inbox.recv()
        except EOFError:
            return
        grader = graders.get(settings)
        if grader is None:
            grader = graders[settings] = InlineGrader(
                Config(settings.deviations, settings.grading_timeout)
            )
        outcomes = [score_task(task, grader, settings.check_timeout) for task in tasks]
        # After an interrupted sympy step its caches may be inconsistent: retire, be replaced.
        retiring = grader.overran
        outbox.send((outcomes, retiring))
        if retiring:
            return


def main() -> None:
    """Serve chunks on the pipe file descriptors given as ``argv[2]`` (in) and ``argv[3]``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    inbox = Connection(int(sys.argv[2]), writable=False)
    outbox = Connection(int(sys.argv[3]), readable=False)
    _limit_memory()
    _preload()
    with contextlib.suppress(EOFError, OSError):
        _serve(inbox, outbox)
    # Nothing to clean up: skip the interpreter's slow teardown of sympy's objects.
    os._exit(0)
