"""The response store: generated responses in SQLite, one row per request key, committed at once.

WAL mode lets xdist workers read while one process writes, and each row is committed as it
arrives, so an interrupted run resumes where it stopped. Failed generations are not stored: a
re-run retries them. WAL needs a local file system (not NFS).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from mathif_pytest.backends import Generation, GenerationRequest, SamplingSettings
from mathif_pytest.errors import StoreError

__all__ = ["SCHEMA_VERSION", "ResponseStore", "StoreMeta"]

#: Bump when the table changes; a store of another version is refused, not migrated.
SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 60_000
_COLUMNS = (
    "key, uid, sample, backend, model, fingerprint, sampling, prompt, text, finish_reason, "
    "prompt_tokens, completion_tokens, seconds, created_at"
)
_READ = ("key", "text", "finish_reason", "prompt_tokens", "completion_tokens", "seconds")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, uid TEXT NOT NULL, "
    "sample INTEGER NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL, fingerprint TEXT NOT "
    "NULL, sampling TEXT NOT NULL, prompt TEXT NOT NULL, text TEXT NOT NULL, finish_reason TEXT, "
    "prompt_tokens INTEGER, completion_tokens INTEGER, seconds REAL, created_at TEXT NOT NULL)",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreMeta:
    """What produced a row: the same for every request of a run.

    Attributes:
        backend: the resolved backend name.
        model: ``--model`` as given.
        fingerprint: :func:`~mathif_pytest.backends.fingerprint.model_fingerprint`.
        sampling: the run's sampling settings.
    """

    backend: str
    model: str
    fingerprint: str
    sampling: SamplingSettings


class ResponseStore:
    """Responses keyed by request key, in one SQLite file shared by processes.

    Use as a context manager, or call :meth:`close`. Safe to share between threads.
    """

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the store at ``path``, creating its directory.

        Raises:
            StoreError: the file is not a store, is of another schema version, or is not writable.
        """
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from None
        try:
            self._setup()
        except BaseException as exc:
            self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from None
            raise

    def __enter__(self) -> ResponseStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get_many(self, keys: Iterable[str]) -> dict[str, Generation]:
        """The stored generations among ``keys`` (missing keys are simply absent)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Generation] = {}
        for start in range(0, len(wanted), 500):  # SQLite caps the number of bound variables
            chunk = wanted[start : start + 500]
            query = (
                f"SELECT {', '.join(_READ)} FROM responses "
                f"WHERE key IN ({', '.join('?' * len(chunk))})"
            )
            for row in self._execute(query, chunk):
                found[row[0]] = Generation(**dict(zip(_READ, row, strict=True)))
        return found

    def put(self, request: GenerationRequest, generation: Generation, meta: StoreMeta) -> bool:
        """Store one generation, committed immediately; a failed one (``error``) is skipped.

        Returns:
            Whether a row was written.
        """
        if generation.error is not None:
            return False
        row = (
            request.key,
            request.uid,
            request.sample,
            meta.backend,
            meta.model,
            meta.fingerprint,
            json.dumps(meta.sampling.to_dict(), sort_keys=True),
            request.prompt,
            generation.text,
            generation.finish_reason,
            generation.prompt_tokens,
            generation.completion_tokens,
            generation.seconds,
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        marks = ", ".join("?" * len(row))
        self._execute(f"INSERT OR REPLACE INTO responses ({_COLUMNS}) VALUES ({marks})", row)
        return True

    def count(self) -> int:
        """How many responses are stored."""
        return int(self._execute("SELECT COUNT(*) FROM responses")[0][0])

    def close(self) -> None:
        """Close the connection. Safe to call twice."""
        with self._lock:
            self._db.close()

    def _setup(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        if self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise sqlite3.OperationalError("cannot switch to WAL mode")
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives a killed process
        self._db.execute("BEGIN IMMEDIATE")  # one process creates the tables, the others wait
        try:
            for statement in _SCHEMA:
                self._db.execute(statement)
            versions = [row[0] for row in self._db.execute("SELECT version FROM schema_version")]
            if not versions:
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        if versions and versions != [SCHEMA_VERSION]:
            raise StoreError(
                f"{self.path}: response store of schema version {versions[0]}, this mathif-pytest "
                f"reads version {SCHEMA_VERSION}; delete it or pass --mathif-store elsewhere"
            )

    def _execute(self, sql: str, parameters: Iterable[object] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._db.execute(sql, tuple(parameters)).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(
            f"{self.path}: cannot use the response store ({type(exc).__name__}: {exc}); "
            "delete it or pass --mathif-store elsewhere"
        )
