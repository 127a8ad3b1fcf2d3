from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathif_pytest.dataset import Dataset, load_dataset
from mathif_pytest.errors import ResponsesError
from mathif_pytest.responses import read_responses


@pytest.fixture(scope="module")
def dataset(data_dir: Path) -> Dataset:
    return load_dataset(data_dir)


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_repeated_uid_is_the_next_sample(tmp_path: Path, dataset: Dataset) -> None:
    path = _jsonl(
        tmp_path / "r.jsonl",
        [
            {"uid": "aime_single-0", "response": "a"},
            {"uid": "aime_single-1", "response": "b", "finish_reason": "length"},
            {"uid": "aime_single-0", "response": "c"},
        ],
    )
    records = read_responses(path, dataset)
    assert [(r.uid, r.sample, r.text) for r in records] == [
        ("aime_single-0", 0, "a"),
        ("aime_single-1", 0, "b"),
        ("aime_single-0", 1, "c"),
    ]
    assert records[1].finish_reason == "length"


def test_an_unknown_uid_names_the_line_and_suggests_one(tmp_path: Path, dataset: Dataset) -> None:
    path = _jsonl(
        tmp_path / "r.jsonl",
        [{"uid": "aime_single-0", "response": "a"}, {"uid": "aime_singel-1", "response": "b"}],
    )
    with pytest.raises(
        ResponsesError, match=r"r\.jsonl:2: unknown uid 'aime_singel-1'; did you mean"
    ):
        read_responses(path, dataset)


def test_a_missing_response_field_shows_the_expected_line(tmp_path: Path, dataset: Dataset) -> None:
    path = _jsonl(tmp_path / "r.jsonl", [{"uid": "aime_single-0", "text": "a"}])
    with pytest.raises(
        ResponsesError, match=r"r\.jsonl:1: field 'response' must be a string \(got missing\)"
    ):
        read_responses(path, dataset)


def test_official_output_format_is_aligned_with_one_data_file(
    tmp_path: Path, dataset: Dataset
) -> None:
    rows = [{"output": [f"answer {i}"]} for i in range(20)]
    records = read_responses(_jsonl(tmp_path / "o.jsonl", rows), dataset, aligned_to="aime_double")
    assert [r.uid for r in records] == [f"aime_double-{i}" for i in range(20)]


def test_an_aligned_file_with_a_missing_row_is_an_error_not_a_truncation(
    tmp_path: Path, dataset: Dataset
) -> None:
    rows = [{"output": ["x"]} for _ in range(19)]
    with pytest.raises(
        ResponsesError, match=r"19 responses for 20 rows of aime_double\.jsonl.*aime_double-19"
    ):
        read_responses(_jsonl(tmp_path / "o.jsonl", rows), dataset, aligned_to="aime_double")


def test_aligned_to_an_unknown_file_suggests_one(tmp_path: Path, dataset: Dataset) -> None:
    with pytest.raises(ResponsesError, match="did you mean 'aime_double'"):
        read_responses(
            _jsonl(tmp_path / "o.jsonl", [{"output": ["x"]}]), dataset, aligned_to="aime_doubel"
        )
