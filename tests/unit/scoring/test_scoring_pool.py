"""Scoring on worker processes: same results whatever the number of workers, bounds that hold."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.constraints import check_response
from mathif_pytest.dataset import load_dataset
from mathif_pytest.grading import AnswerGrade, Grader
from mathif_pytest.scoring import (
    ScoringConfig,
    ScoringItem,
    ScoringPool,
    score_items,
    split_items,
)


def _items(pairs: list[Any]) -> list[ScoringItem]:
    return [ScoringItem(sample=s, index=i, text=t) for i, (s, t) in enumerate(pairs)]


def _serial_reference(items: list[ScoringItem]) -> list[tuple[Any, ...]]:
    """The scoring before worker processes: checks in this process, the batch grader."""
    parts = split_items(items, ScoringConfig())
    with Grader() as grader:
        pairs = [(i.sample.answer, p.answer) for i, p in zip(items, parts, strict=True)]
        grades = grader.grade_many(pairs)
    return [
        (check_response([c.checker for c in i.sample.constraints], p.answer), g)
        for i, p, g in zip(items, parts, grades, strict=True)
    ]


@pytest.fixture(scope="module")
def realistic(corpus: Any) -> list[ScoringItem]:
    return _items(corpus("realistic", 400))


def test_results_do_not_depend_on_the_number_of_workers(realistic: list[ScoringItem]) -> None:
    one = score_items(realistic, ScoringConfig(jobs=1))
    three = score_items(realistic, ScoringConfig(jobs=3))
    assert [r.to_dict() for r in one] == [r.to_dict() for r in three]
    assert [(r.uid, r.sample) for r in three] == [(i.sample.uid, i.index) for i in realistic]


def test_workers_decide_exactly_as_the_in_process_checks_and_batch_grader(
    realistic: list[ScoringItem],
) -> None:
    results = score_items(realistic, ScoringConfig(jobs=2))
    assert [(r.verdicts, r.grade) for r in results] == _serial_reference(realistic)


def test_a_response_over_the_check_bound_fails_its_unfinished_checks(data_dir: Path) -> None:
    sample = next(
        s
        for s in load_dataset(data_dir).samples
        if s.constraint_ids[0] == "change_case:capital_word_frequency"
    )
    text = "THE CAT SAT. " * 40_000  # a few seconds of tokenizing
    config = ScoringConfig(check_timeout=0.2)
    [result] = score_items([ScoringItem(sample=sample, index=0, text=text)], config)
    assert not result.verdicts[0].followed
    assert "checking took over 0.2 s" in result.verdicts[0].detail
    assert len(result.verdicts) == len(sample.constraints)


def test_an_answer_over_the_grading_bound_is_ungradable_and_the_worker_replaced(
    realistic: list[ScoringItem],
) -> None:
    reference = "x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1"  # reaches sympy's simplify
    symbolic = dataclasses.replace(realistic[0].sample, answer=reference)
    slow = ScoringItem(sample=symbolic, index=0, text="\\boxed{(x^9-1)/(x-1)}")
    items = [slow, *realistic[:60], slow, *realistic[60:120]]
    config = ScoringConfig(grading_timeout=0.001)
    with ScoringPool(1) as pool:
        results = score_items(items, config, pool=pool)
        after = score_items(realistic[:120], ScoringConfig(), pool=pool)
    assert results[0].grade.outcome is AnswerGrade.UNGRADABLE
    assert results[0].grade.detail == "grading timed out after 0.001 s"
    reference = score_items(realistic[:120], ScoringConfig(jobs=1))
    assert [r.to_dict() for r in after] == [r.to_dict() for r in reference]


def test_a_worker_killed_mid_batch_is_replaced_and_nothing_is_lost(
    realistic: list[ScoringItem],
) -> None:
    reference = score_items(realistic, ScoringConfig(jobs=1))
    with ScoringPool(2) as pool:
        pool.start()
        victim = pool._worker(0).process.pid
        timer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        timer.start()
        try:
            results = score_items(realistic * 3, ScoringConfig(), pool=pool)
        finally:
            timer.cancel()
    assert [r.to_dict() for r in results] == [r.to_dict() for r in reference * 3]


def test_scoring_works_beside_torch_threads(data_dir: Path, tmp_path: Path) -> None:
    script = f"""
import torch
torch.set_num_threads(2)
torch.ones(256, 256) @ torch.ones(256, 256)
from mathif_pytest.dataset import load_dataset
from mathif_pytest.scoring import ScoringConfig, ScoringItem, score_items
samples = load_dataset({str(data_dir / "gsm8k_single.jsonl")!r}).samples
items = [ScoringItem(sample=s, index=0, text="\\\\boxed{{" + s.answer + "}}") for s in samples]
results = score_items(items, ScoringConfig(jobs=2))
print(sum(r.correct for r in results), len(results))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["30", "30"]
