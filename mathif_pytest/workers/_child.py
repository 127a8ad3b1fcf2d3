"""The worker side: bootstrap, memory cap, preload, the request loop, and in-worker deadlines.

Run by :class:`~mathif_pytest.workers.Worker` as ``python -c BOOTSTRAP ROOT HANDLER IN OUT``:
``HANDLER`` is the dotted name of a handler module (see :mod:`mathif_pytest.workers`), ``IN``
and ``OUT`` the pipe file descriptors. Standard output and error are not the channel (the
parent points them at ``/dev/null``), so stray prints from third-party code cannot corrupt it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from types import FrameType

__all__ = ["Overrun", "deadline", "main"]

#: Address-space cap, so that a pathological input fails instead of swapping the machine.
MEMORY_LIMIT_BYTES = 4 * 1024**3


class Overrun(BaseException):
    """A :func:`deadline` expired (a BaseException, so that no ``except Exception`` eats it)."""


def _expire(signum: int, frame: FrameType | None) -> None:
    raise Overrun


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Overrun` in the block once ``seconds`` of wall time have passed.

    Main thread of a worker process only: it uses ``SIGALRM``. C code that never returns to the
    interpreter is not interrupted; the parent's deadline on the whole request backs it up.
    """
    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no cap
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT_BYTES
    if hard != resource.RLIM_INFINITY:
        limit = min(hard, limit)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(handler_name: str, inbox: Connection, outbox: Connection) -> None:
    handler = importlib.import_module(handler_name)
    handler.preload()
    outbox.send(("ready", time.monotonic()))
    while True:
        try:
            request = inbox.recv()
        except EOFError:
            return
        reply, retire = handler.handle(request)
        outbox.send((reply, retire))
        if retire:
            return


def main() -> None:
    """Serve the handler named by ``argv[2]`` on the pipes ``argv[3]`` (in) and ``argv[4]``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    inbox = Connection(int(sys.argv[3]), writable=False)
    outbox = Connection(int(sys.argv[4]), readable=False)
    _limit_memory()
    status = 0
    try:
        with contextlib.suppress(EOFError, OSError):
            _serve(sys.argv[2], inbox, outbox)
    except BaseException:  # a handler bug: the parent sees the pipe close and replaces us
        status = 1
    # Nothing to clean up: skip the interpreter's slow teardown of sympy's objects.
    os._exit(status)
