"""``mathif compare RUN.json ...``: a checkpoint sweep as tables, plots and Markdown."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from mathif_pytest.errors import MathIFError

__all__ = ["add_parser", "run"]


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(
            f"--alpha={text} is invalid; use a level in (0, 0.5), e.g. 0.05"
        )
    return value


def _resamples(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 100:
        raise argparse.ArgumentTypeError(f"--resamples={text} is invalid; use at least 100")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``compare`` on the ``mathif`` command's subparsers; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "compare",
        help="compare results files of checkpoints (paired tests, plots, Markdown)",
        description="Compare results documents (`mathif score --out`, `pytest --mathif-results`) "
        "of checkpoints, in the order given: metrics with intervals per checkpoint, source and "
        "constraint type; paired tests and flipped samples between neighbours.",
    )
    parser.add_argument("runs", nargs="*", metavar="RESULTS.json", help="results files, in order")
    parser.add_argument(
        "--out-dir",
        type=Path,
        metavar="DIR",
        help="write tradeoff.png, constraints.png, by_length.png and comparison.json here",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="write the report as GitHub-flavoured Markdown (CI step summary)",
    )
    parser.add_argument(
        "--alpha",
        type=_alpha,
        default=0.05,
        help="level of the paired tests; intervals are 1-alpha (default 0.05)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--resamples",
        type=_resamples,
        default=10_000,
        help="paired bootstrap resamples (default 10000)",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME",
        help="a checkpoint's name, once per results file (default: file names)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``mathif compare``; returns 0 (errors are raised as ``MathIFError`` or ``OSError``)."""
    from mathif_pytest.compare.paired import CompareOptions
    from mathif_pytest.compare.render import render_markdown, render_text, sweep_tables
    from mathif_pytest.compare.sweep import build_sweep
    from mathif_pytest.runfile import read_run_file

    if not args.runs:
        raise MathIFError("no results files given; usage: mathif compare RUN1.json [RUN2.json ...]")
    options = CompareOptions(alpha=args.alpha, resamples=args.resamples, seed=args.seed)
    runs = [read_run_file(path) for path in args.runs]
    sweep = build_sweep(runs, args.label or None, options)
    for warning in sweep.warnings:
        print(f"mathif compare: warning: {warning}", file=sys.stderr)
    tables = sweep_tables(sweep)
    print(render_text(tables))
    images: list[tuple[str, str]] = []
    if args.out_dir is not None:
        images = _write_outputs(sweep, args.out_dir, args.markdown)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(render_markdown(tables, images, sweep.warnings), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


def _write_outputs(sweep: Any, out_dir: Path, markdown: Path | None) -> list[tuple[str, str]]:
    from mathif_pytest.compare.plots import write_plots
    from mathif_pytest.runfile import write_json_atomic

    paths = write_plots(sweep, out_dir)
    write_json_atomic(out_dir / "comparison.json", sweep.to_dict())
    for path in [*paths, out_dir / "comparison.json"]:
        print(f"wrote {path}")
    base = (markdown.parent if markdown is not None else Path.cwd()).resolve()
    alts = {
        "tradeoff.png": "reasoning vs obedience",
        "constraints.png": "compliance per type",
        "by_length.png": "obedience vs thinking length",
    }
    return [(alts[p.name], Path(os.path.relpath(p.resolve(), base)).as_posix()) for p in paths]
