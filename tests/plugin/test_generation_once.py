from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Suite = Callable[..., Path]
Replay = Callable[..., Path]

LOGGING_CONFTEST = """
import json, os
from pathlib import Path

LOG = Path(__file__).parent / "generate-calls.jsonl"

def pytest_mathif_make_backend(config, backend_config):
    from mathif_pytest.backends.resolve import make_backend
    inner = make_backend(backend_config)

    class Logged:
        name = inner.name
        def describe(self):
            return inner.describe()
        def generate(self, requests):
            with LOG.open("a") as handle:
                uids = sorted({r.uid for r in requests})
                handle.write(json.dumps({"pid": os.getpid(), "uids": uids,
                                         "n": len(requests)}) + "\\n")
            yield from inner.generate(requests)
        def close(self):
            inner.close()
    return Logged()
"""


def _calls(pytester: pytest.Pytester) -> list[dict[str, object]]:
    log = pytester.path / "generate-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def logged(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LOGGING_CONFTEST)


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
    calls = _calls(pytester)
    assert len(calls) == 1 and calls[0]["n"] == 15


@pytest.mark.usefixtures("logged")
def test_deselected_items_are_not_generated(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    _run(pytester, write_replay(), "-k", "aime")
    assert [c["n"] for c in _calls(pytester)] == [3]


@pytest.mark.usefixtures("logged")
def test_an_identical_second_run_generates_nothing(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    replay = write_replay()
    first = _run(pytester, replay)
    second = _run(pytester, replay)
    assert len(_calls(pytester)) == 1
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
    assert len(_calls(pytester)) == 2


@pytest.mark.usefixtures("logged")
def test_rescore_reads_the_store_and_never_builds_a_backend(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    replay = write_replay()
    _run(pytester, replay, "-k", "aime")
    result = _run(pytester, replay, "--mathif-rescore")
    assert len(_calls(pytester)) == 1
    result.assert_outcomes(failed=3, errors=12)
    result.stdout.fnmatch_lines(["*no stored response for *run without --mathif-rescore*"])


@pytest.mark.usefixtures("logged")
def test_several_samples_per_prompt_are_generated_together(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite()
    result = _run(pytester, write_replay(samples=2), "--mathif-samples=2")
    assert [c["n"] for c in _calls(pytester)] == [30]
    result.stdout.fnmatch_lines(["*15 prompts, 30 responses*"])


@pytest.mark.usefixtures("logged")
def test_suites_sharing_samples_share_their_responses(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite("a", "select:\n  files: [aime_single]\n")
    suite("b", "select:\n  files: [aime_single]\n  limit: 5\n")
    result = _run(pytester, write_replay())
    result.assert_outcomes(failed=25)
    assert [c["n"] for c in _calls(pytester)] == [20]
    result.stdout.fnmatch_lines(["suite a:", "*20 prompts*", "suite b:", "*5 prompts*"])
