"""PNG charts of a run's metrics (matplotlib, Agg canvas, imported only when a chart is drawn)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from mathif_pytest.analyses import ConstraintCost, ErrorSets, LengthBins, format_edge
from mathif_pytest.stats import GroupStats, Rate, Summary

__all__ = [
    "compliance_chart",
    "constraint_cost_chart",
    "error_sets_chart",
    "length_chart",
    "metrics_chart",
    "summary_charts",
]

#: Display labels of the three benchmark metrics, in the order they are drawn.
_METRICS = (("hard_accuracy", "HAcc"), ("soft_accuracy", "SAcc"), ("correctness", "Correct"))
_COLORS = ("#4c72b0", "#55a868", "#dd8452")
_ERROR_BARS = {"elinewidth": 0.8, "ecolor": "#444444"}


def summary_charts(summary: Summary, cost: ConstraintCost | None = None) -> dict[str, bytes]:
    """The run-level charts of ``summary``, by attachment name; a chart with no data is left out.

    Args:
        summary: the run's metrics and analyses.
        cost: a suite's constraint cost (a ``constraints: both`` suite), drawn per source.

    Returns:
        ``{"compliance per constraint type": …, "metrics per source": …, "metrics per level":
        …, "obedience vs thinking length": …, "error sets": …, "constraint cost": …}`` (PNG).
    """
    charts: dict[str, bytes] = {}
    if any(s.compliance is not None for s in summary.by_constraint.values()):
        charts["compliance per constraint type"] = compliance_chart(summary.by_constraint)
    for title, table in (("source", summary.by_source), ("level", summary.by_level)):
        if table:
            charts[f"metrics per {title}"] = metrics_chart(table, f"MathIF metrics per {title}")
    if summary.by_length is not None:
        charts["obedience vs thinking length"] = length_chart(summary.by_length)
    if summary.error_sets is not None:
        charts["error sets"] = error_sets_chart(summary.error_sets)
    if cost is not None:
        charts["constraint cost"] = constraint_cost_chart(cost)
    return charts


def length_chart(bins: LengthBins) -> bytes:
    """HAcc, SAcc and correctness per quantile bin of thinking tokens, with 95% intervals."""
    labels = [f"{format_edge(b.low)}-{format_edge(b.high)}\n(n={b.responses})" for b in bins.bins]
    figure = _figure(width=max(6.0, 1.2 * len(labels) + 2.0), height=4.0)
    axes = figure.add_subplot()
    for offset, ((metric, label), color) in enumerate(zip(_METRICS, _COLORS, strict=True)):
        values, low, high = _bars([getattr(b, metric) for b in bins.bins])
        axes.errorbar(
            [i + 0.08 * (offset - 1) for i in range(len(labels))],
            values,
            yerr=[low, high],
            marker="o",
            capsize=2,
            label=label,
            color=color,
        )
    axes.set_xticks(range(len(labels)), labels, fontsize=8)
    axes.set_ylim(0, 100)
    axes.set_xlabel(f"thinking tokens (quantile bins; {', '.join(bins.sources)} counts)")
    axes.set_ylabel("% of responses (95% Wilson interval)")
    rho = "" if bins.hard is None else f"; Spearman rho(length, HAcc) {bins.hard.rho:+.2f}"
    axes.set_title(f"Obedience vs thinking length{rho}")
    axes.legend(loc="upper right", fontsize=8)
    return _png(figure)


def error_sets_chart(sets: ErrorSets) -> bytes:
    """The 2x2 of (all constraints followed) x (answer correct) as shares of the responses."""
    e = sets.overall
    cells = [[e.followed_correct, e.followed_wrong], [e.violated_correct, e.violated_wrong]]
    figure = _figure(width=5.5, height=4.2)
    axes = figure.add_subplot()
    axes.imshow(cells, cmap="Blues", vmin=0, vmax=max(1, e.responses))
    for i, row in enumerate(cells):
        for j, count in enumerate(row):
            share = 100 * count / e.responses if e.responses else 0.0
            axes.text(j, i, f"{count}\n{share:.1f}%", ha="center", va="center", fontsize=11)
    axes.set_xticks([0, 1], ["answer correct", "answer wrong"])
    axes.set_yticks([0, 1], ["all followed", "some violated"])
    given_f, given_v = e.correct_given_followed(), e.correct_given_violated()
    axes.set_title(
        f"Error sets: P(correct|followed) {_share(given_f)}, P(correct|violated) {_share(given_v)}",
        fontsize=9,
    )
    return _png(figure)


def constraint_cost_chart(cost: ConstraintCost) -> bytes:
    """Correctness without and with constraints per source (and overall), with the drop."""
    rows = {"all": cost.overall, **cost.by_source}
    figure = _figure(width=max(6.0, 1.3 * len(rows) + 2.0), height=4.0)
    axes = figure.add_subplot()
    names = list(rows)
    for offset, (label, values, color) in enumerate(
        (
            ("without constraints", [rows[n].without_constraints for n in names], _COLORS[2]),
            ("with constraints", [rows[n].with_constraints for n in names], _COLORS[0]),
        )
    ):
        axes.bar(
            [i + (offset - 0.5) * 0.4 for i in range(len(names))],
            [100 * v for v in values],
            0.4,
            label=label,
            color=color,
        )
    axes.set_xticks(
        range(len(names)),
        [f"{n}\n{100 * rows[n].drop:+.1f} pts (n={rows[n].prompts})" for n in names],
        fontsize=8,
    )
    axes.set_ylim(0, 100)
    axes.set_ylabel("correctness % (paired prompts)")
    axes.set_title("The price of constraints: correctness without vs with them")
    axes.legend(loc="upper right", fontsize=8)
    return _png(figure)


def _share(rate: Rate | None) -> str:
    return "-" if rate is None else f"{100 * rate.value:.1f}%"


def compliance_chart(by_constraint: Mapping[str, GroupStats]) -> bytes:
    """Horizontal bars: the share of each constraint type's instances followed, with 95% CIs."""
    rows = [(name, s.compliance) for name, s in by_constraint.items() if s.compliance is not None]
    rows.sort(key=lambda row: row[1].value if row[1] else 0.0)
    figure = _figure(width=8.0, height=0.9 + 0.32 * len(rows))
    axes = figure.add_subplot()
    values, low, high = _bars([rate for _, rate in rows])
    axes.barh(
        range(len(rows)),
        values,
        xerr=[low, high],
        color=_COLORS[0],
        capsize=2,
        error_kw=_ERROR_BARS,
    )
    axes.set_yticks(range(len(rows)), [f"{name} (n={rate.n})" for name, rate in rows if rate])
    axes.set_xlim(0, 100)
    axes.set_xlabel("instances followed, % (95% Wilson interval)")
    axes.set_title("Compliance per constraint type")
    axes.tick_params(axis="y", labelsize=8)
    return _png(figure)


def metrics_chart(table: Mapping[str, GroupStats], title: str) -> bytes:
    """Grouped bars: HAcc, SAcc and correctness for each group (source or level), with 95% CIs."""
    names = list(table)
    figure = _figure(width=max(6.0, 1.3 * len(names) + 2.0), height=4.0)
    axes = figure.add_subplot()
    width = 0.8 / len(_METRICS)
    for offset, ((metric, label), color) in enumerate(zip(_METRICS, _COLORS, strict=True)):
        rates = [table[name].metric(metric) for name in names]
        values, low, high = _bars(rates)
        positions = [i + (offset - 1) * width for i in range(len(names))]
        axes.bar(
            positions,
            values,
            width,
            yerr=[low, high],
            label=label,
            color=color,
            capsize=2,
            error_kw=_ERROR_BARS,
        )
    axes.set_xticks(range(len(names)), [f"{n}\n(n={table[n].prompts})" for n in names])
    axes.set_ylim(0, 100)
    axes.set_ylabel("% of prompts (95% Wilson interval)")
    axes.set_title(title)
    axes.legend(loc="upper right", fontsize=8)
    return _png(figure)


def _bars(rates: list[Rate | None]) -> tuple[list[float], list[float], list[float]]:
    """Bar heights and error-bar lengths in percent; a missing rate draws nothing."""
    values = [100 * r.value if r else 0.0 for r in rates]
    low = [100 * (r.value - r.low) if r else 0.0 for r in rates]
    high = [100 * (r.high - r.value) if r else 0.0 for r in rates]
    return values, low, high


def _figure(width: float, height: float) -> Any:
    # A bare Figure draws on the Agg canvas without pyplot: no global backend switch, no GUI.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
