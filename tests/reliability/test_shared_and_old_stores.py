"""Stores shared by concurrent sessions, and stores written by an older format version."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from _reliability import Record, pytest_command
from _runs import stored_rows

Suite = Callable[..., Path]
Replay = Callable[..., Path]


def test_two_sessions_sharing_a_fresh_store_both_finish(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay, record: Record
) -> None:
    suite()
    write_replay(correct=lambda uid: True)
    store = pytester.path / "shared.sqlite"
    common = ("smoke.yaml", "--model", "responses.jsonl", f"--mathif-store={store}")
    runs = [
        subprocess.Popen(
            pytest_command(*common, *extra, "--mathif-gate=correctness>=0.9"),
            cwd=pytester.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for extra in ((), ("-n", "2"))
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    locked = sum("database is locked" in out for out in outputs)
    record(sessions=len(runs), failed=sum(run.returncode != 0 for run in runs), locked=locked)
    assert [run.returncode for run in runs] == [0] * len(runs), outputs
    assert locked == 0
    assert len(stored_rows(store)) == 15


def test_a_store_of_the_previous_format_is_migrated_and_its_responses_reused(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay, record: Record
) -> None:
    suite()
    write_replay(correct=lambda uid: True)
    store = pytester.path / "old.sqlite"
    command = pytest_command("smoke.yaml", "--model", "responses.jsonl", f"--mathif-store={store}")
    assert subprocess.run(command, cwd=pytester.path, capture_output=True).returncode == 0
    before = stored_rows(store)
    with closing(sqlite3.connect(store)) as db, db:  # back to format version 1
        db.execute("ALTER TABLE responses DROP COLUMN details")
        db.execute("UPDATE schema_version SET version = 1")
    done = subprocess.run(command, cwd=pytester.path, capture_output=True, text=True)
    with closing(sqlite3.connect(store)) as db:
        version = db.execute("SELECT version FROM schema_version").fetchone()[0]
    record(migrated_from=1, migrated_to=version, responses=len(before), regenerated=0)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "0 responses generated" in done.stdout
    assert stored_rows(store) == before
    assert version == 2
