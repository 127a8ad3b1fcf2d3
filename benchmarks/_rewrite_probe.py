"""A pytest plugin for ``bench_plugin.py``: where pytest's assertion rewriting spends its time.

Loaded with ``-p _rewrite_probe`` (before the entry-point plugins are imported), it times
pytest's private ``_rewrite_test`` per top-level package and prints one JSON line at the end.
Benchmark-only: the product never touches pytest internals.
"""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path
from typing import Any

import _pytest.assertion.rewrite as rewrite

_SECONDS: collections.Counter[str] = collections.Counter()
_MODULES: collections.Counter[str] = collections.Counter()
_original = rewrite._rewrite_test


def _package(path: Path) -> str:
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    return "mathif_pytest" if "mathif_pytest" in parts else path.name


def _timed(fn: Path, config: Any) -> Any:
    started = time.perf_counter()
    try:
        return _original(fn, config)
    finally:
        key = _package(Path(fn))
        _SECONDS[key] += time.perf_counter() - started
        _MODULES[key] += 1


rewrite._rewrite_test = _timed  # type: ignore[assignment]


def pytest_unconfigure(config: Any) -> None:
    """Print ``REWRITE {package: [modules, seconds]}``."""
    table = {k: [_MODULES[k], round(v, 3)] for k, v in _SECONDS.most_common()}
    print("\nREWRITE " + json.dumps(table))
