from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest
from _synthetic_runs import synthetic_run, write_runs

from mathif_pytest.cli import main
from mathif_pytest.runfile import build_document, write_json_atomic

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_runs(tmp_path_factory.mktemp("sweep"))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_compare_prints_tables_writes_plots_json_and_markdown(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, md = tmp_path / "out", tmp_path / "summary.md"
    assert main(["compare", *map(str, runs), "--out-dir", str(out), "--markdown", str(md)]) == 0
    text = capsys.readouterr().out
    assert "Checkpoints (% with 95% Wilson intervals)" in text
    assert "ckpt-100 -> ckpt-200  HAcc" in text and "mcnemar-exact" in text
    assert "By source: Correct %" in text and "By constraint type: followed %" in text
    for name in ("tradeoff.png", "constraints.png"):
        width, height = _png_size(out / name)
        assert 600 <= width <= 3000 and 400 <= height <= 3000
        assert 20_000 < (out / name).stat().st_size < 2_000_000
    document = json.loads((out / "comparison.json").read_text())
    assert [c["label"] for c in document["checkpoints"]] == ["ckpt-100", "ckpt-200", "ckpt-300"]
    assert len(document["comparisons"]) == 2
    markdown = md.read_text()
    assert markdown.startswith("## MathIF checkpoint comparison")
    assert "![reasoning vs obedience](out/tradeoff.png)" in markdown
    assert "| checkpoint | prompts | responses | HAcc % |" in markdown
    assert "<details><summary>By constraint type: followed %</summary>" in markdown


def test_the_markdown_repeats_the_terminal_numbers(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    md = tmp_path / "s.md"
    assert main(["compare", str(runs[0]), str(runs[1]), "--markdown", str(md)]) == 0
    row = next(
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("ckpt-100 -> ckpt-200  HAcc")
    )
    delta = row.split()[5]
    assert f"| ckpt-100 -> ckpt-200 | HAcc | 420 | {delta}" in md.read_text()
    assert "![" not in md.read_text()  # no --out-dir, no plots


def test_one_run_is_summarised_without_comparisons(
    runs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(runs[0])]) == 0
    text = capsys.readouterr().out
    assert "Checkpoints" in text and "Paired comparisons" not in text


def test_labels_name_the_checkpoints(runs: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(runs[0]), str(runs[1]), "--label", "base", "--label", "rl"]) == 0
    assert "base -> rl" in capsys.readouterr().out


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [str(d / "missing.json")], "no such results file"),
        (lambda d: [_write(d / "x.json", "{}")], "not a mathif results document"),
        (lambda d: [_write(d / "y.json", "not json")], "not a readable JSON results file"),
        (lambda d: [], "no results files given"),
    ],
    ids=["missing", "not-a-results-document", "not-json", "no-runs"],
)
def test_bad_input_is_a_one_line_error_and_exit_2(
    make: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", *make(tmp_path)]) == 2  # type: ignore[operator]
    assert message in _error(capsys)


def test_a_label_per_run_is_required(runs: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(runs[0]), str(runs[1]), "--label", "only-one"]) == 2
    assert "one distinct --label per results file" in _error(capsys)


def test_different_data_revisions_warn_but_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for step, revision in ((0, "rev-a"), (1, "rev-b")):
        document = build_document(synthetic_run(step), {"data": {"revision": revision}})
        paths.append(tmp_path / f"run{step}.json")
        write_json_atomic(paths[-1], document)
    assert main(["compare", *map(str, paths)]) == 0
    captured = capsys.readouterr()
    assert "warning: the runs were scored on different data revisions" in captured.err
    assert "run0 -> run1" in captured.out


def test_plots_without_matplotlib_ask_for_the_allure_extra(
    runs: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["compare", str(runs[0]), "--out-dir", str(tmp_path)]) == 2
    assert "install mathif-pytest[allure] for plots" in _error(capsys)


def test_a_bad_alpha_is_a_usage_error(runs: list[Path]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(runs[0]), "--alpha", "2"])
    assert exit_info.value.code == 2


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)
