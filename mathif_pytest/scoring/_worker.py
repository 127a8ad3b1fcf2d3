"""What a scoring worker does: constraint checks and grading of chunks of responses.

A handler of :mod:`mathif_pytest.workers` (which starts the process, caps its memory and runs the
request loop): it loads the detectors and sympy once, then scores one chunk of :class:`Task` per
request. Each response's constraint checks run under one wall-clock bound (``check_timeout``),
which replaces nltk's per-regex-call timeouts (paid ~400,000 times on a long answer); each
answer's sympy steps run under ``grading_timeout``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mathif_pytest.constraints import Verdict, check_response
from mathif_pytest.grading._inline import InlineGrader
from mathif_pytest.grading._steps import Config
from mathif_pytest.scoring._tasks import Outcome, Task, WorkerSettings
from mathif_pytest.workers import Overrun, deadline

__all__ = ["handle", "preload", "score_task"]

_graders: dict[WorkerSettings, InlineGrader] = {}


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


def _import_nltk_tokenizers() -> None:
    """Import nltk's tokenizers without the ``nltk`` package's ``__init__`` (0.2 s of CPU).

    That ``__init__`` imports all of nltk (numpy, its corpus and parsing machinery, scipy.stats
    for one collocation score); this interpreter runs only our checks, which use three of its
    tokenizers and ``nltk.redos``. The packages are registered without running their
    ``__init__``, then the modules are imported as usual; on any failure, nltk is imported whole.
    """
    import importlib.util

    try:
        for name in ("nltk", "nltk.tokenize"):
            spec = importlib.util.find_spec(name)
            if spec is None:
                raise ImportError(name)
            sys.modules[name] = importlib.util.module_from_spec(spec)
        for name in ("redos", "tokenize.punkt", "tokenize.destructive", "tokenize.regexp"):
            importlib.import_module(f"nltk.{name}")
    except Exception:
        for name in [m for m in sys.modules if m == "nltk" or m.startswith("nltk.")]:
            del sys.modules[name]
        # nltk imports scipy.stats (1.2 s) for one collocation score we never use: hidden here
        sys.modules.setdefault("scipy", None)  # type: ignore[arg-type]
        importlib.import_module("nltk")


def preload() -> None:
    """Import and load everything scoring needs, before the first chunk arrives."""
    _import_nltk_tokenizers()
    from mathif_pytest.constraints._text import unguard_tokenizers
    from mathif_pytest.constraints.language import detect_language
    from mathif_pytest.grading._symbolic import SympyOps

    unguard_tokenizers()  # the per-response bound below replaces nltk's per-call timeouts
    detect_language("warm up the detector")
    SympyOps()


def handle(request: tuple[WorkerSettings, Sequence[Task]]) -> tuple[list[Outcome], bool]:
    """Score one chunk; asks to retire after an interrupted sympy step (its caches may be off)."""
    settings, tasks = request
    grader = _graders.get(settings)
    if grader is None:
        grader = _graders[settings] = InlineGrader(
            Config(settings.deviations, settings.grading_timeout)
        )
    outcomes = [score_task(task, grader, settings.check_timeout) for task in tasks]
    return outcomes, grader.overran
