"""Plain-text tables of a :class:`~mathif_pytest.stats.Summary` (terminal, ``mathif score``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mathif_pytest.results import CaseResult
from mathif_pytest.stats import GroupStats, Rate, Summary

__all__ = [
    "format_cell",
    "format_multisample",
    "format_rate",
    "format_summary",
    "multisample_stats",
]

_LABELS = {"hard_accuracy": "HAcc", "soft_accuracy": "SAcc", "correctness": "Correct"}


def format_rate(rate: Rate | None, digits: int = 2) -> str:
    """``44.05 [39.38, 48.83]`` (percent, 95% interval); ``-`` when not applicable."""
    if rate is None:
        return "-"
    width = digits + 4
    return (
        f"{100 * rate.value:{width}.{digits}f} "
        f"[{100 * rate.low:.{digits}f}, {100 * rate.high:.{digits}f}]"
    )


def format_summary(summary: Summary) -> str:
    """The overall metrics, then one table per breakdown (source, level, constraint type)."""
    overall = summary.overall
    lines = [
        f"{overall.prompts} prompts, {overall.cases} responses"
        + (
            f", {overall.ungradable} ungradable answers (counted as not correct)"
            if overall.ungradable
            else ""
        ),
        f"{'metric':<15} {'value % [95% CI]':<24} {'k/n':>13}",
    ]
    for name in ("hard_accuracy", "soft_accuracy", "correctness"):
        rate = overall.metric(name)
        if rate is not None:
            count = f"{rate.successes:g}/{rate.n}"
            lines.append(f"{name:<15} {format_rate(rate):<24} {count:>13}  ({_LABELS[name]})")
    for title, table in (
        ("source", summary.by_source),
        ("level", summary.by_level),
        ("constraint type", summary.by_constraint),
    ):
        if table:
            lines.append("")
            lines.extend(_breakdown(title, table))
    return "\n".join(lines)


#: The columns of each breakdown: per constraint type the share of its instances followed
#: replaces soft accuracy, so that the widest table (45-character type names) fits 100 columns.
_COLUMNS = {
    "source": ("hard_accuracy", "soft_accuracy", "correctness"),
    "level": ("hard_accuracy", "soft_accuracy", "correctness"),
    "constraint type": ("compliance", "hard_accuracy", "correctness"),
}
_HEADS = {**{m: f"{label} %" for m, label in _LABELS.items()}, "compliance": "followed %"}


def format_cell(rate: Rate | None) -> str:
    """``44.1 [39,49]``: a breakdown cell (percent, 95% interval rounded to whole points)."""
    if rate is None:
        return "-"
    return f"{100 * rate.value:.1f} [{100 * rate.low:.0f},{100 * rate.high:.0f}]"


def _breakdown(title: str, table: dict[str, GroupStats]) -> list[str]:
    columns = _COLUMNS[title]
    width = max(len(title) + 3, *(len(k) for k in table))
    head = f"{'by ' + title:<{width}} {'n':>4}" + "".join(f" {_HEADS[m]:>15}" for m in columns)
    rows = [head]
    for key, stats in table.items():
        cells = [stats.compliance if m == "compliance" else stats.metric(m) for m in columns]
        rows.append(
            f"{key:<{width}} {stats.prompts:>4}" + "".join(f" {format_cell(c):>15}" for c in cells)
        )
    return rows


def multisample_stats(cases: Sequence[CaseResult]) -> dict[str, Any]:
    """Statistics of several responses per prompt (``{}`` with one response per prompt).

    Per-response rates with an interval clustered by prompt, avg@N, pass^k (all k responses
    follow / are right) and pass@k, for hard accuracy and correctness.
    """
    from mathif_pytest.multisample import avg_at_n, clustered_rate, pass_at_k, pass_hat_k

    per_prompt: dict[tuple[str, bool], int] = {}
    for case in cases:
        key = (case.uid, case.constrained)  # with and without constraints: two prompts
        per_prompt[key] = per_prompt.get(key, 0) + 1
    k = min(per_prompt.values(), default=1)
    if k < 2:
        return {}
    out: dict[str, Any] = {"samples": k}
    for metric in ("hard_accuracy", "correctness"):
        if metric == "hard_accuracy" and not all(c.constrained for c in cases):
            continue
        rate = clustered_rate(cases, metric)
        out[metric] = {
            "per_response": rate.value,
            "ci_low": rate.low,
            "ci_high": rate.high,
            "design_effect": rate.design_effect,
            f"avg@{k}": avg_at_n(cases, metric).value,
            f"pass^{k}": pass_hat_k(cases, k, metric),
            f"pass@{k}": pass_at_k(cases, k, metric),
        }
    return out


def format_multisample(stats: dict[str, Any]) -> list[str]:
    """Lines for :func:`multisample_stats` (none with one response per prompt)."""
    if not stats:
        return []
    k = stats["samples"]
    lines = [f"{k} responses per prompt:"]
    for metric in ("hard_accuracy", "correctness"):
        if metric in stats:
            m = stats[metric]
            lines.append(
                f"  {metric:<14} per response {100 * m['per_response']:.2f} "
                f"[{100 * m['ci_low']:.2f}, {100 * m['ci_high']:.2f}] "
                f"(design effect {m['design_effect']:.2f}); avg@{k} {100 * m[f'avg@{k}']:.2f}; "
                f"pass^{k} {100 * m[f'pass^{k}']:.2f}; pass@{k} {100 * m[f'pass@{k}']:.2f}"
            )
    return lines
