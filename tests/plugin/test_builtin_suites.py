"""Built-in suites in the package: `pytest --model X` alone, --mathif-suite, listing, extends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Replay = Callable[..., Path]


@pytest.fixture
def run_args(data_dir: Path, store_args: list[str]) -> list[str]:
    return [f"--mathif-data={data_dir}", *store_args, "-p", "no:cacheprovider"]


def test_model_alone_runs_the_default_suite_and_the_gate_decides(
    pytester: pytest.Pytester, write_replay: Replay, run_args: list[str]
) -> None:
    replay = write_replay(correct=lambda uid: not uid.startswith("aime"))
    passing = pytester.runpytest(f"--model={replay}", *run_args, "--mathif-gate=correctness>=0.8")
    outcomes = passing.parseoutcomes()
    assert outcomes["passed"] + outcomes["failed"] == 420
    passing.stdout.fnmatch_lines(
        [
            "mathif reproduce: pytest --model=*",
            "suite full: the default (no suite among the paths); choose another with",
            "  --mathif-suite NAME (--mathif-list-suites) or the mathif_default_suite ini key",
            "mathif: PASSED (exit status 0)*",
        ]
    )
    assert passing.ret == pytest.ExitCode.OK
    failing = pytester.runpytest(f"--model={replay}", *run_args, "--mathif-gate=correctness>=0.9")
    failing.stdout.fnmatch_lines(
        ["*0 responses generated*420 reused*", "mathif: FAILED (exit status 1)*"]
    )
    assert failing.ret == pytest.ExitCode.TESTS_FAILED


def test_the_default_suite_uses_its_own_gate(
    pytester: pytest.Pytester, write_replay: Replay, run_args: list[str]
) -> None:
    result = pytester.runpytest(f"--model={write_replay()}", *run_args)
    result.stdout.fnmatch_lines(["*correctness*>= 20.00%*observed*0/420*FAIL*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_named_built_in_suite_runs_instead_of_the_default(
    pytester: pytest.Pytester, write_replay: Replay, run_args: list[str]
) -> None:
    result = pytester.runpytest(
        f"--model={write_replay()}", "--mathif-suite", "smoke", *run_args, "--co", "-q"
    )
    result.stdout.fnmatch_lines(["mathif/smoke.yaml::aime_double-*", "45 tests collected*"])
    assert "the default" not in result.stdout.str()


def test_overlapping_suites_generate_each_prompt_once_and_say_so(
    pytester: pytest.Pytester, write_replay: Replay, run_args: list[str]
) -> None:
    result = pytester.runpytest(
        f"--model={write_replay(correct=lambda uid: True)}",
        "--mathif-suite=smoke",
        "--mathif-suite=gsm8k",
        *run_args,
        "--mathif-gate=correctness>=0.9",
    )
    result.stdout.fnmatch_lines(
        [
            "*2 suites, 135 scored responses, 126 distinct prompts*generated once*",
            "*126 responses generated*",
        ]
    )
    assert result.ret == pytest.ExitCode.OK


def test_unknown_suite_names_are_usage_errors_with_a_did_you_mean(
    pytester: pytest.Pytester, run_args: list[str]
) -> None:
    result = pytester.runpytest("--model=x.jsonl", "--mathif-suite=smok", *run_args)
    result.stderr.fnmatch_lines(["*--mathif-suite: suite 'smok'*did you mean 'smoke'?*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_list_suites_prints_each_built_in_with_its_size(
    pytester: pytest.Pytester, data_dir: Path
) -> None:
    result = pytester.runpytest("--mathif-list-suites", f"--mathif-data={data_dir}")
    result.stdout.fnmatch_lines(
        [
            "built-in MathIF suites (sizes from *",
            "  aime  * 60 samples  *",
            "  full  *420 samples  The whole benchmark, as in the paper.",
            "  no_constraints *420 samples (no constraints)*",
            "  smoke *45 samples  *",
            "run one with --mathif-suite NAME*",
        ]
    )
    assert result.ret == pytest.ExitCode.OK


def test_a_suite_can_extend_a_built_in_and_replace_its_gate(
    pytester: pytest.Pytester, write_replay: Replay, run_args: list[str]
) -> None:
    pytester.makefile(".yaml", mine="mathif:\n  extends: smoke\n  gate: ['correctness>=0.5']\n")
    result = pytester.runpytest(
        "mine.yaml", f"--model={write_replay(correct=lambda uid: True)}", *run_args
    )
    result.stdout.fnmatch_lines(["suite mine:", "*45 prompts, 45 responses*", "*correctness*PASS*"])
    assert "hard_accuracy  " not in result.stdout.str().split("gate:")[-1]
    assert result.ret == pytest.ExitCode.OK


def test_a_suite_that_extends_itself_is_a_readable_usage_error(
    pytester: pytest.Pytester, run_args: list[str]
) -> None:
    pytester.makefile(".yaml", a="mathif:\n  extends: b.yaml\n", b="mathif:\n  extends: a.yaml\n")
    result = pytester.runpytest("a.yaml", "--model=x.jsonl", *run_args)
    result.stderr.fnmatch_lines(["*a.yaml: extends itself (*a.yaml -> *b.yaml -> *a.yaml)*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_the_default_suite_is_not_added_when_a_suite_was_collected_or_is_turned_off(
    pytester: pytest.Pytester, suite: Callable[..., Path], run_args: list[str]
) -> None:
    suite("mine", "select:\n  files: [aime_single]\n")
    collected = pytester.runpytest("--model=x.jsonl", *run_args, "--co", "-q")
    collected.stdout.fnmatch_lines(["20 tests collected*"])
    (pytester.path / "mine.yaml").unlink()
    pytester.makeini("[pytest]\nmathif_default_suite = none\n")
    off = pytester.runpytest("--model=x.jsonl", *run_args, "--co", "-q")
    assert off.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_users_other_tests_still_run_beside_the_default_suite(
    pytester: pytest.Pytester, write_replay: Replay, run_args: list[str]
) -> None:
    pytester.makepyfile(test_mine="def test_plain():\n    assert True\n")
    result = pytester.runpytest(
        f"--model={write_replay()}", *run_args, "-k", "plain or aime_single-0"
    )
    result.assert_outcomes(passed=1, failed=1, deselected=419)


def test_a_path_outside_the_project_that_hides_its_configuration_is_a_usage_error(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\nmathif_default_suite = 'smoke'\n")
    outside = tmp_path_factory.mktemp("elsewhere") / "responses.jsonl"
    outside.write_text("")
    result = pytester.runpytest_subprocess("--model", str(outside))
    result.stderr.fnmatch_lines(
        [f"*pytest did not read {pytester.path / 'pyproject.toml'}, because the command line "
         f"names {outside}*write such options as one word, e.g. --model=PATH*"]
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
