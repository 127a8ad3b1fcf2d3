"""Worker processes: fresh interpreters that serve requests over pipes, under deadlines.

One machinery for every kind of worker this package runs (the scoring workers, the sympy
workers of :class:`~mathif_pytest.grading.Grader`). A worker is a fresh interpreter, never a
fork (so it is safe beside torch or vLLM threads, inside pytest-xdist workers, and no user
``__main__`` is re-imported), that runs this very copy of the package, caps its address space,
keeps stray output away from the channel, loads what its *handler* needs before the first request,
then answers pickled requests one at a time. The parent waits for each answer with a deadline
from any thread, and kills and replaces a worker that overruns or dies. A worker exits when its
pipe closes, so a parent killed with SIGKILL leaves none behind.

A handler is a module of this package with two functions, named to the worker at start-up:
``preload() -> None`` and ``handle(request) -> (reply, retire)``; ``retire`` asks to be replaced
(after a ``deadline`` interrupted third-party code whose caches may be inconsistent).
"""

from __future__ import annotations

from mathif_pytest.workers._child import Overrun, deadline
from mathif_pytest.workers._parent import STARTUP_SECONDS, Worker, WorkerGone, WorkerSlots

__all__ = ["STARTUP_SECONDS", "Overrun", "Worker", "WorkerGone", "WorkerSlots", "deadline"]
