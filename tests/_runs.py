"""Watching a pytester project's runs: what its backend was asked, what its store committed.

Shared by the plugin tests and the reliability suite. :data:`CONFTEST` is a conftest that wraps
whatever backend the project configures (``pytest_mathif_make_backend``): every ``generate`` call
appends one JSON line to ``generate-calls.jsonl`` beside it, *before* generating (the process
id, the number of requests, their sorted uids, their keys in order) and, with
``MATHIF_TEST_DELAY`` set, each response is held back that many seconds (to kill or watch a run
mid-generation). :func:`stored_rows` reads what a store has committed.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

LOG_NAME = "generate-calls.jsonl"

CONFTEST = f"""
import json, os, time
from pathlib import Path

LOG = Path(__file__).parent / {LOG_NAME!r}
DELAY = float(os.environ.get("MATHIF_TEST_DELAY", "0"))

def pytest_mathif_make_backend(config, backend_config):
    from mathif_pytest.backends.resolve import make_backend
    inner = make_backend(backend_config)

    class Logged:
        name = inner.name
        def describe(self):
            return inner.describe()
        def generate(self, requests):
            call = {{"pid": os.getpid(), "n": len(requests),
                    "uids": sorted({{r.uid for r in requests}}), "keys": [r.key for r in requests]}}
            with LOG.open("a") as handle:
                handle.write(json.dumps(call) + "\\n")
            for generation in inner.generate(requests):
                time.sleep(DELAY)
                yield generation
        def close(self):
            inner.close()
    return Logged()
"""


def generate_calls(project: Path) -> list[dict[str, Any]]:
    """Every ``generate`` call logged in ``project`` so far, in order ([] before the first)."""
    log = project / LOG_NAME
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def requested_keys(project: Path) -> list[str]:
    """Every request key the backend was asked for in ``project``, in order."""
    return [key for call in generate_calls(project) for key in call["keys"]]


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
