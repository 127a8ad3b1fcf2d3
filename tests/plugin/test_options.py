from __future__ import annotations

import importlib.metadata

import pytest


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    assert any(p.name == "mathif" and p.value == "mathif_pytest.plugin" for p in points)


def test_help_lists_the_options_without_dash_p(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        ["*--model=PATH_OR_URL*", "*--mathif-backend*", "*--mathif-gate=EXPR*", "*mathif_data*"]
    )


def test_plugin_loads_with_autoload_disabled_and_dash_p(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess("-p", "mathif", "--help")
    result.stdout.fnmatch_lines(["*--mathif-gate=EXPR*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--mathif-gate", "hard_accuracy=0.4"],
            "*--mathif-gate*not a gate expression*METRIC[[]GROUP[]]>=VALUE*",
        ),
        (["--mathif-gate", "hacc>=0.4"], "*--mathif-gate*unknown metric 'hacc'*"),
        (["--mathif-top-p", "1.5"], "*--mathif-top-p*not a fraction between 0 and 1*"),
        (["--mathif-seed", "abc"], "*--mathif-seed*not an integer or 'none'*"),
        (["--mathif-samples", "0"], "*--mathif-samples*not a positive integer*"),
        (["--mathif-backend", "tgi"], "*--mathif-backend*invalid choice*"),
        (["--mathif-engine-arg", "tensor_parallel_size"], "*--mathif-engine-arg*not KEY=VALUE*"),
        (["--mathif-deviation", "lenient"], "*--mathif-deviation*not a deviation; choose from*"),
        (["--mathif-top-p", "abc"], "*argument --mathif-top-p: 'abc' is not a number"),
        (["--mathif-samples", "two"], "*argument --mathif-samples: 'two' is not an integer"),
        (
            ["--mathif-temperature", "-1"],
            "*argument --mathif-temperature: '-1' is not a number >= 0",
        ),
        (["--mathif-alpha", "0.5"], "*argument --mathif-alpha: '0.5' is not a significance level*"),
        (["--mathif-gate", "hard_accuracy>=40"], "*--mathif-gate*did you mean 0.4 (40%)?"),
    ],
    ids=[
        "gate-form",
        "gate-metric",
        "top-p",
        "seed",
        "samples",
        "backend",
        "engine-arg",
        "deviation",
        "not-a-number",
        "not-an-integer",
        "negative-temperature",
        "alpha",
        "gate-percent-without-sign",
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_option(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_bad_ini_gate_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmathif_gate =\n    hard_accuracy>=x\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini mathif_gate*not a gate expression*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mathif-alpha=0.05", "--mathif-row-alpha=0.01"], "*exclude each other*"),
        (["--mathif-min-power=1.5"], "*POWER or POWER@DROP*"),
        (["--mathif-min-power=0.8@0"], "*POWER or POWER@DROP*"),
        (["--mathif-alpha=0.7"], "*significance level in (0, 0.5)*"),
    ],
    ids=["alpha-and-row-alpha", "power-above-one", "zero-drop", "alpha-too-large"],
)
def test_bad_gate_statistics_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
