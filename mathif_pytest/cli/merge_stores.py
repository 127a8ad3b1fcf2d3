"""``mathif merge-stores A.sqlite B.sqlite ... --out ALL.sqlite``: shard stores as one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``merge-stores`` on the ``mathif`` command's subparsers; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "merge-stores",
        help="merge response stores (CI shards) into one; conflicting responses are an error",
        description="Copy every response of the given stores into --out (created if missing), "
        "in one transaction. A key stored twice with the same response is kept once; with "
        "different responses it is an error, and nothing is written.",
    )
    parser.add_argument("stores", nargs="+", type=Path, metavar="STORE.sqlite")
    parser.add_argument("--out", type=Path, required=True, metavar="ALL.sqlite")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``mathif merge-stores``; returns 0 (errors are raised as ``MathIFError``)."""
    from mathif_pytest.store.merge import merge_stores

    report = merge_stores(args.stores, args.out)
    print(
        f"mathif merge-stores: {sum(report.read)} responses read from {len(args.stores)} stores; "
        f"{report.written} written to {args.out}, {report.duplicates} duplicates kept once"
    )
    return 0
