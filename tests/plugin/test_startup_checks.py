"""Mistakes that can be known at start-up exit 4 with one message, before any response is made.

"Before any response is made": the response store, which the first generation creates, does
not exist after the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Suite = Callable[..., Path]
Replay = Callable[..., Path]


def _run(pytester: pytest.Pytester, model: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--model", model, f"--mathif-store={_store(pytester)}", *args)


def _store(pytester: pytest.Pytester) -> Path:
    return pytester.path / "s.sqlite"


def _assert_usage_error(pytester: pytest.Pytester, result: pytest.RunResult, message: str) -> None:
    """Exit 4, the message printed once, nothing generated."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    output = result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines([message])
    literal = message.replace("[[]", "[").replace("[]]", "]")
    needle = max(literal.split("*"), key=len)
    assert output.count(needle) == 1, output
    assert not _store(pytester).exists()


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("hard_accuracy>=10", "*'hard_accuracy>=10': a rate bound is a fraction between 0 and 1*"
         "did you mean 0.1 (10%)?*"),
        ("soft_accuracy>=150%", "*'soft_accuracy>=150%': a rate bound is a fraction*(got 150%)*"),
        ("delta.correctness>=-2", "*a delta is a difference of rates between -1 and 1 (got -2)*"),
        ("correctness[aim]>=0.2", "*'correctness[[]aim[]]>=0.2': no selected sample is in group "
         "'aim'; did you mean 'aime'?*"),
        ("compliance>=0.5", "*'compliance>=0.5': compliance is measured per constraint type; "
         "name one, e.g. compliance[[]*[]]>=0.5*"),
        ("compliance[gsm8k]>=0.5", "*'compliance[[]gsm8k[]]>=0.5': compliance is measured per "
         "constraint type*"),
        ("delta.hard_accuracy>=-0.02", "*'delta.hard_accuracy>=-0.02': a delta.* threshold "
         "compares with a baseline run; pass --mathif-baseline RESULTS.json*"),
    ],
    ids=["fraction-over-1", "percent-over-100", "delta-over-1", "unknown-group",
         "compliance-without-group", "compliance-of-a-source", "delta-without-baseline"],
)  # fmt: skip
def test_a_gate_the_run_cannot_judge_is_a_usage_error(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay, gate: str, message: str
) -> None:
    suite()
    result = _run(pytester, str(write_replay()), f"--mathif-gate={gate}")
    _assert_usage_error(pytester, result, message)


def test_a_suite_gate_the_selection_cannot_judge_names_the_suite_file(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    path = suite("plain", "constraints: false\ngate:\n  - hard_accuracy>=0.1\n")
    result = _run(pytester, str(write_replay()))
    _assert_usage_error(
        pytester, result, f"*{path}: gate 'hard_accuracy>=0.1': hard_accuracy needs constraints*"
    )


@pytest.mark.parametrize("alpha", ["2", "0.7", "0", "x"])
def test_an_alpha_outside_0_and_half_is_a_usage_error(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay, alpha: str
) -> None:
    suite()
    result = _run(pytester, str(write_replay()), f"--mathif-alpha={alpha}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --mathif-alpha: *"])
    assert not _store(pytester).exists()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("/nonexistent/checkpoint", "*--model /nonexistent/checkpoint: no such directory;*"),
        ("missing.jsonl", "*--model missing.jsonl: no such responses file;*"),
    ],
)
def test_a_missing_model_is_one_usage_error_not_one_per_case(
    pytester: pytest.Pytester, suite: Suite, model: str, message: str
) -> None:
    suite()  # 15 cases
    result = _run(pytester, model)
    _assert_usage_error(pytester, result, message)


def test_a_misspelt_suite_is_a_usage_error(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    path = suite()
    path.write_text(path.read_text().replace("mathif:", "mathf:"), encoding="utf-8")
    result = _run(pytester, str(write_replay()), str(path))
    _assert_usage_error(
        pytester, result, f"*{path}: top-level key 'mathf' looks like a misspelt suite*"
    )


def test_a_misspelt_yaml_file_beside_the_asked_one_is_left_alone(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    asked = suite()
    pytester.makefile(".yaml", other="mathf:\n  name: other\n")
    result = _run(pytester, str(write_replay()), str(asked), "--mathif-gate=correctness>=0")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_a_mistake_found_by_xdist_workers_is_one_usage_error(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    pytest.importorskip("xdist")
    suite()
    result = pytester.runpytest_subprocess(
        "--model",
        str(write_replay()),
        f"--mathif-store={_store(pytester)}",
        "--mathif-gate=correctness[aim]>=0.2",
        "-n",
        "2",
    )
    _assert_usage_error(pytester, result, "*no selected sample is in group 'aim'*")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_suite_whose_data_lacks_files_it_selects_from_is_a_warning(
    pytester: pytest.Pytester, data_dir: Path
) -> None:
    partial = pytester.mkdir("partial")
    (partial / "gsm8k_single.jsonl").symlink_to(data_dir / "gsm8k_single.jsonl")
    pytester.makefile(
        ".yaml", smoke=f"mathif:\n  name: smoke\n  data: {partial}\n  select:\n    stratified: 45\n"
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "smoke.yaml:1",
            "  *smoke.yaml:1: MathIFDataWarning: the data at *partial lacks 14 of the files this "
            "suite selects from (aime_single.jsonl, aime_double.jsonl, *, olympiad_triple.jsonl); "
            "it runs 30 samples",
        ]
    )
    assert "gsm8k_single.jsonl," not in result.stdout.str()
