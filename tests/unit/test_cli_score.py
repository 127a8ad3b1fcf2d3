from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathif_pytest.cli import main
from mathif_pytest.dataset import load_dataset


def _responses(path: Path, data_dir: Path, *, right: bool = True) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for sample in load_dataset(data_dir / "aime_single.jsonl").samples:
            text = f"<think>hm</think>\\boxed{{{sample.answer}}}" if right else "no idea"
            handle.write(json.dumps({"uid": sample.uid, "response": text}) + "\n")
    return path


def test_score_prints_the_summary_and_writes_summary_and_cases(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    responses = _responses(tmp_path / "r.jsonl", data_dir)
    status = main(
        [
            "score",
            "--data",
            str(data_dir),
            "--responses",
            str(responses),
            "--out",
            str(out),
            "--jobs",
            "1",
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "20 responses to 20 of 420 prompts" in printed
    assert "correctness     100.00" in printed
    document = json.loads(out.read_text())
    summary = document["summary"]
    assert summary["n"] == 20 and summary["correctness"]["value"] == 1.0
    assert {"hard_accuracy", "soft_accuracy", "by_source", "by_level", "by_constraint"} <= set(
        summary
    )
    case = document["cases"][0]
    assert case["uid"] == "aime_single-0" and case["sample"] == 0
    assert len(case["follow"]) == len(case["details"]) == 1
    assert case["correct"] is True and case["extracted"] == case["reference"]


def test_score_reads_the_official_output_format(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = load_dataset(data_dir / "aime_single.jsonl").samples
    path = tmp_path / "official.jsonl"
    path.write_text(
        "".join(json.dumps({"output": [f"\\boxed{{{s.answer}}}"]}) + "\n" for s in samples)
    )
    status = main(
        [
            "score",
            "--data",
            str(data_dir),
            "--responses",
            str(path),
            "--aligned-to",
            "aime_single",
            "--jobs",
            "1",
        ]
    )
    assert status == 0
    assert "correctness     100.00" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"uid": "aime_single-0", "response": "x"}', "{oops"], r"r\.jsonl:2: not valid JSON"),
        (['{"uid": "nope-1", "response": "x"}'], r"r\.jsonl:1: unknown uid 'nope-1'"),
    ],
    ids=["malformed-line", "unknown-uid"],
)
def test_bad_input_exits_2_names_the_line_and_writes_nothing(
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    message: str,
) -> None:
    import re

    responses = tmp_path / "r.jsonl"
    responses.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.json"
    status = main(
        ["score", "--data", str(data_dir), "--responses", str(responses), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".results.json.*"))


def test_an_aligned_file_missing_a_row_is_an_error(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "official.jsonl"
    path.write_text(json.dumps({"output": ["x"]}) + "\n")
    status = main(
        ["score", "--data", str(data_dir), "--responses", str(path), "--aligned-to", "aime_single"]
    )
    assert status == 2
    assert "1 responses for 20 rows of aime_single.jsonl" in capsys.readouterr().err


def test_the_console_script_is_installed() -> None:
    import importlib.metadata

    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert any(s.name == "mathif" and s.value == "mathif_pytest.cli:main" for s in scripts)


def test_score_gives_identical_results_with_one_and_two_workers(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses = _responses(tmp_path / "r.jsonl", data_dir)
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"results-{jobs}.json"
        command = ["score", "--data", str(data_dir), "--responses", str(responses)]
        assert main([*command, "--out", str(out), "--jobs", jobs]) == 0
        outs.append(json.loads(out.read_text())["cases"])
    capsys.readouterr()
    assert outs[0] == outs[1]
    assert [case["correct"] for case in outs[0]] == [True] * 20
