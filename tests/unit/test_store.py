"""The SQLite response store: round trips, resume, skipped errors, several processes, bad files."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.backends import Generation, GenerationRequest, SamplingSettings
from mathif_pytest.errors import StoreError
from mathif_pytest.store import ResponseStore, StoreMeta, held_lock

META = StoreMeta(
    backend="vllm",
    model="ckpts/step-100",
    fingerprint="0123456789abcdef",
    sampling=SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16384, seed=1),
)


def request(i: int) -> GenerationRequest:
    return GenerationRequest(
        key=f"key-{i}", uid=f"gsm8k_single-{i}", sample=0, prompt=f"Q{i}", seed=i
    )


def generation(i: int, error: str | None = None) -> Generation:
    return Generation(
        key=f"key-{i}",
        text=f"answer {i} with unicode \u2713",
        finish_reason="length" if i % 2 else "stop",
        prompt_tokens=10 + i,
        completion_tokens=100 + i,
        seconds=0.5,
        error=error,
    )


def test_stored_generations_come_back_unchanged(tmp_path: Path) -> None:
    with ResponseStore(tmp_path / "store.sqlite") as store:
        for i in range(3):
            assert store.put(request(i), generation(i), META)
        assert store.get_many(["key-0", "key-2", "key-9"]) == {
            "key-0": generation(0),
            "key-2": generation(2),
        }
        assert store.count() == 3


def test_rows_survive_a_new_connection_so_a_run_resumes(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "store.sqlite"
    with ResponseStore(path) as first:
        first.put(request(1), generation(1), META)
    with ResponseStore(path) as second:
        assert second.get_many(["key-1"]) == {"key-1": generation(1)}


def test_rows_record_what_produced_them(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with ResponseStore(path) as store:
        store.put(request(4), generation(4), META)
    with closing(sqlite3.connect(path)) as db:
        row = db.execute(
            "SELECT uid, sample, backend, model, fingerprint, sampling, prompt, created_at "
            "FROM responses"
        ).fetchone()
    assert row[:5] == ("gsm8k_single-4", 0, "vllm", "ckpts/step-100", "0123456789abcdef")
    assert json.loads(row[5]) == {
        "max_tokens": 16384, "seed": 1, "temperature": 1.0, "top_p": 0.95,
        "top_k": 0, "min_p": 0.0, "repetition_penalty": 1.0, "stop": [],
    }  # fmt: skip
    assert row[6] == "Q4"
    assert row[7].endswith("+00:00")


def test_failed_generations_are_not_stored_so_a_rerun_retries_them(tmp_path: Path) -> None:
    with ResponseStore(tmp_path / "store.sqlite") as store:
        assert not store.put(request(0), generation(0, error="HTTP 503"), META)
        assert store.get_many(["key-0"]) == {}
        assert store.count() == 0


def test_many_keys_are_looked_up_in_one_call(tmp_path: Path) -> None:
    with ResponseStore(tmp_path / "store.sqlite") as store:
        for i in range(1200):
            store.put(request(i), generation(i), META)
        found = store.get_many(f"key-{i}" for i in range(0, 2400, 2))
    assert len(found) == 600


def _write_rows(path: str, start: int, count: int) -> None:
    with ResponseStore(path) as store:
        for i in range(start, start + count):
            store.put(request(i), generation(i), META)


def _read_until(path: str, expected: int) -> int:
    with ResponseStore(path) as store:
        for _ in range(2000):
            seen = len(store.get_many(f"key-{i}" for i in range(expected)))
            if seen == expected:
                return seen
        return seen


def test_processes_write_and_read_the_store_at_the_same_time(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    ResponseStore(path).close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        reader = pool.apply_async(_read_until, (path, 400))
        writers = [pool.apply_async(_write_rows, (path, start, 200)) for start in (0, 200)]
        for writer in writers:
            writer.get(timeout=60)
        assert reader.get(timeout=60) == 400
    with ResponseStore(path) as store:
        assert store.count() == 400


@pytest.mark.parametrize(
    "contents",
    [b"this is not a database at all" * 100, b"SQLite format 3\0" + b"\xff" * 5000],
    ids=["text", "truncated-sqlite"],
)
def test_a_corrupt_file_is_a_store_error_with_the_fix(tmp_path: Path, contents: bytes) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(contents)
    with pytest.raises(StoreError) as info:
        ResponseStore(path)
    assert str(info.value).startswith(f"{path}: cannot use the response store")
    assert str(info.value).endswith("delete it or pass --mathif-store elsewhere")


def test_a_store_of_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    ResponseStore(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match=r"schema version 99, newer than.*upgrade mathif-pytest"):
        ResponseStore(path)


#: The tables as mathif-pytest 0.1.0 wrote them (schema version 1).
_V1_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version VALUES (1)",
    "CREATE TABLE responses (key TEXT PRIMARY KEY, uid TEXT NOT NULL, sample INTEGER NOT NULL, "
    "backend TEXT NOT NULL, model TEXT NOT NULL, fingerprint TEXT NOT NULL, sampling TEXT NOT "
    "NULL, prompt TEXT NOT NULL, text TEXT NOT NULL, finish_reason TEXT, prompt_tokens INTEGER, "
    "completion_tokens INTEGER, seconds REAL, created_at TEXT NOT NULL)",
    "INSERT INTO responses VALUES ('key-7', 'gsm8k_single-7', 0, 'vllm', 'm', 'f', '{}', 'Q7', "
    "'old answer', 'stop', 3, 4, 0.5, '2026-11-01T00:00:00+00:00')",
)


def test_a_store_of_the_previous_schema_version_is_migrated_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        for statement in _V1_SCHEMA:
            db.execute(statement)
    with ResponseStore(path) as store:
        old = store.get_many(["key-7"])["key-7"]
        store.put(request(8), generation(8), META)
    assert (old.text, old.finish_reason, old.completion_tokens) == ("old answer", "stop", 4)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(2,)]


def test_details_of_a_generation_round_trip(tmp_path: Path) -> None:
    detailed = Generation(
        key="key-3",
        text="inside the thinking</think>answer",
        thinking_prefilled=True,
        thinking_tokens=5,
        extra={"max_tokens": 100, "stages": ["think", "answer"]},
    )
    with ResponseStore(tmp_path / "store.sqlite") as store:
        store.put(request(3), detailed, META)
        store.put(request(4), generation(4), META)
        found = store.get_many(["key-3", "key-4"])
    assert found == {"key-3": detailed, "key-4": generation(4)}


def _open_at_once(path: str, barrier: Any) -> str:
    barrier.wait()
    try:
        ResponseStore(path).close()
    except StoreError as exc:
        return str(exc)
    return ""


def test_processes_that_create_the_same_fresh_store_at_once_all_succeed(tmp_path: Path) -> None:
    """The race behind "database is locked" on the first `-n 2` run (issue 13)."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(4) as pool:
        errors = []
        for attempt in range(15):
            barrier = manager.Barrier(4)
            path = str(tmp_path / f"fresh-{attempt}.sqlite")
            calls = [pool.apply_async(_open_at_once, (path, barrier)) for _ in range(4)]
            errors += [e for e in (c.get(timeout=60) for c in calls) if e]
    assert errors == []


def test_a_lock_held_too_long_is_an_error_naming_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    ResponseStore(path).close()
    with held_lock(Path(str(path) + ".open.lock"), "a long migration"):
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            message = pool.apply(_open_with_short_timeout, (str(path),))
    assert f"pid {os.getpid()} on {socket.gethostname()} (a long migration, since" in message
    assert message.startswith(f"{path}.open.lock: could not get the lock for opening the store")


def _open_with_short_timeout(path: str) -> str:
    try:
        ResponseStore(path, open_timeout=0.5).close()
    except StoreError as exc:
        return str(exc)
    return ""


def test_an_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="delete it or pass --mathif-store elsewhere"):
        ResponseStore(blocker / "store.sqlite")
