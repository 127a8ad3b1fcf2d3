"""Wall time and CPU time (this process and every child it waited for) of a block."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Timing:
    """Seconds of wall time and of CPU time (user + system, children included)."""

    wall: float = 0.0
    cpu: float = 0.0


def _cpu() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def clock() -> Iterator[Timing]:
    """Time the block; CPU time is robust to other load on the machine, wall time is not."""
    timing = Timing()
    wall, cpu = time.perf_counter(), _cpu()
    try:
        yield timing
    finally:
        timing.wall, timing.cpu = time.perf_counter() - wall, _cpu() - cpu
