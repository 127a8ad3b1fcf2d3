"""Memoisation of the pure string steps (normalisations, parses), which a naive grader skips.

References repeat across responses, so their normalisations and parses are worth remembering.
``Grader(cache=False)`` is the naive configuration that grades everything from scratch, so it
runs its work inside :func:`memo_disabled`, which bypasses these caches on the current thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar, cast

__all__ = ["memo_disabled", "memoized"]

P = ParamSpec("P")
R = TypeVar("R")
_MAX_ENTRIES = 8192
_state = threading.local()


def memoized(func: Callable[P, R]) -> Callable[P, R]:
    """``lru_cache`` that :func:`memo_disabled` can switch off; arguments must be hashable."""
    cached = cast(Callable[P, R], lru_cache(maxsize=_MAX_ENTRIES)(func))

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if getattr(_state, "disabled", False):
            return func(*args, **kwargs)
        return cached(*args, **kwargs)

    return wrapper


@contextmanager
def memo_disabled(disabled: bool = True) -> Iterator[None]:
    """Bypass the memo caches on this thread for the duration (when ``disabled``)."""
    previous = getattr(_state, "disabled", False)
    _state.disabled = disabled
    try:
        yield
    finally:
        _state.disabled = previous
