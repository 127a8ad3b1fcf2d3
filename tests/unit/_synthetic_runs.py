"""Synthetic MathIF runs for the comparison tests and the docs' `mathif compare` example.

The prompts have the benchmark's shape (420 prompts: 5 sources, single/double/triple, the 15
constraint types). A checkpoint is a set of per-constraint-type follow rates and per-source
correctness rates; outcomes use common random numbers per (prompt, constraint) so that runs of
neighbouring checkpoints are correlated like real checkpoints of one training run, and a share of
them is redrawn per run (sampling noise). Run as a script to write the docs' three runs:

    python tests/unit/_synthetic_runs.py DIR
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.grading import AnswerGrade, Grade
from mathif_pytest.results import CaseResult
from mathif_pytest.runfile import build_document, write_json_atomic

SOURCES = (("gsm8k", 90), ("math500", 90), ("minerva", 90), ("olympiad", 90), ("aime", 60))
TYPES = (
    "length_constraint_checkers:number_words",
    "language:response_language",
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "detectable_format:number_bullet_lists",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "change_case:capital_word_frequency",
    "punctuation:no_comma",
    "combination:repeat_prompt",
    "startend:end_checker",
    "startend:quotation",
)
#: Per-type follow rates of the first checkpoint, and how much each later step lowers them.
BASE_FOLLOW = (
    0.62,
    0.55,
    0.85,
    0.72,
    0.80,
    0.60,
    0.66,
    0.58,
    0.40,
    0.45,
    0.50,
    0.52,
    0.48,
    0.70,
    0.74,
)
STEP_DROP = (
    0.12,
    0.02,
    0.01,
    0.03,
    0.02,
    0.06,
    0.05,
    0.04,
    0.10,
    0.11,
    0.06,
    0.08,
    0.09,
    0.03,
    0.04,
)
BASE_CORRECT = {"gsm8k": 0.80, "math500": 0.62, "minerva": 0.40, "olympiad": 0.35, "aime": 0.15}
CHECKPOINTS = ("ckpt-100", "ckpt-200", "ckpt-300")


def prompts(seed: int = 7) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(uid, source, level, constraint ids) for the 420 prompts, fixed by ``seed``."""
    rng = random.Random(seed)
    out = []
    for source, count in SOURCES:
        for index in range(count):
            level_index = index * 3 // count
            level = ("single", "double", "triple")[level_index]
            ids = tuple(rng.sample(TYPES, level_index + 1))
            out.append((f"{source}_{level}-{index % (count // 3)}", source, level, ids))
    return out


def _grade(correct: bool) -> Grade:
    return Grade(
        outcome=AnswerGrade.CORRECT if correct else AnswerGrade.INCORRECT,
        extracted="42" if correct else "41",
        reference="42",
        detail="synthetic",
    )


def synthetic_run(
    step: int, *, samples: int = 1, noise: float = 0.15, seed: int = 0
) -> list[CaseResult]:
    """The results of checkpoint ``step`` (0, 1, 2…): follow rates fall, correctness rises.

    Args:
        step: how far along training the checkpoint is.
        samples: responses per prompt.
        noise: share of outcomes redrawn independently per run and sample (decoding noise).
        seed: the run's own randomness (the common random numbers are fixed).
    """
    common, own = random.Random(11), random.Random(1000 * step + seed)
    results = []
    for uid, source, level, ids in prompts():
        shared = [common.random() for _ in ids]
        shared_answer = common.random()
        for sample in range(samples):

            def draw(u: float) -> float:
                return own.random() if own.random() < noise else u

            verdicts = tuple(
                Verdict(
                    constraint_id=cid,
                    followed=draw(u) < _follow_rate(cid, step),
                    detail="synthetic verdict",
                )
                for cid, u in zip(ids, shared, strict=True)
            )
            rate = min(0.95, BASE_CORRECT[source] + 0.06 * step)
            results.append(
                CaseResult(
                    uid=uid,
                    sample=sample,
                    source=source,
                    level=level,
                    constraint_ids=ids,
                    verdicts=verdicts,
                    grade=_grade(draw(shared_answer) < rate),
                )
            )
    return results


def _follow_rate(cid: str, step: int) -> float:
    index = TYPES.index(cid)
    return max(0.02, BASE_FOLLOW[index] - STEP_DROP[index] * step)


def write_runs(directory: Path, samples: int = 1) -> list[Path]:
    """Write ``ckpt-100.json`` … ``ckpt-300.json`` results documents; return their paths."""
    paths = []
    for step, name in enumerate(CHECKPOINTS):
        meta = {
            "tool": "synthetic",
            "model": name,
            "data": {"location": "synthetic", "revision": "synthetic-v1"},
        }
        path = directory / f"{name}.json"
        write_json_atomic(path, build_document(synthetic_run(step, samples=samples), meta))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_runs(Path(sys.argv[1])):
        print(written)
