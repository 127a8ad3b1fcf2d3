from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _runs import CONFTEST, generate_calls, stored_rows

Suite = Callable[..., Path]
Replay = Callable[..., Path]


def test_under_xdist_exactly_one_process_generates(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    pytester.makeconftest(CONFTEST)
    suite()
    replay = write_replay(correct=lambda uid: True)
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "--model",
        str(replay),
        f"--mathif-store={pytester.path / 's.sqlite'}",
        "--mathif-gate=correctness>=0.9",
    )
    calls = generate_calls(pytester.path)
    assert [c["n"] for c in calls] == [15], calls
    result.stdout.fnmatch_lines(["*15 responses generated in*, 0 reused", "*correctness*PASS*"])
    assert result.ret == pytest.ExitCode.OK


def test_xdist_and_a_single_process_agree(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    replay = write_replay(correct=lambda uid: uid.endswith(("0", "2")))
    outs = []
    for extra in ([], ["-n", "2"]):
        results = pytester.path / f"results{len(extra)}.json"
        pytester.runpytest_subprocess(
            *extra,
            "--model",
            str(replay),
            f"--mathif-store={pytester.path / 's.sqlite'}",
            f"--mathif-results={results}",
        )
        outs.append(json.loads(results.read_text()))
    assert outs[0]["summary"] == outs[1]["summary"]
    assert sorted(map(json.dumps, outs[0]["cases"])) == sorted(map(json.dumps, outs[1]["cases"]))


def test_a_run_killed_during_generation_resumes_without_regenerating(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    pytester.makeconftest(CONFTEST)
    suite()
    replay = write_replay()
    store = pytester.path / "s.sqlite"
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--model",
        str(replay),
        f"--mathif-store={store}",
        "--mathif-gate=correctness>=0",
    ]
    env = {**os.environ, "MATHIF_TEST_DELAY": "0.3"}
    process = subprocess.Popen(
        args,
        cwd=pytester.path,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(stored_rows(store)) < 4 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = len(stored_rows(store))
    assert 4 <= kept < 15, f"{kept} responses stored when the run was killed"

    result = pytester.runpytest_subprocess(*args[5:])
    assert len(stored_rows(store)) == 15
    assert [c["n"] for c in generate_calls(pytester.path)][-1] == 15 - kept
    result.stdout.fnmatch_lines([f"*{15 - kept} responses generated*{kept} reused*"])
    assert result.ret == pytest.ExitCode.OK
