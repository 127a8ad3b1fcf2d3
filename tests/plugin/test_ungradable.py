from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Suite = Callable[..., Path]

#: sympy needs seconds to expand this; with a 0.5 s limit the answer is ungradable.
SLOW = "\\boxed{(x+y+1)**40}"


@pytest.fixture
def slow_replay(pytester: pytest.Pytester, suite: Suite) -> Path:
    suite("u", "select:\n  files: [aime_single]\n  limit: 2\n")
    path = pytester.path / "slow.jsonl"
    lines = [{"uid": f"aime_single-{i}", "response": SLOW} for i in range(2)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _run(pytester: pytest.Pytester, replay: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--model",
        str(replay),
        f"--mathif-store={pytester.path / 's.sqlite'}",
        "--mathif-grading-timeout=0.5",
        "--mathif-gate=correctness>=0",
        *args,
    )


def test_too_many_ungradable_answers_fail_the_run_even_when_the_gate_passes(
    pytester: pytest.Pytester, slow_replay: Path
) -> None:
    result = _run(pytester, slow_replay, "-v")  # -v: pytest lists each failed sample too
    result.stdout.fnmatch_lines(
        [
            "*answer ungradable: *timed out*",
            "*2 prompts, 2 responses, 1 ungradable answers (counted as not correct)*",
            "*correctness*PASS*",
            "*ungradable answers 50.0% exceed --mathif-max-ungradable 0.05*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_raised_ungradable_limit_lets_the_gate_decide(
    pytester: pytest.Pytester, slow_replay: Path
) -> None:
    result = _run(pytester, slow_replay, "--mathif-max-ungradable=1.0")
    assert result.ret == pytest.ExitCode.OK
