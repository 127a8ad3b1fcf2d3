from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _runs import CONFTEST, generate_calls

Suite = Callable[..., Path]
Replay = Callable[..., Path]


@pytest.fixture
def logged(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)


def _run(pytester: pytest.Pytester, replay: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--model",
        str(replay),
        f"--mathif-store={pytester.path / 's.sqlite'}",
        "--mathif-gate=correctness>=0",
        *args,
    )


@pytest.mark.usefixtures("logged")
def test_the_backend_is_called_once_with_every_prompt(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay())
    result.assert_outcomes(failed=15)
    calls = generate_calls(pytester.path)
    assert len(calls) == 1 and calls[0]["n"] == 15


@pytest.mark.usefixtures("logged")
def test_deselected_items_are_not_generated(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    _run(pytester, write_replay(), "-k", "aime")
    assert [c["n"] for c in generate_calls(pytester.path)] == [3]


@pytest.mark.usefixtures("logged")
def test_an_identical_second_run_generates_nothing(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    replay = write_replay()
    first = _run(pytester, replay)
    second = _run(pytester, replay)
    assert len(generate_calls(pytester.path)) == 1
    second.stdout.fnmatch_lines(["*0 responses generated*15 reused*"])
    assert first.ret == second.ret == pytest.ExitCode.OK


@pytest.mark.usefixtures("logged")
def test_changing_sampling_generates_afresh(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    replay = write_replay()
    _run(pytester, replay)
    _run(pytester, replay, "--mathif-temperature=0.5")
    assert len(generate_calls(pytester.path)) == 2


@pytest.mark.usefixtures("logged")
def test_rescore_reads_the_store_and_never_builds_a_backend(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    replay = write_replay()
    _run(pytester, replay, "-k", "aime")
    result = _run(pytester, replay, "--mathif-rescore")
    assert len(generate_calls(pytester.path)) == 1
    result.assert_outcomes(failed=3, errors=12)
    result.stdout.fnmatch_lines(["*no stored response for *run without --mathif-rescore*"])


@pytest.mark.usefixtures("logged")
def test_several_samples_per_prompt_are_generated_together(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(samples=2), "--mathif-samples=2")
    assert [c["n"] for c in generate_calls(pytester.path)] == [30]
    result.stdout.fnmatch_lines(["*15 prompts, 30 responses*"])


@pytest.mark.usefixtures("logged")
def test_suites_sharing_samples_share_their_responses(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("a", "select:\n  files: [aime_single]\n")
    suite("b", "select:\n  files: [aime_single]\n  limit: 5\n")
    result = _run(pytester, write_replay())
    result.assert_outcomes(failed=25)
    assert [c["n"] for c in generate_calls(pytester.path)] == [20]
    result.stdout.fnmatch_lines(["suite a:", "*20 prompts*", "suite b:", "*5 prompts*"])
