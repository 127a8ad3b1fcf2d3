"""The ``mathif`` command: ``mathif score`` scores responses produced elsewhere."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from mathif_pytest import __version__
from mathif_pytest.compare_cli import add_compare_parser, run_compare
from mathif_pytest.dataset import load_dataset
from mathif_pytest.errors import MathIFError
from mathif_pytest.protocol import Deviations
from mathif_pytest.reporting.tables import format_summary
from mathif_pytest.responses import read_responses
from mathif_pytest.runfile import build_document, write_json_atomic
from mathif_pytest.scoring import ScoringConfig, ScoringItem, score_items
from mathif_pytest.stats import summarize

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mathif", description="MathIF scoring tools (the pytest plugin is `pytest --model`)."
    )
    parser.add_argument("--version", action="version", version=f"mathif-pytest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    score = commands.add_parser(
        "score",
        help="score a responses file against the MathIF data",
        description="Score model responses produced elsewhere and print the MathIF metrics.",
    )
    score.add_argument(
        "--data",
        required=True,
        help="MathIF data: a directory, a .jsonl file, or hf://TingchenFu/MathIF",
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
        help="grading worker processes (default: all cores)",
    )
    score.add_argument(
        "--grading-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="time limit per answer; past it the answer is ungradable",
    )
    add_compare_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 usage or input error)."""
    args = _parser().parse_args(argv)
    if args.command == "compare":
        return run_compare(args)
    try:
        return _score(args)
    except MathIFError as exc:
        print(f"mathif {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mathif {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130


def _score(args: argparse.Namespace) -> int:
    deviations = Deviations.from_names(args.deviation)
    dataset = load_dataset(args.data, deviations=deviations)
    records = read_responses(args.responses, dataset, aligned_to=args.aligned_to)
    samples = dataset.by_uid()
    items = [
        ScoringItem(
            sample=samples[r.uid], index=r.sample, text=r.text, finish_reason=r.finish_reason
        )
        for r in records
    ]
    config = ScoringConfig(
        deviations=deviations,
        constrained=not args.no_constraints,
        grading_timeout=args.grading_timeout,
        jobs=max(1, args.jobs),
    )
    started = time.perf_counter()
    cases = score_items(items, config)
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
