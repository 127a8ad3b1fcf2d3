"""Helpers of the reliability suite: stores to inspect, logged backends, commands."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

Record = Callable[..., None]
#: Logs every request key the backend is asked to generate, before generating it.
KEY_LOGGING_CONFTEST = """
import json, os
from pathlib import Path

LOG = Path(__file__).parent / "requested-keys.jsonl"

def pytest_mathif_make_backend(config, backend_config):
    from mathif_pytest.backends.resolve import make_backend
    inner = make_backend(backend_config)

    class Logged:
        name = inner.name
        def describe(self):
            return inner.describe()
        def generate(self, requests):
            with LOG.open("a") as handle:
                for request in requests:
                    handle.write(json.dumps({"pid": os.getpid(), "key": request.key}) + "\\n")
            yield from inner.generate(requests)
        def close(self):
            inner.close()
    return Logged()
"""


def stored_rows(store: Path) -> dict[str, tuple[str, str]]:
    """key → (text, created_at) of every committed response ({} before the table exists)."""
    if not store.exists():
        return {}
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        try:
            rows = db.execute("SELECT key, text, created_at FROM responses").fetchall()
        except sqlite3.OperationalError:  # the tables are not created yet
            return {}
    return {key: (text, created) for key, text, created in rows}


def requested_keys(project: Path) -> list[str]:
    """Every key the backend was asked for, in order (see :data:`KEY_LOGGING_CONFTEST`)."""
    log = project / "requested-keys.jsonl"
    if not log.exists():
        return []
    return [json.loads(line)["key"] for line in log.read_text().splitlines() if line.strip()]


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
