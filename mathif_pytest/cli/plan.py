"""``mathif plan --baseline RESULTS.json``: the power of each gate row by prompts and samples."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mathif_pytest.errors import GateSpecError, MathIFError

__all__ = ["add_parser", "run"]

_DEFAULT_MARGIN = -0.02


def _number(low: float, high: float, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
        except ValueError:
            value = float("nan")
        if not low < value < high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} in ({low:g}, {high:g})")
        return value

    return parse


def _counts(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of positive integers, e.g. 1,2,4")
    return values


def _gate(text: str) -> Any:
    from mathif_pytest.gate import parse_threshold

    try:
        return parse_threshold(text)
    except GateSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``plan`` on the ``mathif`` command's subparsers; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan",
        help="the power of each delta.* gate row as a function of prompts and samples",
        description="From a baseline results document, the smallest drop each delta.* gate row "
        "detects (or its power against --drop) for suites of other sizes and other numbers of "
        "samples per prompt, tested as the gate would: its margin, and Holm across the rows.",
    )
    parser.add_argument("--baseline", required=True, type=Path, metavar="RESULTS.json")
    parser.add_argument(
        "--gate",
        type=_gate,
        action="append",
        default=[],
        metavar="EXPR",
        help="a delta.* row, repeatable [the delta rows recorded in the baseline's gate, else "
        "delta.METRIC>=MARGIN for each metric]",
    )
    parser.add_argument(
        "--margin",
        type=_number(-1, 0.000001, "a margin"),
        default=None,
        metavar="M",
        help=f"margin of the default and recorded rows, e.g. -0.02 [{_DEFAULT_MARGIN}]",
    )
    parser.add_argument("--alpha", type=_number(0, 0.5, "a level"), default=0.05)
    parser.add_argument(
        "--no-correction",
        action="store_true",
        help="each row at --alpha on its own (like --mathif-row-alpha) instead of Holm",
    )
    parser.add_argument("--power", type=_number(0, 1, "a power"), default=0.8)
    parser.add_argument(
        "--prompts",
        type=_counts,
        default=(),
        metavar="N,N",
        help="suite sizes to plan for [the baseline's]",
    )
    parser.add_argument("--samples", type=_counts, default=(1, 2, 4, 8), metavar="S,S")
    parser.add_argument(
        "--drop",
        type=_number(0, 1.000001, "a drop"),
        default=None,
        help="print the power against this drop instead of the detectable drop",
    )
    parser.add_argument(
        "--discordance",
        type=_number(0, 1.000001, "a discordance"),
        default=None,
        help="share of prompts whose outcome differs between two runs of one checkpoint "
        "(needed when the baseline has one sample per prompt; default: the worst case)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``mathif plan``; returns 0 (errors are raised as ``MathIFError`` or ``OSError``)."""
    from mathif_pytest.compare.plan import PlanOptions, plan_gate
    from mathif_pytest.runfile import read_run_file

    run_file = read_run_file(args.baseline)
    thresholds = _rows(args, run_file.cases)
    options = PlanOptions(
        alpha=args.alpha,
        correction="none" if args.no_correction else "holm",
        target=args.power,
        prompts=args.prompts,
        samples=args.samples,
        drop=args.drop,
        discordance=args.discordance,
    )
    plan = plan_gate(run_file.cases, thresholds, options)
    print("\n".join(_render(plan, str(args.baseline))))
    return 0


def _rows(args: argparse.Namespace, cases: Sequence[Any]) -> list[Any]:
    from mathif_pytest.gate import DELTA_METRICS, parse_threshold

    if args.gate:
        return list(args.gate)
    margin = _DEFAULT_MARGIN if args.margin is None else args.margin
    recorded = [parse_threshold(t) for t in _recorded_rows(args.baseline)]
    if recorded:
        if args.margin is None:
            return recorded
        return [_with_margin(t, margin) for t in recorded]
    constrained = any(c.constrained for c in cases)
    metrics = DELTA_METRICS if constrained else ("correctness",)
    return [parse_threshold(f"delta.{m}>={margin:g}") for m in metrics]


def _with_margin(threshold: Any, margin: float) -> Any:
    from dataclasses import replace

    value = margin if threshold.op in (">=", ">") else -margin
    return replace(threshold, value=value, text=f"{threshold.label}{threshold.op}{value:g}")


def _recorded_rows(path: Path) -> list[str]:
    """The delta rows of the gates a pytest run recorded in its results document."""
    try:
        suites = json.loads(path.read_text(encoding="utf-8")).get("suites") or {}
        texts = [row["threshold"] for s in suites.values() for row in s.get("gate", [])]
    except (AttributeError, KeyError, TypeError):
        raise MathIFError(f"{path}: the recorded gates are malformed") from None
    return list(dict.fromkeys(t for t in texts if str(t).lstrip().startswith("delta.")))


def _render(plan: Any, source: str) -> list[str]:
    options = plan.options
    family = (
        f"Holm over {len(plan.rows)} rows: each row's power at level "
        f"{options.alpha:g}/{len(plan.rows)} = {plan.level:.3g}"
        if options.correction == "holm" and len(plan.rows) > 1
        else f"each row at level {plan.level:g}"
    )
    what = (
        f"power against a drop of {100 * options.drop:.1f} pts"
        if options.drop is not None
        else f"smallest drop (pts) detected with {options.target:.0%} power"
    )
    lines = [
        f"mathif plan: {source} ({plan.prompts} prompts, {plan.samples} sample"
        f"{'s' if plan.samples != 1 else ''} per prompt); {family}",
    ]
    notes = dict.fromkeys(r.model.assumption for r in plan.rows if r.model.assumption)
    lines += [f"note: {note}" for note in notes]
    lines += [f"skipped: {s}" for s in plan.skipped]
    lines += ["", f"{what}; columns: suite prompts x samples per prompt"]
    return lines + _table(plan)


def _cell(statement: Any, drop: float | None) -> str:
    if drop is not None:
        return f"{statement.power_at_required_drop:.2f}"
    if statement.detectable_drop is None:
        return "none"
    return f"{100 * statement.detectable_drop:.1f}"


def _table(plan: Any) -> list[str]:
    keys = [key for key, _ in plan.rows[0].cells]
    header = ["row", "prompts", "rate %", *(f"{n}x{s}" for n, s in keys)]
    body = [
        [
            r.threshold.text,
            str(r.model.prompts),
            f"{100 * r.rate:.1f}",
            *(_cell(st, plan.options.drop) for _, st in r.cells),
        ]
        for r in plan.rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [header, *body]
    ]
    if any("none" in row for row in body):
        lines.append("(none: no drop, not even losing everything, is detected with that power)")
    return lines
