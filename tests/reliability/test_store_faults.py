"""A store on a read-only or full file system: a clear error naming it, finished responses intact.

Both faults are real file systems, made in a private mount namespace (``unshare -rm``): a
read-only bind mount of the store's directory, and a 640 KiB tmpfs that the run fills up.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from _reliability import Record, pytest_command
from _runs import stored_rows

Run = Callable[[str], subprocess.CompletedProcess[str]]


@pytest.fixture
def first_run(
    pytester: pytest.Pytester, suite: Callable[..., Path], write_replay: Callable[..., Path]
) -> Path:
    """A store holding the smoke suite's 15 responses, written by a normal run."""
    suite()
    suite("bigger", "select:\n    stratified: 150\n")
    write_replay(correct=lambda uid: True)
    store = pytester.path / "stores" / "store.sqlite"
    store.parent.mkdir()
    done = subprocess.run(
        pytest_command("smoke.yaml", "--model", "responses.jsonl", f"--mathif-store={store}"),
        cwd=pytester.path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    return store


def _script(pytester: pytest.Pytester, mount: str, store: Path) -> str:
    command = pytest_command("bigger.yaml", "--model", "responses.jsonl", f"--mathif-store={store}")
    run = " ".join(shlex.quote(part) for part in command)
    return f"set -e; cd {shlex.quote(str(pytester.path))}; {mount}; {run}; echo EXIT $?"


def _check_error(done: subprocess.CompletedProcess[str], store: Path) -> str:
    output = done.stdout + done.stderr
    assert "EXIT 0" not in output, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    errors = re.findall(re.escape(str(store)) + r"[^:\n]*: [^\n]+", output)
    assert errors, f"no error names {store}:\n{output[-3000:]}"
    return str(errors[0])


def test_a_read_only_store_directory_is_a_clear_error_and_keeps_the_responses(
    pytester: pytest.Pytester, first_run: Path, namespaces: Run, record: Record
) -> None:
    before = stored_rows(first_run)
    folder = shlex.quote(str(first_run.parent))
    done = namespaces(_script(pytester, f"mount --bind -o ro {folder} {folder}", first_run))
    message = _check_error(done, first_run)
    assert stored_rows(first_run) == before
    record(fault="read-only store directory", responses_before=len(before), lost=0, error=message)


def test_a_full_disk_is_a_clear_error_and_keeps_the_finished_responses(
    pytester: pytest.Pytester, first_run: Path, namespaces: Run, record: Record
) -> None:
    before = stored_rows(first_run)
    small = pytester.path / "small"
    small.mkdir()
    store = small / "store.sqlite"
    kept = pytester.path / "kept"  # the store and its WAL, copied out of the namespace
    kept.mkdir()
    mount = (
        f"mount -t tmpfs -o size=640k tmpfs {small}; cp {first_run} {store}; "
        f"trap 'cp {small}/store.sqlite* {kept}/' EXIT"
    )
    done = namespaces(_script(pytester, mount, store))
    message = _check_error(done, store)
    after = stored_rows(kept / "store.sqlite")
    assert {key: after.get(key) for key in before} == before
    assert len(before) < len(after) < 150  # it stored what fitted, then stopped
    record(fault="full disk", responses_before=len(before), stored_before_full=len(after),
           lost=0, error=message)  # fmt: skip
