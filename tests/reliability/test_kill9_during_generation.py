"""kill -9 of a generating run at 5 random points: no committed response lost, none regenerated.

A tiny random model answers the smoke suite (45 prompts) with the transformers backend, one
prompt per batch, so every response is committed on its own. Each run is killed with SIGKILL as
soon as the store holds a randomly chosen number of responses (5 points, seeded); the next run
resumes. The backend logs every key it is asked for before generating it, so a committed
response asked for again would show.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from _reliability import Record, pytest_command
from _runs import CONFTEST, requested_keys, stored_rows

PROMPTS = 45
KILLS = 5


def _kill_when_stored(command: list[str], cwd: Path, store: Path, count: int) -> int:
    """Start the run, SIGKILL it once ``count`` responses are committed; the count at the kill."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while len(stored_rows(store)) < count and process.poll() is None:
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return len(stored_rows(store))


def test_kill9_at_random_points_loses_and_regenerates_nothing(
    pytester: pytest.Pytester, tiny_model_dir: Path, data_dir: Path, record: Record
) -> None:
    pytester.makeconftest(CONFTEST)
    store = pytester.path / "store.sqlite"
    command = pytest_command(
        "--mathif-suite=smoke", "--model", str(tiny_model_dir), f"--mathif-data={data_dir}",
        f"--mathif-store={store}", "--mathif-engine-arg", "batch_size=1",
        "--mathif-gate=correctness>=0",
    )  # fmt: skip
    points = sorted(random.Random(13).sample(range(1, PROMPTS), KILLS))
    lost, regenerated, at_kill = 0, 0, []
    for point in points:
        before = stored_rows(store)
        asked_before = len(requested_keys(pytester.path))
        at_kill.append(
            _kill_when_stored(command, pytester.path, store, max(point, len(before) + 1))
        )
        after = stored_rows(store)
        lost += sum(after.get(key) != row for key, row in before.items())
        regenerated += len(set(requested_keys(pytester.path)[asked_before:]) & set(before))
    before = stored_rows(store)
    asked_before = len(requested_keys(pytester.path))
    final = subprocess.run(command, cwd=pytester.path, capture_output=True, text=True, check=False)
    after = stored_rows(store)
    lost += sum(after.get(key) != row for key, row in before.items())
    regenerated += len(set(requested_keys(pytester.path)[asked_before:]) & set(before))
    record(kills=KILLS, stored_at_each_kill=at_kill, lost=lost, regenerated=regenerated)
    assert final.returncode == 0, final.stdout[-2000:]
    assert f"{PROMPTS - len(before)} responses generated" in final.stdout
    assert len(after) == PROMPTS
    assert (lost, regenerated) == (0, 0)
