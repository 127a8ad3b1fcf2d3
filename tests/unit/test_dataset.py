from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mathif_pytest.dataset import load_dataset
from mathif_pytest.errors import DatasetError, UnknownConstraintError
from mathif_pytest.prompts import build_prompt
from mathif_pytest.protocol import COT_INSTRUCTION


def _row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "source": "aime",
        "id": "x-0",
        "question": "What is 1+1?",
        "answer": "2",
        "constraint_desc": ["In your entire response, refrain from the use of any commas."],
        "constraint_name": ["punctuation:no_comma"],
        "constraint_args": [None],
    }
    row.update(overrides)
    return row


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_loads_all_420_samples_with_unique_file_row_uids(data_dir: Path) -> None:
    dataset = load_dataset(data_dir)
    assert len(dataset.samples) == 420
    assert len({s.uid for s in dataset.samples}) == 420
    assert sum(len(s.constraints) for s in dataset.samples) == 840


def test_counts_per_source_and_level_match_the_paper(data_dir: Path) -> None:
    samples = load_dataset(data_dir).samples
    for source, expected in {
        "gsm8k": 90,
        "math500": 90,
        "minerva": 90,
        "olympiad": 90,
        "aime": 60,
    }.items():
        assert sum(s.source == source for s in samples) == expected
    for level in ("single", "double", "triple"):
        assert sum(s.level == level for s in samples) == 140


def test_uid_is_file_stem_and_row_because_data_ids_repeat_across_files(data_dir: Path) -> None:
    samples = load_dataset(data_dir).by_uid()
    assert samples["gsm8k_double-3"].data_id == "gsm8k-single-3"
    assert samples["gsm8k_single-3"].data_id == "gsm8k-single-3"
    assert samples["gsm8k_double-3"].level == "double"


def test_trailing_blank_lines_are_skipped(data_dir: Path) -> None:
    samples = load_dataset(data_dir / "aime_double.jsonl").samples
    assert [s.row for s in samples] == list(range(20))


def test_revision_is_a_content_hash_that_changes_with_the_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "aime_single.jsonl", [_row()])
    first = load_dataset(path).revision
    _write(path, [_row(answer="3")])
    assert load_dataset(path).revision != first


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "aime_single.jsonl"
    path.write_text(json.dumps(_row()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"aime_single\.jsonl:2: not valid JSON"):
        load_dataset(path)


def test_unknown_constraint_suggests_the_closest_id(tmp_path: Path) -> None:
    path = _write(tmp_path / "aime_single.jsonl", [_row(constraint_name=["keywords:frequncy"])])
    with pytest.raises(UnknownConstraintError) as info:
        load_dataset(path)
    message = str(info.value)
    assert "aime_single.jsonl:1 (id=x-0)" in message
    assert "did you mean 'keywords:frequency'" in message


def test_bad_constraint_args_name_file_line_and_id(tmp_path: Path) -> None:
    row = _row(
        constraint_name=["keywords:frequency"],
        constraint_args=[{"keyword": "now", "frequency": "two", "relation": "at least"}],
    )
    with pytest.raises(DatasetError, match=r"aime_single\.jsonl:1 \(id=x-0\).*frequency"):
        load_dataset(_write(tmp_path / "aime_single.jsonl", [row]))


def test_parallel_lists_of_different_length_are_rejected(tmp_path: Path) -> None:
    row = _row(constraint_desc=["a", "b"])
    with pytest.raises(DatasetError, match="differ in length"):
        load_dataset(_write(tmp_path / "aime_single.jsonl", [row]))


def test_a_row_whose_constraint_count_contradicts_its_file_level_is_rejected(
    tmp_path: Path,
) -> None:
    with pytest.raises(DatasetError, match="'double' file row has 1 constraints"):
        load_dataset(_write(tmp_path / "aime_double.jsonl", [_row()]))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["a list"], "expected a JSON object"),
        ({"question": "q"}, "missing field 'answer'"),
        (_row(question=3), "field 'question' has type int"),
        (_row(constraint_args=["nope"]), "must be an object or null"),
    ],
    ids=["not-an-object", "missing-field", "wrong-type", "args-not-object"],
)
def test_malformed_rows_are_reported(tmp_path: Path, row: object, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(_write(tmp_path / "aime_single.jsonl", [row]))


def test_a_missing_location_says_how_to_point_at_the_data(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or directory; pass a directory"):
        load_dataset(tmp_path / "nowhere")


def test_files_of_other_names_take_their_level_from_the_constraint_count(tmp_path: Path) -> None:
    sample = load_dataset(_write(tmp_path / "mine.jsonl", [_row()])).samples[0]
    assert (sample.uid, sample.source, sample.level) == ("mine-0", "mine", "single")


def test_prompt_concatenates_question_cot_and_constraints_without_separators(
    data_dir: Path,
) -> None:
    sample = load_dataset(data_dir).by_uid()["gsm8k_double-0"]
    prompt = build_prompt(sample)
    descriptions = [c.description for c in sample.constraints]
    assert prompt == sample.question + COT_INSTRUCTION + " ".join(descriptions)
    assert 'after "####".Let\'s think step by step' in prompt
    assert "within \\boxed{}.First repeat the request" in prompt


def test_prompt_without_constraints_is_question_and_cot(data_dir: Path) -> None:
    sample = load_dataset(data_dir).samples[0]
    assert build_prompt(sample, with_constraints=False) == sample.question + COT_INSTRUCTION


def _fake_hub_cache(cache: Path, data_dir: Path, revision: str) -> None:
    repo = cache / "datasets--TingchenFu--MathIF"
    snapshot = repo / "snapshots" / revision / "data"
    snapshot.mkdir(parents=True)
    for path in data_dir.glob("*.jsonl"):
        (snapshot / path.name).write_bytes(path.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)


def _load_in_subprocess(spec: str, cache: Path) -> subprocess.CompletedProcess[str]:
    # huggingface_hub reads HF_HUB_CACHE / HF_HUB_OFFLINE at import time: use a fresh process.
    code = (
        "import sys; from mathif_pytest.dataset import load_dataset; from mathif_pytest.errors "
        "import DatasetError\ntry:\n d = load_dataset(sys.argv[1])"
        "; print(len(d.samples), d.revision)"
        "\nexcept DatasetError as e:\n print('ERROR', e)"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, spec], env=env, capture_output=True, text=True, check=True
    )


def test_hub_dataset_loads_offline_from_the_huggingface_cache(
    data_dir: Path, tmp_path: Path
) -> None:
    revision = "0123456789abcdef0123456789abcdef01234567"
    _fake_hub_cache(tmp_path, data_dir, revision)
    out = _load_in_subprocess("hf://TingchenFu/MathIF", tmp_path).stdout.split()
    assert out == ["420", revision]


def test_hub_dataset_offline_and_uncached_says_how_to_use_a_directory(tmp_path: Path) -> None:
    out = _load_in_subprocess("hf://TingchenFu/MathIF", tmp_path).stdout
    assert out.startswith("ERROR hf://TingchenFu/MathIF: not reachable")
    assert "--mathif-data" in out
