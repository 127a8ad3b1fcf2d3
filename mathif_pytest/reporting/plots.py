"""PNG charts of a run's metrics (matplotlib, Agg canvas, imported only when a chart is drawn)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from mathif_pytest.stats import GroupStats, Rate, Summary

__all__ = ["compliance_chart", "metrics_chart", "summary_charts"]

#: Display labels of the three benchmark metrics, in the order they are drawn.
_METRICS = (("hard_accuracy", "HAcc"), ("soft_accuracy", "SAcc"), ("correctness", "Correct"))
_COLORS = ("#4c72b0", "#55a868", "#dd8452")
_ERROR_BARS = {"elinewidth": 0.8, "ecolor": "#444444"}


def summary_charts(summary: Summary) -> dict[str, bytes]:
    """The run-level charts of ``summary``, by attachment name; a chart with no data is left out.

    Returns:
        ``{"compliance per constraint type": …, "metrics per source.png": …,
        "metrics per level.png": …}`` (PNG bytes).
    """
    charts: dict[str, bytes] = {}
    if any(s.compliance is not None for s in summary.by_constraint.values()):
        charts["compliance per constraint type"] = compliance_chart(summary.by_constraint)
    for title, table in (("source", summary.by_source), ("level", summary.by_level)):
        if table:
            charts[f"metrics per {title}"] = metrics_chart(table, f"MathIF metrics per {title}")
    return charts


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
