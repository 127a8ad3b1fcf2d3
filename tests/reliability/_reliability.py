"""Helpers of the reliability suite (stores and logged backends: tests/_runs.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable

Record = Callable[..., None]


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
