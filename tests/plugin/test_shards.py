"""`--mathif-shard I/N`: CI shards that are disjoint, cover the run, and merge to one verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mathif_pytest.cli import main

Suite = Callable[..., Path]
Replay = Callable[..., Path]
GATE = "--mathif-gate=correctness>=0.9"


def uids(results: Path) -> list[str]:
    return [case["uid"] for case in json.loads(results.read_text())["cases"]]


def test_two_shards_are_disjoint_cover_the_suite_and_merge_to_the_verdict_of_one_run(
    pytester: pytest.Pytester, suite: Suite, write_replay: Replay
) -> None:
    suite(body="select:\n    stratified: 45\n")
    model = f"--model={write_replay(correct=lambda uid: uid.endswith(('1', '3', '5')))}"
    path = pytester.path
    whole = pytester.runpytest(
        model,
        f"--mathif-store={path / 'one.sqlite'}",
        f"--mathif-results={path / 'one.json'}",
        GATE,
    )
    shards = []
    for index in range(2):
        result = pytester.runpytest(
            model,
            f"--mathif-shard={index}/2",
            f"--mathif-store={path / f'shard{index}.sqlite'}",
            f"--mathif-results={path / f'shard{index}.json'}",
            "--mathif-gate=correctness>=0",
        )
        result.stdout.fnmatch_lines(
            [f"mathif shard: --mathif-shard {index}/2 (shard {index} of 2 *", "*deselected*"]
        )
        shards.append(set(uids(path / f"shard{index}.json")))
    assert not shards[0] & shards[1]
    assert shards[0] | shards[1] == set(uids(path / "one.json"))
    assert min(len(s) for s in shards) > 10

    merged = path / "all.sqlite"
    assert (
        main(
            [
                "merge-stores",
                str(path / "shard0.sqlite"),
                str(path / "shard1.sqlite"),
                "--out",
                str(merged),
            ]
        )
        == 0
    )
    rescore = pytester.runpytest(
        model,
        f"--mathif-store={merged}",
        "--mathif-rescore",
        f"--mathif-results={path / 'all.json'}",
        GATE,
    )
    one, all_ = (
        json.loads((path / "one.json").read_text()),
        json.loads((path / "all.json").read_text()),
    )
    assert rescore.ret == whole.ret == pytest.ExitCode.TESTS_FAILED  # the gate fails in both
    assert all_["suites"] == one["suites"] and all_["summary"] == one["summary"]


@pytest.mark.parametrize("text", ["2/2", "one/2"])
def test_a_bad_shard_is_a_usage_error(pytester: pytest.Pytester, suite: Suite, text: str) -> None:
    suite()
    result = pytester.runpytest(f"--mathif-shard={text}", "--model=x.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mathif-shard*"])
