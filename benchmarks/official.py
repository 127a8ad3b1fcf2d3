"""The official MathIF evaluator, side by side: run it on a corpus, time it, compare verdicts.

Used by ``bench_score.py`` when ``MATHIF_OFFICIAL_DIR`` names a scratch installation of the
official evaluator (never committed; how to make one: README, "Performance"), laid out as::

    $MATHIF_OFFICIAL_DIR/bin/python        a venv with the official requirements for scoring
    $MATHIF_OFFICIAL_DIR/code/eval_if.py   the official code/ folder, unmodified
    $MATHIF_OFFICIAL_DIR/nltk_data/        NLTK_DATA for it (a punkt_tab model)

The corpus is written the way ``eval_if.py`` reads it: one data row per response (rows repeat
for several responses to one prompt) and an aligned ``{"response": ...}`` line.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from _clock import clock

from mathif_pytest.dataset import Sample

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class OfficialRun:
    """One run of the official evaluator: wall time (whole process) and per-response results."""

    seconds: float
    cpu: float
    strict: list[bool]
    followed: list[int]
    correct: list[bool]


def official_dir() -> Path | None:
    """The scratch installation named by ``MATHIF_OFFICIAL_DIR``, if it looks complete."""
    value = os.environ.get("MATHIF_OFFICIAL_DIR")
    if not value:
        return None
    root = Path(value)
    if not (root / "bin" / "python").exists() or not (root / "code" / "eval_if.py").exists():
        raise SystemExit(
            f"MATHIF_OFFICIAL_DIR={value}: expected bin/python and code/eval_if.py there; "
            "see the README's Performance section for how to make the scratch installation"
        )
    return root


def write_inputs(pairs: list[tuple[Sample, str]], work: Path) -> tuple[Path, Path]:
    """The aligned data and hypothesis files ``eval_if.py`` takes."""
    data, hypothesis = work / "official-data.jsonl", work / "official-hypothesis.jsonl"
    with data.open("w", encoding="utf-8") as rows, hypothesis.open("w", encoding="utf-8") as hyp:
        for sample, text in pairs:
            row = {
                "question": sample.question,
                "answer": sample.answer,
                "constraint_name": [c.id for c in sample.constraints],
                "constraint_args": [dict(c.args) or None for c in sample.constraints],
            }
            rows.write(json.dumps(row) + "\n")
            hyp.write(json.dumps({"response": text}) + "\n")
    return data, hypothesis


def run_official(root: Path, pairs: list[tuple[Sample, str]], work: Path) -> OfficialRun:
    """Score ``pairs`` with the official evaluator in one process; wall time of the process."""
    data, hypothesis = write_inputs(pairs, work)
    out = work / "official-results.json"
    env = {**os.environ, "NLTK_DATA": str(root / "nltk_data"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    command = [str(root / "bin" / "python"), str(HERE / "_official_run.py"), str(root / "code")]
    with clock() as timing:
        done = subprocess.run(
            [*command, str(hypothesis), str(data), str(out)],
            cwd=root / "code",
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"the official evaluator failed:\n{done.stderr[-3000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    followed = [
        round(share * len(sample.constraints))
        for share, (sample, _) in zip(result["loose"], pairs, strict=True)
    ]
    return OfficialRun(timing.wall, timing.cpu, result["strict"], followed, result["correct"])
