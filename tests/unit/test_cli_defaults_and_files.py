"""`mathif score` finds the checkout's `mathif_data`; results and comparisons are shared files."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from _synthetic_runs import write_runs

from mathif_pytest.cli import main
from mathif_pytest.cli.checkout import ini_data
from mathif_pytest.dataset import load_dataset
from mathif_pytest.runfile import write_text_atomic


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("pyproject.toml", '[tool.pytest.ini_options]\nmathif_data = "data"\n', "{top}/data"),
        ("pytest.ini", "[pytest]\nmathif_data = hf://owner/name\n", "hf://owner/name"),
        ("tox.ini", "[pytest]\nmathif_data = ../shared\n", "{parent}/shared"),
        ("setup.cfg", "[tool:pytest]\nmathif_data = data\n", "{top}/data"),
        ("pytest.ini", "[pytest]\naddopts = -q\n", None),  # pytest's file, without the key
    ],
    ids=["pyproject", "pytest-ini-hub", "tox-ini-relative", "setup-cfg", "no-key"],
)
def test_the_data_is_the_ini_key_of_the_pytest_configuration_above(
    tmp_path: Path, name: str, text: str, expected: str | None
) -> None:
    top = tmp_path / "checkout"
    (top / "src" / "deep").mkdir(parents=True)
    (top / name).write_text(text, encoding="utf-8")
    found = ini_data(top / "src" / "deep")
    assert found == (expected and expected.format(top=top, parent=tmp_path))


def test_files_that_configure_no_pytest_are_skipped_and_the_first_one_wins(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nmathif_data = "a"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "setup.cfg").write_text("[metadata]\nname = x\n")  # no [tool:pytest]
    (inner / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert ini_data(inner) == str(tmp_path / "a")
    (inner / "tox.ini").write_text("[pytest]\n")  # pytest would stop here: no key
    assert ini_data(inner) is None


def test_outside_any_checkout_there_is_no_default(tmp_path: Path) -> None:
    assert ini_data(tmp_path) is None or not str(ini_data(tmp_path)).startswith(str(tmp_path))


@pytest.fixture
def aime_responses(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "r.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for sample in load_dataset(data_dir / "aime_single.jsonl").samples:
            handle.write(json.dumps({"uid": sample.uid, "response": "\\boxed{1}"}) + "\n")
    return path


def test_score_without_data_reads_the_checkout_ini_key(
    tmp_path: Path,
    data_dir: Path,
    aime_responses: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nmathif_data = {data_dir}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["score", "--responses", str(aime_responses), "--jobs", "1"]) == 0
    assert f"20 responses to 20 of 420 prompts from {data_dir.resolve()}" in capsys.readouterr().out


def test_score_without_data_and_without_the_key_says_what_to_pass(
    tmp_path: Path,
    aime_responses: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["score", "--responses", str(aime_responses)]) == 2
    assert "--data is required here" in capsys.readouterr().err


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_results_and_comparisons_are_readable_by_others(
    tmp_path: Path, data_dir: Path, aime_responses: Path, umask_022: None
) -> None:
    out = tmp_path / "results.json"
    args = ["score", "--data", str(data_dir), "--responses", str(aime_responses), "--jobs", "1"]
    assert main([*args, "--out", str(out)]) == 0
    assert _mode(out) == 0o644
    runs = write_runs(tmp_path / "runs")
    assert main(["compare", *map(str, runs[:2]), "--out-dir", str(tmp_path / "cmp")]) == 0
    assert _mode(tmp_path / "cmp" / "comparison.json") == 0o644


def test_atomic_writes_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_text_atomic(tmp_path / "private.json", "{}")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "private.json") == 0o600
