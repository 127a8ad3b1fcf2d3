"""``mathif compare`` with the analyses: cost, thinking length, error sets, interventions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from _factories import case

from mathif_pytest.cli import main
from mathif_pytest.results import CaseResult
from mathif_pytest.runfile import build_document, write_json_atomic

RECORD = {"kind": "repeat_constraints", "value": None, "label": "repeat_constraints"}


def _cases(followed: list[bool], correct: list[bool], *, both: bool) -> list[CaseResult]:
    out = []
    for i, (f, c) in enumerate(zip(followed, correct, strict=True)):
        result = replace(
            case(f"x-{i}", (f,), correct=c, source="aime" if i % 2 else "gsm8k"),
            thinking_tokens=100 * (i + 1),
            answer_tokens=20,
            length_source="tokenizer",
        )
        out.append(result)
        if both:  # every prompt right without its constraints
            out.append(replace(result, constrained=False, verdicts=(), grade=case("y").grade))
    return out


def _write(path: Path, cases: list[CaseResult], fingerprint: str) -> Path:
    meta = {"model": "m", "generation": {"fingerprint": fingerprint}}
    write_json_atomic(path, build_document(cases, meta))
    return path


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    followed = [True, False, True, False, False, True, False, False]
    correct = [True, True, False, False, True, False, False, True]
    plain = _write(tmp_path / "ckpt-a.json", _cases(followed, correct, both=True), "fp-a")
    better = [True] * 6 + [False] * 2
    repeat = [replace(c, intervention=RECORD) for c in _cases(better, correct, both=False)]
    intervened = _write(tmp_path / "ckpt-a-repeat.json", repeat, "fp-a")
    other = _write(tmp_path / "ckpt-b.json", _cases(followed, correct, both=False), "fp-b")
    return [plain, intervened, other]


def test_compare_shows_the_intervention_beside_the_plain_run_of_the_same_checkpoint(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["compare", *map(str, runs), "--out-dir", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    hacc = next(
        line.split()
        for line in lines
        if line.split()[:4] == ["ckpt-a", "ckpt-a-repeat", "(repeat_constraints)", "HAcc"]
    )
    # 3 of 8 followed without it, 6 of 8 with it (paired by prompt); 3 discordant, all better
    assert hacc[4:8] == ["8", "37.5", "75.0", "+37.50"] and hacc[-1] == "0.250"
    assert "Constraint cost: correctness without vs with constraints" in text
    cost = next(line for line in lines if line.startswith("ckpt-a ") and "+50.00" in line)
    assert "100.0" in cost and "50.0" in cost and "-50.00" in cost and "4 / 0" in cost
    assert "Obedience vs thinking length" in text
    assert (
        sum(line.startswith(("ckpt-a ", "ckpt-b ")) and "tokenizer" in line for line in lines) == 2
    )
    assert "Error sets: constraints followed x answer correct" in text
    document = json.loads((out / "comparison.json").read_text())
    assert document["interventions"][0]["plain"] == "ckpt-a"
    assert document["checkpoints"][1]["intervention"] == "repeat_constraints"
    assert document["checkpoints"][0]["constraint_cost"]["overall"]["drop"] == 0.5
    assert (out / "by_length.png").stat().st_size > 10_000


def test_an_intervened_run_without_a_plain_run_of_its_model_has_no_effect_row(
    runs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(runs[1]), str(runs[2])]) == 0
    assert "Interventions beside the plain run" not in capsys.readouterr().out
