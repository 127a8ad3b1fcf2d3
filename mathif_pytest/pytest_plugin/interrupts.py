"""SIGTERM as Ctrl-C while responses are generated, so a CI cancel stops a run the same way.

A CI runner cancels a job with SIGTERM (then SIGKILL a few seconds later). By default Python dies
at once on SIGTERM, skipping the cleanup that closes the requests in flight; raised as
``KeyboardInterrupt`` instead, it takes the path of Ctrl-C: the backend abandons what is in
flight, the responses already committed stay in the store, and pytest exits with its interrupt
status (2). Outside generation SIGTERM keeps its usual meaning.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["sigterm_interrupts"]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` (main thread only; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
