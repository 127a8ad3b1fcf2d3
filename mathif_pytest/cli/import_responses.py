"""``mathif import-responses RESULTS.jsonl``: store a batch engine's outputs by ``custom_id``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``import-responses`` on the ``mathif`` command's subparsers; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import-responses",
        help="store the outputs of vllm run-batch or Ray Data LLM (see export-requests)",
        description="Read a batch output file (vllm run-batch format) and store each response "
        "under its custom_id, which must be a request exported to this store. Malformed lines "
        "and unknown ids are errors naming file:line, and then nothing is stored; requests the "
        "engine failed are listed and left out (a later export writes them again).",
    )
    parser.add_argument("results", type=Path, metavar="RESULTS.jsonl", help="the engine's output")
    parser.add_argument(
        "--store",
        type=Path,
        default=Path(".mathif/responses.sqlite"),
        metavar="PATH",
        help="the store the requests were exported from (default .mathif/responses.sqlite)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``mathif import-responses``; returns 0 (errors are raised as ``MathIFError``)."""
    from mathif_pytest.batch.requests_file import import_responses
    from mathif_pytest.store import ResponseStore

    with ResponseStore(args.store) as store:
        report = import_responses(args.results, store)
    for failure in report.failed:
        print(
            f"mathif import-responses: not stored, the engine failed it: {failure}", file=sys.stderr
        )
    print(
        f"mathif import-responses: {report.imported} responses stored in {args.store} "
        f"({report.already} were already there, {len(report.failed)} failed in the engine)"
    )
    return 0
