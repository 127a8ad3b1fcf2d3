"""``mathif score``: score responses produced elsewhere against the MathIF data."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from mathif_pytest import __version__
from mathif_pytest.cli.checkout import ini_data
from mathif_pytest.dataset import Dataset, load_dataset
from mathif_pytest.errors import MathIFError
from mathif_pytest.protocol import Deviations
from mathif_pytest.reporting.tables import format_summary
from mathif_pytest.responses import read_responses
from mathif_pytest.runfile import build_document, write_json_atomic
from mathif_pytest.scoring import ScoringConfig, ScoringItem, ScoringPool, score_items
from mathif_pytest.stats import summarize

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``score`` on the ``mathif`` command's subparsers; returns its parser."""
    score: argparse.ArgumentParser = subparsers.add_parser(
        "score",
        help="score a responses file against the MathIF data",
        description="Score model responses produced elsewhere and print the MathIF metrics.",
    )
    score.add_argument(
        "--data",
        help="MathIF data: a directory, a .jsonl file, or hf://TingchenFu/MathIF "
        "[the mathif_data ini key of the pytest configuration here or above]",
    )
    score.add_argument(
        "--responses",
        required=True,
        help='JSONL: {"uid": ..., "response": ...} '
        "per line (a repeated uid is another sample of that prompt)",
    )
    score.add_argument(
        "--aligned-to",
        metavar="FILE_STEM",
        help="read the official output "
        'format ({"output": [...]} lines aligned with the rows of FILE_STEM.jsonl)',
    )
    score.add_argument("--out", metavar="RESULTS.json", help="write summary and cases as JSON")
    score.add_argument(
        "--no-constraints",
        action="store_true",
        help="score correctness only (responses to prompts without constraint text)",
    )
    score.add_argument(
        "--deviation",
        action="append",
        default=[],
        choices=Deviations.names(),
        help="enable a deliberate fix of official behaviour (repeatable)",
    )
    score.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="scoring worker processes (default: all cores; 1 is the serial reference, with "
        "identical results)",
    )
    score.add_argument(
        "--grading-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="time limit per answer; past it the answer is ungradable",
    )
    score.set_defaults(handler=run)
    return score


def run(args: argparse.Namespace) -> int:
    """Run ``mathif score``; returns 0 (errors are raised as ``MathIFError``)."""
    deviations = Deviations.from_names(args.deviation)
    with ScoringPool(max(1, args.jobs)) as pool:
        pool.start()  # the workers load their detectors while the data and responses are read
        return _score(args, deviations, pool)


def _score(args: argparse.Namespace, deviations: Deviations, pool: ScoringPool) -> int:
    data = args.data or ini_data(Path.cwd())
    if data is None:
        raise MathIFError("--data is required here (no pytest configuration sets mathif_data)")
    dataset = load_dataset(data, deviations=deviations)
    items = _items(args, dataset)
    config = ScoringConfig(
        deviations=deviations,
        constrained=not args.no_constraints,
        grading_timeout=args.grading_timeout,
        jobs=max(1, args.jobs),
    )
    started = time.perf_counter()
    cases = score_items(items, config, pool=pool)
    elapsed = time.perf_counter() - started
    prompts = len({c.uid for c in cases})
    print(
        f"mathif score: {len(cases)} responses to {prompts} of {len(dataset.samples)} prompts "
        f"from {dataset.location} (revision {dataset.revision}) in {elapsed:.1f} s"
    )
    print(format_summary(summarize(cases)))
    if args.out:
        meta = {
            "tool": f"mathif-pytest {__version__}",
            "command": "score",
            "data": {"location": dataset.location, "revision": dataset.revision},
            "responses": str(args.responses),
            "aligned_to": args.aligned_to,
            "constrained": config.constrained,
            "deviations": list(deviations.enabled()),
        }
        write_json_atomic(args.out, build_document(cases, meta))
        print(f"wrote {args.out}")
    return 0


def _items(args: argparse.Namespace, dataset: Dataset) -> list[ScoringItem]:
    """The responses to score (a line marked for the other prompt variant is left out)."""
    records = read_responses(
        args.responses,
        dataset,
        aligned_to=args.aligned_to,
        constrained=not args.no_constraints,
    )
    samples = dataset.by_uid()
    return [
        ScoringItem(
            sample=samples[r.uid], index=r.sample, text=r.text, finish_reason=r.finish_reason
        )
        for r in records
    ]
