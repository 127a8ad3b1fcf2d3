"""The ``mathif`` command: one module per subcommand (``score``, ``compare``, ``plan``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mathif_pytest import __version__
from mathif_pytest.cli import (
    compare,
    export_requests,
    import_responses,
    merge_stores,
    plan,
    score,
)
from mathif_pytest.errors import MathIFError

__all__ = ["main"]

#: The subcommand modules, in the order ``mathif --help`` lists them.
_COMMANDS = (score, compare, plan, export_requests, import_responses, merge_stores)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mathif", description="MathIF scoring tools (the pytest plugin is `pytest --model`)."
    )
    parser.add_argument("--version", action="version", version=f"mathif-pytest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 usage or input error, 130 Ctrl-C).

    Arguments after ``--`` go to pytest, for the commands that run it (``export-requests``).
    """
    words = list(sys.argv[1:] if argv is None else argv)
    cut = words.index("--") if "--" in words else len(words)
    parser = _parser()
    args = parser.parse_args(words[:cut])
    args.pytest_args = words[cut + 1 :]
    if args.pytest_args and not getattr(args, "passthrough", False):
        parser.error(f"{args.command} takes no pytest options after `--`")
    try:
        status: int = args.handler(args)
    except MathIFError as exc:
        print(f"mathif {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = exc.filename or "a file"
        print(f"mathif {args.command}: error: cannot use {where}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mathif {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
