from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def test_each_sample_is_one_item_named_by_its_uid(
    pytester: pytest.Pytester, suite: Callable[..., Path]
) -> None:
    suite("smoke", "select:\n  files: [aime_single]\n")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["smoke.yaml::aime_single-0", "smoke.yaml::aime_single-19", "20 tests collected*"]
    )
    assert result.ret == pytest.ExitCode.OK


def test_collect_only_needs_no_model_and_generates_nothing(
    pytester: pytest.Pytester, suite: Callable[..., Path], store_args: list[str]
) -> None:
    suite()
    result = pytester.runpytest("--collect-only", "-q", *store_args)
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / "store.sqlite").exists()


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (["-k", "aime"], 3),
        (["-m", "triple"], 5),
        (["-m", "aime and triple"], 1),
        (["-k", "keywords:frequency"], None),
        (["-m", "keywords_frequency"], None),
    ],
    ids=[
        "keyword-source",
        "marker-level",
        "marker-combination",
        "keyword-constraint-id",
        "marker-constraint",
    ],
)
def test_items_are_selectable_by_source_level_and_constraint(
    pytester: pytest.Pytester, suite: Callable[..., Path], selector: list[str], expected: int | None
) -> None:
    suite()
    result = pytester.runpytest("--collect-only", "-q", *selector)
    assert result.ret == pytest.ExitCode.OK
    collected = [line for line in result.outlines if "::" in line]
    if expected is not None:
        assert len(collected) == expected
    assert collected


def test_data_markers_are_registered_once_and_pass_strict_markers(
    pytester: pytest.Pytester, suite: Callable[..., Path]
) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    aime: declared by the user\n")
    pytester.makeconftest(
        "def pytest_collection_finish(session):\n"
        "    for line in session.config.getini('markers'):\n"
        "        print('MARKER', line)\n"
    )
    suite()
    result = pytester.runpytest("--collect-only", "-q", "--strict-markers", "-m", "aime or triple")
    assert result.ret == pytest.ExitCode.OK
    assert [line for line in result.outlines if "::" in line]
    markers = [line.removeprefix("MARKER ") for line in result.outlines if "MARKER" in line]
    assert [line for line in markers if line.startswith("aime:")] == ["aime: declared by the user"]
    assert markers.count("triple: MathIF samples (triple)") == 1


def test_yaml_files_without_a_mathif_key_are_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", ci="on: push\njobs: {}\n")
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_a_broken_suite_is_a_usage_error_with_a_readable_message(
    pytester: pytest.Pytester, suite: Callable[..., Path]
) -> None:
    suite("broken", "gates: ['hard_accuracy>=0.4']\n")
    result = pytester.runpytest("--model", "x.jsonl")
    result.stderr.fnmatch_lines(["*broken.yaml: unknown key mathif.gates; did you mean 'gate'?*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_bad_threshold_in_a_suite_exits_4_before_anything_generates(
    pytester: pytest.Pytester, suite: Callable[..., Path], store_args: list[str]
) -> None:
    suite("wrong", "gate: ['hard_accuracy>=10']\n")
    result = pytester.runpytest("--model", "x.jsonl", *store_args)
    result.stderr.fnmatch_lines(["*wrong.yaml: *hard_accuracy>=10*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert not (pytester.path / "store.sqlite").exists()


def test_a_suite_selecting_an_unknown_source_names_it(
    pytester: pytest.Pytester, suite: Callable[..., Path]
) -> None:
    suite("typo", "select:\n  sources: [gsm8kk]\n")
    result = pytester.runpytest("--collect-only")
    result.stderr.fnmatch_lines(["*'gsm8kk' is not in the data; did you mean 'gsm8k'?*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_running_mathif_cases_without_a_model_is_a_usage_error(
    pytester: pytest.Pytester, suite: Callable[..., Path]
) -> None:
    suite()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no model was given; pass --model PATH_OR_URL*"])
