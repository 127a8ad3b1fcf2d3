"""The sweep as tables: plain text for the terminal, GitHub-flavoured Markdown for CI summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mathif_pytest.compare.flips import FLIP_KINDS, flips_by_constraint
from mathif_pytest.compare.paired import ComparisonReport, MetricDelta
from mathif_pytest.compare.render_analyses import analysis_tables
from mathif_pytest.compare.sweep import Sweep
from mathif_pytest.compare.table import Table
from mathif_pytest.stats import GroupStats, Rate

__all__ = ["Table", "render_markdown", "render_text", "sweep_tables"]

LABELS = {
    "hard_accuracy": "HAcc",
    "soft_accuracy": "SAcc",
    "correctness": "Correct",
    "compliance": "followed",
}
_FLIP_LABELS = {
    "followed_to_violated": "followed->violated",
    "violated_to_followed": "violated->followed",
    "correct_to_wrong": "correct->wrong",
    "wrong_to_correct": "wrong->correct",
}
_REGRESSIONS = ("followed_to_violated", "correct_to_wrong")
#: Flipped samples listed per comparison (all of them are in comparison.json).
MAX_LISTED_FLIPS = 20


def _rate(rate: Rate | None) -> str:
    if rate is None or rate.n == 0:
        return "-"
    return f"{100 * rate.value:.1f} [{100 * rate.low:.1f}, {100 * rate.high:.1f}]"


def _delta(d: MetricDelta) -> str:
    return f"{100 * d.delta:+.2f} [{100 * d.low:+.2f}, {100 * d.high:+.2f}]"


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def sweep_tables(sweep: Sweep) -> list[Table]:
    """Every table of the report, in order: checkpoints, paired deltas, flips, breakdowns."""
    tables = [_overall(sweep)]
    if sweep.comparisons:
        tables += [_paired(sweep), _flips(sweep), _flips_by_type(sweep), _flip_list(sweep)]
    for title, pick, metrics in (
        (
            "source",
            lambda g: g.summary.by_source,
            ("hard_accuracy", "soft_accuracy", "correctness"),
        ),
        (
            "constraint type",
            lambda g: g.summary.by_constraint,
            ("compliance", "hard_accuracy", "soft_accuracy", "correctness"),
        ),
    ):
        tables += [_breakdown(sweep, title, pick, m) for m in metrics]
    return [t for t in tables if t.rows] + analysis_tables(sweep)


def _overall(sweep: Sweep) -> Table:
    rows = tuple(
        (
            c.label,
            str(c.summary.overall.prompts),
            str(c.summary.overall.cases),
            *(
                _rate(c.summary.overall.metric(m))
                for m in ("hard_accuracy", "soft_accuracy", "correctness")
            ),
            str(c.summary.overall.ungradable),
        )
        for c in sweep.checkpoints
    )
    return Table(
        title="Checkpoints (% with 95% Wilson intervals)",
        header=(
            "checkpoint",
            "prompts",
            "responses",
            "HAcc %",
            "SAcc %",
            "Correct %",
            "ungradable",
        ),
        rows=rows,
    )


def _mde(drop: float | None) -> str:
    return "none" if drop is None else f"{100 * drop:.1f}"


def _pair(report: ComparisonReport) -> str:
    return f"{report.baseline} -> {report.candidate}"


def _paired(sweep: Sweep) -> Table:
    rows = []
    for report in sweep.comparisons:
        for d in report.deltas:
            rows.append(
                (
                    _pair(report),
                    LABELS[d.metric],
                    str(d.prompts),
                    _delta(d),
                    _p(d.test.p_two_sided),
                    d.test.method,
                    f"{d.regressed} / {d.improved}",
                    _mde(d.detectable_drop(alpha=report.options.alpha)),
                )
            )
    alpha = sweep.comparisons[0].options.alpha
    note = (
        f"delta = later - earlier in points, {1 - alpha:.0%} paired-bootstrap interval over "
        f"prompts ({sweep.comparisons[0].options.resamples} resamples, seed "
        f"{sweep.comparisons[0].options.seed}); p: exact two-sided paired test; MDE: drop "
        f"a lone delta >= 0 row at level {alpha:g} detects with 80% power (none: no drop)"
    )
    return Table(
        title="Paired comparisons of neighbouring checkpoints",
        header=(
            "comparison",
            "metric",
            "prompts",
            "delta pts",
            "p",
            "test",
            "regressed / improved prompts",
            "MDE pts",
        ),
        rows=tuple(rows),
        note=note,
    )


def _flips(sweep: Sweep) -> Table:
    rows = tuple(
        (
            _pair(r),
            str(r.shared),
            str(r.only_baseline),
            str(r.only_candidate),
            *(str(r.flip_counts()[k]) for k in FLIP_KINDS),
        )
        for r in sweep.comparisons
    )
    return Table(
        title="Flipped samples",
        header=(
            "comparison",
            "shared prompts",
            "only earlier",
            "only later",
            *(_FLIP_LABELS[k] for k in FLIP_KINDS),
        ),
        rows=rows,
        note="samples pair by prompt and sample index",
    )


def _flips_by_type(sweep: Sweep) -> Table:
    tables = [flips_by_constraint(r.flips) for r in sweep.comparisons]
    types = sorted({t for table in tables for t in table})
    rows = tuple(
        (
            t,
            *(
                f"{table.get(t, {}).get(FLIP_KINDS[0], 0)} / "
                f"{table.get(t, {}).get(FLIP_KINDS[1], 0)}"
                for table in tables
            ),
        )
        for t in types
    )
    return Table(
        title="Constraint flips by type (broken / newly followed)",
        header=("constraint type", *(_pair(r) for r in sweep.comparisons)),
        rows=rows,
        folded=True,
    )


def _flip_list(sweep: Sweep) -> Table:
    rows = []
    for report in sweep.comparisons:
        # Regressions first: they are what a gate fails on.
        ordered = sorted(report.flips, key=lambda f: f.kind not in _REGRESSIONS)
        for f in ordered[:MAX_LISTED_FLIPS]:
            what = ", ".join(f.changed) if f.changed else f.detail
            rows.append((_pair(report), f"{f.uid}#{f.sample}", _FLIP_LABELS[f.kind], what))
    hidden = sum(max(0, len(r.flips) - MAX_LISTED_FLIPS) for r in sweep.comparisons)
    note = f"{hidden} more flips are in comparison.json (--out-dir)" if hidden else ""
    return Table(
        title=f"Flipped samples (first {MAX_LISTED_FLIPS} per comparison)",
        header=("comparison", "sample", "flip", "constraint types / answers"),
        rows=tuple(rows),
        note=note,
        folded=True,
    )


def _breakdown(
    sweep: Sweep, title: str, pick: Callable[..., dict[str, GroupStats]], metric: str
) -> Table:
    tables = [pick(c) for c in sweep.checkpoints]
    keys = sorted({k for table in tables for k in table})
    rows = tuple(
        (key, *(_rate(t[key].metric(metric)) if key in t else "-" for t in tables)) for key in keys
    )
    return Table(
        title=f"By {title}: {LABELS[metric]} %",
        header=(title, *(c.label for c in sweep.checkpoints)),
        rows=rows,
        folded=True,
    )


def render_text(tables: Sequence[Table], warnings: Sequence[str] = ()) -> str:
    """Aligned plain-text tables (first column left-aligned), warnings first."""
    out = [f"warning: {w}" for w in warnings]
    for table in tables:
        widths = [
            max(len(r[i]) for r in (table.header, *table.rows)) for i in range(len(table.header))
        ]
        right = [i > 0 and _numeric(table.rows[0][i]) for i in range(len(widths))]
        out += ["", table.title]
        for row in (table.header, *table.rows):
            cells = [
                c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
            ]
            out.append("  ".join(cells).rstrip())
        if table.note:
            out.append(f"({table.note})")
    return "\n".join(out).lstrip("\n")


def _markdown_table(table: Table) -> list[str]:
    def cells(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

    align = ["---"] + [
        "--:" if _numeric(table.rows[0][i]) else "---" for i in range(1, len(table.header))
    ]
    lines = [cells(table.header), "|" + "|".join(align) + "|", *map(cells, table.rows)]
    return lines + ([f"\n_{table.note}_"] if table.note else [])


def _numeric(cell: str) -> bool:
    return cell[:1].isdigit() or cell[:1] in "+-"


def render_markdown(
    tables: Sequence[Table], images: Sequence[tuple[str, str]] = (), warnings: Sequence[str] = ()
) -> str:
    """GitHub-flavoured Markdown: warnings, images (alt text, link), then each table."""
    out = ["## MathIF checkpoint comparison", ""]
    out += [f"> **Warning:** {w}\n" for w in warnings]
    out += [f"![{alt}]({link})\n" for alt, link in images]
    for table in tables:
        body = _markdown_table(table)
        if table.folded:
            out += [f"<details><summary>{table.title}</summary>", "", *body, "", "</details>", ""]
        else:
            out += [f"### {table.title}", "", *body, ""]
    return "\n".join(out)
