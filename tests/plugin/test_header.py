from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def test_a_session_without_suites_or_options_stays_silent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess()  # a real process: nothing shared with this session
    output = result.stdout.str() + result.stderr.str()
    # (the "plugins:" line lists "mathif-pytest-<version>"; that is pytest, not us)
    for text in ("mathif-pytest ", "mathif reproduce", "mathif summary", "mathif:"):
        assert text not in output
    result.assert_outcomes(passed=1)


def test_the_header_shows_a_line_that_reproduces_the_run(
    pytester: pytest.Pytester, suite: Callable[..., Path], write_replay: Callable[..., Path]
) -> None:
    suite()
    replay = write_replay()
    result = pytester.runpytest(
        "--model",
        str(replay),
        "--mathif-seed",
        "7",
        "--mathif-temperature",
        "0.6",
        "--mathif-store",
        str(pytester.path / "s.sqlite"),
        "--collect-only",
    )
    result.stdout.fnmatch_lines(
        [
            "mathif-pytest *: store *s.sqlite",
            f"mathif reproduce: pytest --model={replay} --mathif-temperature 0.6 --mathif-seed 7",
        ]
    )


def test_the_header_reproduces_how_the_gate_judges_its_tested_rows(
    pytester: pytest.Pytester, suite: Callable[..., Path], write_replay: Callable[..., Path]
) -> None:
    suite()
    result = pytester.runpytest(
        "--model",
        str(write_replay()),
        "--mathif-row-alpha=0.01",
        "--mathif-min-power=0.8@5%",
        "--mathif-absolute=significant",
        f"--mathif-store={pytester.path / 's.sqlite'}",
        "--collect-only",
    )
    result.stdout.fnmatch_lines(
        [
            "mathif reproduce: pytest --model=* --mathif-row-alpha 0.01 "
            "--mathif-min-power 0.8@0.05 --mathif-absolute significant"
        ]
    )
