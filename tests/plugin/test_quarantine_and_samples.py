from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Suite = Callable[..., Path]
Replay = Callable[..., Path]


def _run(pytester: pytest.Pytester, replay: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--model", str(replay), f"--mathif-store={pytester.path / 's.sqlite'}", *args
    )


def test_quarantined_samples_run_and_are_reported_but_the_gate_ignores_them(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite(
        "q",
        "select:\n  files: [aime_single]\n  limit: 4\n"
        "quarantine: [aime_single-0, aime_single-1]\ngate:\n  - correctness>=1.0\n",
    )
    # the two quarantined samples answer wrongly, the others rightly: the gate sees 2/2 correct
    replay = write_replay(correct=lambda uid: uid not in ("aime_single-0", "aime_single-1"))
    results = pytester.path / "r.json"
    result = _run(pytester, replay, f"--mathif-results={results}")
    result.stdout.fnmatch_lines(
        [
            "*2 prompts, 2 responses*",
            "*quarantined (ran, reported, ignored by the gate): 2 (aime_single-0, aime_single-1)*",
            "*correctness*>= 100.00% *2/2*PASS*",
        ]
    )
    assert result.ret == pytest.ExitCode.OK
    document = json.loads(results.read_text())
    assert len(document["cases"]) == 4  # reported
    assert document["suites"]["q"]["quarantined"] == ["aime_single-0", "aime_single-1"]


def test_several_samples_per_prompt_print_pass_hat_k_and_clustered_rates(
    pytester: pytest.Pytester, suite: Suite, answers: dict[str, str]
) -> None:
    suite("m", "select:\n  files: [aime_single]\n")
    path = pytester.path / "multi.jsonl"
    with path.open("w") as handle:
        for index in range(3):
            for uid, answer in answers.items():
                right = index == 0 or uid.endswith(("1", "3"))
                text = f"\\boxed{{{answer}}}" if right else "no"
                handle.write(json.dumps({"uid": uid, "response": text}) + "\n")
    result = _run(pytester, path, "--mathif-samples=3", "--mathif-gate=correctness>=0")
    result.stdout.fnmatch_lines(
        [
            "*20 prompts, 60 responses*",
            "*3 responses per prompt:*",
            "*correctness    per response * (design effect *); avg@3 *; pass^3 *; pass@3 100.00",
        ]
    )
