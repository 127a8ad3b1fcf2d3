"""The response store: generated responses in SQLite, one row per request key, committed at once.

WAL mode lets xdist workers read while one process writes, and each row is committed as it
arrives, so an interrupted run resumes where it stopped. Failed generations are not stored: a
re-run retries them. WAL needs a local file system, or a shared one with working locks (not NFS).

Any number of processes may open the same store at once (xdist workers, concurrent runs, CI
shards): creating the file, switching it to WAL and creating or migrating the tables happen under
a file lock beside the store (SQLite answers "database is locked" at once, without waiting, when
two connections switch a new file's journal mode together), and every connection waits up to a
minute for the other's writes.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from mathif_pytest.backends import Generation, GenerationRequest, SamplingSettings
from mathif_pytest.errors import StoreError
from mathif_pytest.store._locks import held_lock, lock_holder

__all__ = ["COLUMNS", "SCHEMA_VERSION", "ResponseStore", "StoreMeta", "held_lock", "lock_holder"]

#: Bump when the table changes, and add the statements that upgrade the previous version to
#: ``_MIGRATIONS``; a store of a newer version than this code knows is refused.
SCHEMA_VERSION = 2
_BUSY_TIMEOUT_MS = 60_000
#: Seconds to wait for another process that is creating or migrating the same store.
OPEN_LOCK_TIMEOUT = 120.0
#: The columns of a stored response, in table order.
COLUMNS = (
    "key", "uid", "sample", "backend", "model", "fingerprint", "sampling", "prompt", "text",
    "finish_reason", "prompt_tokens", "completion_tokens", "seconds", "created_at", "details",
)  # fmt: skip
_COLUMNS = ", ".join(COLUMNS)
_INSERT = f"INSERT OR REPLACE INTO responses ({_COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS))})"
_READ = ("key", "text", "finish_reason", "prompt_tokens", "completion_tokens", "seconds")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, uid TEXT NOT NULL, "
    "sample INTEGER NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL, fingerprint TEXT NOT "
    "NULL, sampling TEXT NOT NULL, prompt TEXT NOT NULL, text TEXT NOT NULL, finish_reason TEXT, "
    "prompt_tokens INTEGER, completion_tokens INTEGER, seconds REAL, created_at TEXT NOT NULL, "
    "details TEXT)",
)
#: version -> the statements that upgrade a store of that version to the next one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    # v2: per-response details (thinking pre-filled by the template, thinking tokens, what the
    # backend did: a clamped max_tokens, intervention stages) as one JSON column.
    1: ("ALTER TABLE responses ADD COLUMN details TEXT",),
}
#: Generation fields kept in the JSON ``details`` column (the others have columns of their own).
_DETAIL_FIELDS = tuple(
    f.name for f in dataclasses.fields(Generation) if f.name not in (*_READ, "error")
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

    def __init__(self, path: str | Path, *, open_timeout: float = OPEN_LOCK_TIMEOUT) -> None:
        """Open (or create, or migrate) the store at ``path``, creating its directory.

        Args:
            path: the SQLite file.
            open_timeout: seconds to wait for another process that is setting up the same store.

        Raises:
            StoreError: the file is not a store, is of a newer schema version, is not writable,
                or another process kept it locked for longer than ``open_timeout``.
        """
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(exc) from None
        with held_lock(self.lock_path("open"), "opening the store", open_timeout):
            self._db = self._connect()
            try:
                self._setup()
            except BaseException as exc:
                self._db.close()
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from None
                raise

    def lock_path(self, purpose: str) -> Path:
        """The lock file beside the store for ``purpose`` (``open``, or ``generate``)."""
        suffix = ".lock" if purpose == "generate" else f".{purpose}.lock"
        return self.path.with_name(self.path.name + suffix)

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from None

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
                f"SELECT {', '.join(_READ)}, details FROM responses "
                f"WHERE key IN ({', '.join('?' * len(chunk))})"
            )
            for row in self._execute(query, chunk):
                found[row[0]] = _generation(row)
        return found

    def put(self, request: GenerationRequest, generation: Generation, meta: StoreMeta) -> bool:
        """Store one generation, committed immediately; a failed one (``error``) is skipped.

        Returns:
            Whether a row was written.
        """
        if generation.error is not None:
            return False
        self._execute(_INSERT, _row(request, generation, meta))
        return True

    def put_many(self, items: Iterable[tuple[GenerationRequest, Generation, StoreMeta]]) -> int:
        """Store generations in one transaction: all of them or, on any error, none.

        Returns:
            How many rows were written (failed generations are skipped).
        """
        rows = [_row(r, g, m) for r, g, m in items if g.error is None]
        with self.transaction() as execute:
            for row in rows:
                execute(_INSERT, row)
        return len(rows)

    def rows(self, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Every stored row as a dict of all its columns, in key order, ``batch`` at a time."""
        last = ""
        while True:
            found = self._execute(
                f"SELECT {_COLUMNS} FROM responses WHERE key > ? ORDER BY key LIMIT ?",
                (last, batch),
            )
            for values in found:
                yield dict(zip(COLUMNS, values, strict=True))
            if len(found) < batch:
                return
            last = found[-1][0]

    @contextmanager
    def transaction(self) -> Iterator[Callable[..., list[Any]]]:
        """Run statements in one ``BEGIN IMMEDIATE`` transaction: all of them, or none.

        Committed when the block ends, rolled back when it raises. Yields
        ``execute(sql, parameters=()) -> rows``.

        Raises:
            StoreError: SQLite failed (the transaction is rolled back).
        """

        def execute(sql: str, parameters: Iterable[object] = ()) -> list[Any]:
            return self._db.execute(sql, tuple(parameters)).fetchall()

        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield execute
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise self._error(exc) from None

    def count(self) -> int:
        """How many responses are stored."""
        return int(self._execute("SELECT COUNT(*) FROM responses")[0][0])

    def close(self) -> None:
        """Close the connection. Safe to call twice."""
        with self._lock:
            self._db.close()

    def _setup(self) -> None:
        """WAL mode and the tables, created or migrated (under the open lock: one at a time)."""
        self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        mode = self._db.execute("PRAGMA journal_mode").fetchone()[0].lower()
        if mode != "wal" and self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise sqlite3.OperationalError("cannot switch to WAL mode")
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives a killed process
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                self._db.execute(statement)
            versions = [row[0] for row in self._db.execute("SELECT version FROM schema_version")]
            if not versions:
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif len(versions) == 1 and versions[0] in _MIGRATIONS:
                self._migrate(versions[0])
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        if versions and (len(versions) != 1 or versions[0] > SCHEMA_VERSION):
            raise StoreError(
                f"{self.path}: response store of schema version {versions[0]}, newer than the "
                f"version {SCHEMA_VERSION} this mathif-pytest reads; upgrade mathif-pytest, "
                "delete the store, or pass --mathif-store elsewhere"
            )

    def _migrate(self, version: int) -> None:
        """Upgrade the tables, one version at a time, inside the caller's transaction."""
        while version in _MIGRATIONS:
            for statement in _MIGRATIONS[version]:
                self._db.execute(statement)
            version += 1
        self._db.execute("UPDATE schema_version SET version = ?", (version,))

    def _execute(self, sql: str, parameters: Iterable[object] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._db.execute(sql, tuple(parameters)).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> StoreError:
        return StoreError(
            f"{self.path}: cannot use the response store ({type(exc).__name__}: {exc}); "
            "delete it or pass --mathif-store elsewhere"
        )


def _row(request: GenerationRequest, generation: Generation, meta: StoreMeta) -> tuple[Any, ...]:
    return (
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
        _details_json(generation),
    )


def _details_json(generation: Generation) -> str | None:
    """The non-default detail fields of ``generation`` as JSON (None when all are defaults)."""
    defaults = Generation(key="", text="")
    details = {
        name: dict(value) if isinstance(value, Mapping) else value
        for name in _DETAIL_FIELDS
        if (value := getattr(generation, name)) != getattr(defaults, name)
    }
    return json.dumps(details, sort_keys=True, ensure_ascii=False) if details else None


def _generation(row: tuple[Any, ...]) -> Generation:
    values = dict(zip(_READ, row[: len(_READ)], strict=True))
    details = json.loads(row[-1]) if row[-1] else {}
    if isinstance(details, Mapping):  # keys written by a newer version are ignored
        values.update({k: v for k, v in details.items() if k in _DETAIL_FIELDS})
    return Generation(**values)
