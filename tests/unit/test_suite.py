from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mathif_pytest.builtin_suites import BUILTIN_DIR
from mathif_pytest.dataset import load_dataset
from mathif_pytest.suite import (
    Selection,
    SuiteError,
    is_suite_text,
    load_suite,
    misspelt_suite_key,
    stratified_subset,
)

REPO = Path(__file__).resolve().parents[2]


def _suite(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return load_suite(path, yaml.safe_load(text))


def test_every_built_in_suite_parses_and_selects_samples(data_dir: Path) -> None:
    samples = load_dataset(data_dir).samples
    sizes = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert is_suite_text(text), path
        suite = load_suite(path, yaml.safe_load(text))
        sizes[suite.name] = len(suite.selection.apply(samples))
    assert sizes == {
        "aime": 60,
        "full": 420,
        "gsm8k": 90,
        "math500": 90,
        "minerva": 90,
        "no_constraints": 420,
        "olympiad": 90,
        "smoke": 45,
    }


def test_the_repository_and_example_suites_extend_built_ins(data_dir: Path) -> None:
    samples = load_dataset(data_dir).samples
    sizes = {}
    for path in [*sorted((REPO / "suites").glob("*.yaml")), *(REPO / "examples/suites").glob("*")]:
        suite = load_suite(path, yaml.safe_load(path.read_text(encoding="utf-8")))
        sizes[suite.name] = len(suite.selection.apply(samples))
    assert sizes == {
        "full": 420,
        "smoke-vs-baseline": 45,
        "aime-8-samples": 60,
        "constraint-cost": 420,
    }


def test_smoke_subset_covers_every_cell_and_every_constraint_type(data_dir: Path) -> None:
    samples = load_dataset(data_dir).samples
    subset = stratified_subset(samples, 45)
    cells = {(s.source, s.level) for s in subset}
    assert len(subset) == 45 and len(cells) == 15
    assert all(sum((s.source, s.level) == c for s in subset) == 3 for c in cells)
    assert {c for s in subset for c in s.constraint_ids} == {
        c for s in samples for c in s.constraint_ids
    }
    assert stratified_subset(samples, 45) == subset  # deterministic


def test_filters_combine(data_dir: Path) -> None:
    samples = load_dataset(data_dir).samples
    chosen = Selection(
        sources=("aime",), levels=("triple",), constraints=("startend:quotation",)
    ).apply(samples)
    assert chosen and all(s.uid.startswith("aime_triple-") for s in chosen)
    assert all("startend:quotation" in s.constraint_ids for s in chosen)


def test_a_filter_naming_something_absent_suggests_a_fix(data_dir: Path) -> None:
    samples = load_dataset(data_dir).samples
    with pytest.raises(
        SuiteError, match=r"select\.sources: 'aim' is not in the data; did you mean 'aime'"
    ):
        Selection(sources=("aim",)).apply(samples)


def test_unknown_suite_keys_are_rejected_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"unknown key mathif.gates; did you mean 'gate'"):
        _suite(tmp_path, "mathif:\n  gates: []\n")


def test_bad_gate_in_a_suite_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"s\.yaml: 'hard_accuracy = 1' is not a gate expression"):
        _suite(tmp_path, "mathif:\n  gate: ['hard_accuracy = 1']\n")


def test_suite_data_paths_are_relative_to_the_suite_file(tmp_path: Path) -> None:
    suite = _suite(tmp_path, "mathif:\n  data: ../data\n")
    assert suite.data == str((tmp_path.parent / "data").resolve())


def test_yaml_without_a_mathif_key_is_not_a_suite() -> None:
    assert not is_suite_text("name: ci\non: push\n")
    assert is_suite_text("# comment\nmathif:\n  name: x\n")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("mathf:\n  name: x\n", "mathf"),
        ("MathIF:\n  name: x\n", "MathIF"),
        ("math_if:\n  name: x\n", "math_if"),
        ("# a comment\nmatif:\n  name: x\n", "matif"),
        ("mathif:\n  name: x\n", None),  # a suite
        ("math:\n  x: 1\n", None),  # too far from mathif
        ("on: push\njobs: {}\n", None),
        ("jobs:\n  mathif_run:\n    x: 1\n", None),  # not a top-level key
    ],
)
def test_a_top_level_key_close_to_mathif_looks_like_a_misspelt_suite(
    text: str, key: str | None
) -> None:
    assert misspelt_suite_key(text) == key


def test_missing_files_are_the_selected_cells_the_data_lacks(data_dir: Path) -> None:
    gsm8k = [s for s in load_dataset(data_dir).samples if s.source == "gsm8k"]
    assert Selection(sources=("gsm8k",)).missing_files(gsm8k) == []
    single = [s for s in gsm8k if s.level == "single"]
    assert Selection(stratified=45).missing_files(single)[:3] == [
        "aime_single.jsonl",
        "aime_double.jsonl",
        "aime_triple.jsonl",
    ]
    assert len(Selection(stratified=45).missing_files(single)) == 14
    assert Selection(sources=("gsm8k",)).missing_files(single) == [
        "gsm8k_double.jsonl",
        "gsm8k_triple.jsonl",
    ]
    assert Selection(files=("gsm8k_single",)).missing_files(single) == []
    assert Selection(uids=(single[0].uid,)).missing_files(single) == []


def test_data_not_laid_out_like_mathif_has_no_missing_files(data_dir: Path) -> None:
    from dataclasses import replace

    other = [replace(s, source="mybench") for s in load_dataset(data_dir).samples[:5]]
    assert Selection().missing_files(other) == []


@pytest.mark.parametrize(
    ("value", "variants"), [("true", (True,)), ("false", (False,)), ("both", (True, False))]
)
def test_constraints_asks_with_without_or_both(
    tmp_path: Path, value: str, variants: tuple[bool, ...]
) -> None:
    suite = _suite(tmp_path, f"mathif:\n  constraints: {value}\n")
    assert suite.variants == variants and suite.constrained is (True in variants)


def test_constraints_takes_nothing_else(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"mathif\.constraints must be true, false or both"):
        _suite(tmp_path, "mathif:\n  constraints: sometimes\n")


def test_an_intervention_is_read_and_a_repeat_without_constraints_refused(tmp_path: Path) -> None:
    suite = _suite(tmp_path, "mathif:\n  intervention:\n    budget_forcing: 3\n")
    assert suite.intervention is not None and suite.intervention.label == "budget_forcing=3"
    with pytest.raises(SuiteError, match="repeat_constraints repeats the constraints"):
        _suite(tmp_path, "mathif:\n  constraints: false\n  intervention: repeat_constraints\n")
    with pytest.raises(SuiteError, match="did you mean 'thinking_budget'"):
        _suite(tmp_path, "mathif:\n  intervention: {thinking_budgets: 5}\n")
