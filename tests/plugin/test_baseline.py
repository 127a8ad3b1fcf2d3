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


@pytest.fixture
def baseline(pytester: pytest.Pytester, suite: Suite, write_replay: Replay) -> Path:
    suite("base", "select:\n  stratified: 30\n")
    results = pytester.path / "baseline.json"
    good = write_replay("good.jsonl", correct=lambda uid: True)
    _run(pytester, good, f"--mathif-results={results}", "--mathif-gate=correctness>=0")
    assert json.loads(results.read_text())["summary"]["correctness"]["value"] == 1.0
    return results


def test_a_planted_regression_fails_the_delta_gate_and_lists_flipped_samples(
    pytester: pytest.Pytester, baseline: Path, write_replay: Replay
) -> None:
    worse = write_replay("worse.jsonl", correct=lambda uid: not uid.startswith(("gsm8k", "aime")))
    result = _run(
        pytester, worse, f"--mathif-baseline={baseline}", "--mathif-gate=delta.correctness>=-0.02"
    )
    result.stdout.fnmatch_lines(
        [
            "*vs baseline (30 shared prompts*",
            "*delta correctness *-40.00 points*",
            "*flipped gsm8k_* (correct to wrong)*",
            "*delta.correctness*FAIL*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_the_same_responses_pass_the_delta_gate(
    pytester: pytest.Pytester, baseline: Path, write_replay: Replay
) -> None:
    same = write_replay("good.jsonl", correct=lambda uid: True)
    result = _run(
        pytester, same, f"--mathif-baseline={baseline}", "--mathif-gate=delta.correctness>=-0.02"
    )
    result.stdout.fnmatch_lines(["*delta correctness * +0.00 points*", "*delta.correctness*PASS*"])
    assert result.ret == pytest.ExitCode.OK


def test_failure_messages_name_regressions_since_the_baseline(
    pytester: pytest.Pytester, baseline: Path, write_replay: Replay
) -> None:
    worse = write_replay("worse.jsonl", correct=lambda uid: False)
    result = _run(pytester, worse, f"--mathif-baseline={baseline}", "-k", "aime_single", "-v")
    result.stdout.fnmatch_lines(["*regressed since the baseline: the answer was correct*"])
    # without -v, the compact listing of failed samples puts the regressions first
    compact = _run(pytester, worse, f"--mathif-baseline={baseline}", "-k", "aime_single")
    compact.stdout.fnmatch_lines(["*failed their constraints or answer*", "  regressed: answer *"])


def test_a_delta_gate_without_a_baseline_is_a_usage_error_that_says_what_to_pass(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(), "--mathif-gate=delta.hard_accuracy>=-0.02")
    result.stderr.fnmatch_lines(["*delta.hard_accuracy*pass --mathif-baseline RESULTS.json*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_an_unreadable_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "bad.json").write_text("{}")
    result = pytester.runpytest("--mathif-baseline=bad.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mathif-baseline: bad.json: not a mathif results document*"])


def test_the_summary_says_what_the_gate_can_detect(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(correct=lambda uid: True), "--mathif-gate=correctness>=0")
    result.stdout.fnmatch_lines(["*with 15 prompts the gate can detect*"])


def test_the_results_json_carries_each_rows_test_family_and_power(
    pytester: pytest.Pytester, baseline: Path, write_replay: Replay
) -> None:
    worse = write_replay("worse.jsonl", correct=lambda uid: not uid.startswith(("gsm8k", "aime")))
    out = pytester.path / "cand.json"
    _run(
        pytester,
        worse,
        f"--mathif-baseline={baseline}",
        "--mathif-gate=delta.correctness>=-0.02",
        "--mathif-gate=delta.correctness[math500]>=-0.02",
        f"--mathif-results={out}",
    )
    (suite,) = json.loads(out.read_text())["suites"].values()
    first, second = suite["gate"]
    assert first["test"]["family"] == [
        "delta.correctness>=-0.02",
        "delta.correctness[math500]>=-0.02",
    ]
    assert first["test"]["correction"] == "holm" and first["test"]["family_size"] == 2
    assert first["test"]["adjusted_p"] == min(1.0, 2 * first["test"]["p_value"])
    assert first["test"]["rejected"] and not first["passed"]
    power = first["test"]["power"]
    assert power["method"] == "exact" and power["level"] == 0.025 and power["detectable"]
    assert second["test"]["power"]["prompts"] == 6 and second["passed"]


def _tiny_group_runs(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> tuple[Path, Path]:
    aime = [f"aime_{level}-{i}" for level in ("single", "double") for i in (0, 1)]
    uids = ", ".join([*aime, *(f"gsm8k_single-{i}" for i in range(8))])
    suite("tiny", f"select:\n  uids: [{uids}]\n")
    results = pytester.path / "baseline.json"
    good = write_replay("good.jsonl", correct=lambda uid: True)
    _run(pytester, good, f"--mathif-results={results}", "--mathif-gate=correctness>=0")
    return results, write_replay("worse.jsonl", correct=lambda uid: not uid.startswith("aime"))


def test_a_four_prompt_group_losing_everything_is_undetectable_and_fails_on_request(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    baseline, worse = _tiny_group_runs(pytester, suite, write_replay)
    gate = ("--mathif-gate=delta.correctness[aime]>=0", f"--mathif-baseline={baseline}")
    result = _run(pytester, worse, *gate)
    result.stdout.fnmatch_lines(
        [
            "*delta.correctness[[]aime]*-100.00*PASS",
            "*delta -100.00 pts over 4 prompts*",
            "*undetectable: even losing everything (100.0 pts)*",
        ]
    )
    assert result.ret == pytest.ExitCode.OK
    result = _run(pytester, worse, *gate, "--mathif-min-power=0.8")
    result.stdout.fnmatch_lines(["*delta.correctness[[]aime]*FAIL", "*FAILS --mathif-min-power*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_positive_margin_on_the_same_responses_is_not_called_a_regression(
    pytester: pytest.Pytester, baseline: Path, write_replay: Replay
) -> None:
    same = write_replay("good.jsonl", correct=lambda uid: True)
    result = _run(
        pytester, same, f"--mathif-baseline={baseline}", "--mathif-gate=delta.correctness>=0.05"
    )
    result.stdout.fnmatch_lines(["*delta.correctness*FAIL", "*no improvement beyond the margin*"])
    assert "regression" not in result.stdout.str().split("gate:")[-1]
