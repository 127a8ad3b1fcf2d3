from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

Suite = Callable[..., Path]
Replay = Callable[..., Path]


def _run(pytester: pytest.Pytester, replay: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--model", str(replay), f"--mathif-store={pytester.path / 's.sqlite'}", *args
    )


def _last_lines(result: pytest.RunResult, count: int = 3) -> list[str]:
    """The last non-empty lines the run printed."""
    return [line for line in result.outlines if line.strip()][-count:]


def test_gate_passes_although_samples_fail(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(
        pytester, write_replay(correct=lambda uid: True), "--mathif-gate=correctness>=0.9"
    )
    result.assert_outcomes(failed=15)  # every sample violates its constraints
    result.stdout.fnmatch_lines(
        [
            "*mathif summary*",
            "*correctness*>= 90.00% *observed 100.00% [[]79.61, 100.00[]]*15/15*PASS",
        ]
    )
    assert result.ret == pytest.ExitCode.OK
    pytest_line, what, verdict = _last_lines(result)
    assert re.fullmatch(r"=+ 15 failed in .* =+", pytest_line)
    assert what == "mathif: gate: 1 of 1 thresholds hold"
    assert verdict == (
        "mathif: PASSED (exit status 0): the gate passed; 15 samples failed their constraints "
        "or answer (tolerated)"
    )


def test_gate_fails_run_when_hard_accuracy_below_threshold(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(), "--mathif-gate=hard_accuracy>=90%")
    result.stdout.fnmatch_lines(
        ["*mathif summary*", "*hard_accuracy >= 90.00% *observed 0.00%*FAIL"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _last_lines(result, 2) == [
        "mathif: gate: 1 of 1 thresholds failed: hard_accuracy >= 90.00% (observed 0.00%)",
        "mathif: FAILED (exit status 1): the gate failed",
    ]


def test_the_verdict_is_the_last_line_under_xdist_too(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    pytest.importorskip("xdist")
    suite()
    result = pytester.runpytest_subprocess(
        "--model",
        str(write_replay()),
        f"--mathif-store={pytester.path / 's.sqlite'}",
        "--mathif-gate=correctness>=0.5",
        "-n",
        "2",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    pytest_line, _, verdict = _last_lines(result)
    assert re.fullmatch(r"=+ 15 failed in .* =+", pytest_line)
    assert verdict == "mathif: FAILED (exit status 1): the gate failed"


def test_tolerated_failed_samples_are_listed_compactly_unless_verbose(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    pytester.makepyfile(test_other="def test_other():\n    assert 1 == 2\n")
    compact = _run(pytester, write_replay(), "--mathif-gate=correctness>=0")
    output = compact.stdout.str()
    # the ordinary test's failure is listed as pytest lists it; no MathIF sample is
    assert "_ test_other _" in output and "FAILED test_other.py::test_other" in output
    assert "smoke::" not in output and "FAILED smoke.yaml" not in output
    compact.stdout.fnmatch_lines(
        [
            "15 samples failed their constraints or answer; the gate decides (-v lists each *",
            "  answer incorrect * 15  aime_double-0, *, … +*",
        ]
    )
    compact.assert_outcomes(failed=16)  # pytest's own count is untouched
    verbose = _run(pytester, write_replay(), "--mathif-gate=correctness>=0", "-v")
    verbose.stdout.fnmatch_lines(
        ["*_ smoke::aime_double-0 _*", "*FAILED smoke.yaml::aime_double-0*"]
    )
    verbose.stdout.fnmatch_lines(["15 samples failed *; the gate decides (listed above):"])


def test_the_summary_fits_100_columns(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("wide", "select:\n  stratified: 45\n")
    baseline = pytester.path / "baseline.json"
    good = write_replay("good.jsonl", correct=lambda uid: True)
    _run(pytester, good, "--mathif-gate=correctness>=0", f"--mathif-results={baseline}")
    result = _run(
        pytester,
        write_replay(),
        f"--mathif-baseline={baseline}",
        "--mathif-gate=delta.correctness>=-0.02",
        "--mathif-gate=compliance[detectable_format:number_highlighted_sections]>=0",
    )
    lines = result.outlines
    section = lines[lines.index(next(x for x in lines if "mathif summary" in x)) + 1 :]
    section = section[: next(i for i, x in enumerate(section) if x.startswith("=="))]
    assert any(x.startswith("  by constraint type") for x in section)
    assert any("delta.correctness" in x for x in section)
    assert max(len(x) for x in section) <= 100, max(section, key=len)


def test_the_suite_gate_applies_unless_the_command_line_replaces_it(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("gated", "select:\n  stratified: 15\ngate:\n  - correctness>=0.99\n")
    replay = write_replay()
    assert _run(pytester, replay).ret == pytest.ExitCode.TESTS_FAILED
    assert _run(pytester, replay, "--mathif-gate=correctness>=0").ret == pytest.ExitCode.OK


def test_a_missing_response_is_an_error_item_that_fails_the_run(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("one", "select:\n  files: [aime_single]\n  limit: 3\n")
    replay = write_replay(correct=lambda uid: True, skip=lambda uid: uid == "aime_single-1")
    result = _run(pytester, replay, "--mathif-gate=correctness>=0")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of one::aime_single-1*",
            'aime_single-1: *uid "aime_single-1" not in responses.jsonl*',
            "*errors: 1 (aime_single-1)*",
        ]
    )
    assert "During handling" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_failing_ordinary_test_is_never_masked_by_the_gate(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    pytester.makepyfile(test_other="def test_other():\n    assert False\n")
    result = _run(pytester, write_replay(), "--mathif-gate=correctness>=0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*0 MathIF errors and 1 other failed test always fail the run*"])


def test_strict_mode_fails_on_any_failed_sample(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(), "--mathif-gate=correctness>=0", "--mathif-strict")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_run_with_no_selected_case_is_not_turned_into_a_pass(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(), "-k", "no_such_sample")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_failure_message_lists_each_violated_constraint_and_the_wrong_answer(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("one", "select:\n  uids: [gsm8k_double-1]\n")
    result = _run(pytester, write_replay(), "-v")  # -v: pytest lists each failed sample
    result.stdout.fnmatch_lines(
        [
            "*one::gsm8k_double-1*",
            "gsm8k_double-1: change_case:english_lowercase: *",
            "answer incorrect: extracted 'I do not know', expected '*'*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_suites_with_and_without_constraints_run_together_and_write_one_results_file(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("with", "select:\n  files: [aime_single]\n")
    suite("without", "select:\n  files: [aime_single]\nconstraints: false\n")
    results = pytester.path / "r.json"
    result = _run(pytester, write_replay(correct=lambda uid: True), f"--mathif-results={results}")
    result.stdout.fnmatch_lines(["suite with:", "*20 prompts*", "suite without:", "*20 prompts*"])
    document = __import__("json").loads(results.read_text())
    assert document["summary"]["prompts"] == 40  # a sample with and without constraints: 2 prompts
    assert document["suites"]["without"]["summary"].get("hard_accuracy") is None


def test_an_unwritable_results_file_fails_the_run_with_a_message(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    (pytester.path / "blocked").write_text("a file, not a directory")
    result = _run(
        pytester,
        write_replay(),
        "--mathif-gate=correctness>=0",
        f"--mathif-results={pytester.path / 'blocked' / 'r.json'}",
    )
    result.stdout.fnmatch_lines(["*mathif: could not write --mathif-results:*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_the_results_file_keeps_each_answer_segment_for_a_later_comparison(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("one", "select:\n  files: [aime_single]\n")
    results = pytester.path / "r.json"
    _run(pytester, write_replay(correct=lambda uid: True), f"--mathif-results={results}")
    cases = __import__("json").loads(results.read_text())["cases"]
    assert len(cases) == 20
    assert {c["answer"] for c in cases} >= {"The final answer is \\boxed{045}"}
    assert all(c["answer"].startswith("The final answer is \\boxed{") for c in cases)
