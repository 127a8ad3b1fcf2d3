"""Worker processes that run the sympy steps of grading, each call under a wall-clock deadline.

A worker is a fresh interpreter running :func:`main` (started by :mod:`._pool`) (so nothing is
forked from a process that may hold torch threads, and no user ``__main__`` is re-imported) that
imports only sympy, pylatexenc and this package's grading modules. It reads one JSON request per
line on stdin and answers one JSON line on a private copy of stdout. The parent waits for each
answer with a timeout from whatever thread it runs on (no signals), and kills and replaces a
worker that overruns. A worker exits on its own when its stdin closes, so even a parent killed
with SIGKILL leaves no worker behind.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, TextIO

__all__ = ["main"]

#: Address space cap for a worker, so that a pathological answer fails instead of swapping.
_MEMORY_LIMIT_BYTES = 4 * 1024**3


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


def _private_stdout() -> TextIO:
    """A copy of stdout for answers; fd 1 itself goes to stderr so stray prints cannot corrupt."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    from mathif_pytest.grading._decide import decide
    from mathif_pytest.grading._memo import memo_disabled
    from mathif_pytest.grading._symbolic import SympyOps
    from mathif_pytest.grading._tora import ToraSettings

    settings = ToraSettings(
        include_percentage=bool(request["include_percentage"]),
        elementwise_lists=bool(request.get("elementwise_lists", False)),
        tolerance=float(request["tolerance"]),
    )
    try:
        with memo_disabled(not request.get("memo", True)):
            decision = decide(
                str(request["reference"]),
                str(request["extracted"]),
                settings=settings,
                ops=SympyOps(),
            )
    except Exception as error:  # reported to the parent, which grades the pair UNGRADABLE
        return {"id": request["id"], "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"id": request["id"], "ok": True, "correct": decision.correct, "how": decision.how}


def _warm_up() -> None:
    """Import and exercise sympy once, so the first real request is not charged for it."""
    from mathif_pytest.grading._decide import decide
    from mathif_pytest.grading._symbolic import SympyOps
    from mathif_pytest.grading._tora import ToraSettings

    decide("\\frac{\\sqrt{2}}{2}", "1/sqrt(2)", settings=ToraSettings(), ops=SympyOps())


def main() -> None:
    """Serve grading requests until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    channel = _private_stdout()
    _limit_memory()
    _warm_up()
    channel.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    channel.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        channel.write(json.dumps(_answer(request)) + "\n")
        channel.flush()
    # Nothing to clean up: skip the interpreter's slow teardown of sympy's objects.
    os._exit(0)


if __name__ == "__main__":
    main()
