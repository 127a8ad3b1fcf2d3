"""The run summary as one HTML page (the first global attachment of the Allure report).

Real tables, in the order a reviewer asks: the verdict; per suite the gate thresholds, the
metrics with intervals (and the paired deltas against ``--mathif-baseline``), the deltas per
source, level and constraint type, the flips by constraint type, and every flipped sample.
No allure import: plain text in, HTML out.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from mathif_pytest.compare import ComparisonReport
from mathif_pytest.compare.flips import flips_by_constraint
from mathif_pytest.pytest_plugin.aggregate import RunReport, SuiteReport
from mathif_pytest.reporting.summary import format_bound, format_observed, outcome_lines
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import GroupStats, Rate, Summary, summarize

__all__ = ["group_deltas", "summary_html"]

_LABELS = {"hard_accuracy": "HAcc", "soft_accuracy": "SAcc", "correctness": "Correct"}
_STYLE = (
    "<style>body{font:13px/1.45 system-ui,sans-serif;color:#222;margin:8px}"
    "table{border-collapse:collapse;margin:4px 0 14px}td,th{border:1px solid #ccc;"
    "padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#2e7d32;font-weight:600}"
    ".fail{color:#c62828;font-weight:600}.verdict{font-size:16px;padding:8px 10px;margin:0 0 8px;"
    "border-left:6px solid}.verdict.pass{border-color:#2e7d32;background:#eef7ee}"
    ".verdict.fail{border-color:#c62828;background:#fbeeee}h2{font-size:15px;margin:18px 0 4px}"
    "h3{font-size:13px;margin:10px 0 2px}.verdict small{font-weight:400;color:#333}</style>"
)
Row = Sequence[str]


def summary_html(report: RunReport, baseline: Sequence[CaseResult] | None) -> str:
    """The whole page: the verdict, then each suite's tables."""
    what, verdict = outcome_lines(report)
    css = "pass" if report.exit_status == 0 else "fail"
    parts = [
        _STYLE,
        f"<p class='verdict {css}'>{html.escape(verdict.removeprefix('mathif: '))}<br>"
        f"<small>{html.escape(what.removeprefix('mathif: '))}</small></p>",
    ]
    for suite in report.suites:
        parts.append(f"<h2>Suite {html.escape(suite.name)}</h2>")
        parts += _suite_tables(suite, baseline)
    return "".join(parts)


def _suite_tables(suite: SuiteReport, baseline: Sequence[CaseResult] | None) -> list[str]:
    tables = [_gate_table(suite), _metrics_table(suite)]
    comparison = suite.comparison
    if comparison is not None and baseline is not None:
        gated = [c for c in suite.cases if c.uid not in suite.quarantined]
        before, now = group_deltas([c for c in baseline if c.uid not in suite.quarantined], gated)
        for title, key in (("source", "by_source"), ("level", "by_level")):
            tables.append(_delta_table(title, getattr(before, key), getattr(now, key)))
        tables.append(_delta_table("constraint type", before.by_constraint, now.by_constraint))
        tables += [_flips_by_type(comparison), _flip_list(comparison)]
    else:
        summary = suite.summary
        for title, table in (
            ("source", summary.by_source),
            ("level", summary.by_level),
            ("constraint type", summary.by_constraint),
        ):
            tables.append(_delta_table(title, None, table))
    return tables


def group_deltas(
    baseline: Iterable[CaseResult], candidate: Iterable[CaseResult]
) -> tuple[Summary, Summary]:
    """Both runs summarised on the prompts they share (paired by uid and constrained)."""
    before, now = list(baseline), list(candidate)
    shared = {(c.uid, c.constrained) for c in before} & {(c.uid, c.constrained) for c in now}
    return (
        summarize(c for c in before if (c.uid, c.constrained) in shared),
        summarize(c for c in now if (c.uid, c.constrained) in shared),
    )


def _gate_table(suite: SuiteReport) -> str:
    rows = [
        (
            row.threshold.label,
            format_bound(row.threshold),
            format_observed(row),
            _verdict(row.passed),
            html.escape(row.reason),
        )
        for row in suite.gate.rows
    ]
    head = ("threshold", "bound", "observed", "verdict", "why")
    return _table("Gate", head, rows, escape=(0, 1, 2), note="no thresholds" if not rows else "")


def _metrics_table(suite: SuiteReport) -> str:
    comparison = suite.comparison
    head = ["metric", "this run % [95% CI]", "k/n"]
    if comparison is not None:
        head += ["baseline %", "delta pts [95% CI]", "p", "worse / better prompts"]
    rows = []
    for metric, label in _LABELS.items():
        rate = suite.summary.overall.metric(metric)
        if rate is None:
            continue
        row = [f"{label} ({metric})", _rate(rate, 2), f"{rate.successes:g}/{rate.n}"]
        delta = comparison.metric(metric) if comparison is not None else None
        if delta is not None:
            row += [
                f"{100 * delta.baseline:.2f}",
                f"{100 * delta.delta:+.2f} [{100 * delta.low:+.2f}, {100 * delta.high:+.2f}]",
                f"{delta.p_value:.2g}",
                f"{delta.regressed} / {delta.improved}",
            ]
        rows.append(row)
    note = ""
    if comparison is not None:
        note = (
            f"Paired on {comparison.shared} prompts shared with the baseline "
            f"({comparison.only_baseline} only in the baseline, {comparison.only_candidate} only "
            "in this run); exact paired test and paired-bootstrap interval."
        )
    return _table("Metrics", head, rows, note=note)


def _delta_table(
    title: str, before: Mapping[str, GroupStats] | None, now: Mapping[str, GroupStats]
) -> str:
    metrics = ["compliance", *_LABELS] if title == "constraint type" else list(_LABELS)
    head = [
        title,
        "n",
        *[("followed" if m == "compliance" else _LABELS[m]) + " %" for m in metrics],
    ]
    rows = []
    for group, stats in now.items():
        old = before.get(group) if before is not None else None
        cells = [
            _cell(_metric(stats, m), None if old is None else _metric(old, m)) for m in metrics
        ]
        rows.append([group, str(stats.prompts), *cells])
    what = "this run (delta in points against the baseline)" if before is not None else "95% CI"
    return _table(f"By {title}: {what}", head, rows)


def _metric(stats: GroupStats, metric: str) -> Rate | None:
    return stats.compliance if metric == "compliance" else stats.metric(metric)


def _cell(rate: Rate | None, old: Rate | None) -> str:
    if rate is None:
        return "-"
    if old is None:
        return _rate(rate, 1)
    return f"{100 * rate.value:.1f} ({100 * (rate.value - old.value):+.1f})"


def _flips_by_type(comparison: ComparisonReport) -> str:
    rows = [
        (cid, str(n["followed_to_violated"]), str(n["violated_to_followed"]))
        for cid, n in sorted(
            flips_by_constraint(comparison.flips).items(),
            key=lambda item: -item[1]["followed_to_violated"],
        )
    ]
    head = ("constraint type", "followed → violated", "violated → followed")
    return _table(
        "Flips by constraint type", head, rows, note="no constraint flips" if not rows else ""
    )


def _flip_list(comparison: ComparisonReport) -> str:
    rows = [
        (
            flip.uid,
            f"{flip.source} · {flip.level}",
            flip.kind.replace("_", " "),
            ", ".join(flip.changed) or "answer",
            flip.detail,
        )
        for flip in comparison.flips
    ]
    note = (
        "Each sample is the case titled by its uid; the Quality Gates tab and the "
        "'Regressed: …' categories link to the ones that got worse."
    )
    head = ("uid", "source · level", "flip", "what changed", "detail")
    return _table(f"Flipped samples ({len(rows)})", head, rows, note=note)


def _rate(rate: Rate, digits: int) -> str:
    return (
        f"{100 * rate.value:.{digits}f} [{100 * rate.low:.{digits}f}, {100 * rate.high:.{digits}f}]"
    )


def _verdict(passed: bool) -> str:
    return "<span class=pass>PASS</span>" if passed else "<span class=fail>FAIL</span>"


def _table(
    title: str,
    head: Sequence[str],
    rows: Iterable[Row],
    *,
    escape: Sequence[int] | None = None,
    note: str = "",
) -> str:
    """An HTML table; cells are escaped unless ``escape`` lists the only columns to escape."""

    def cell(index: int, text: str) -> str:
        shown = html.escape(text) if escape is None or index in escape else text
        numeric = text[:1].isdigit() or text[:1] in "+-"
        return f"<td class=n>{shown}</td>" if numeric else f"<td>{shown}</td>"

    body = "".join(
        "<tr>" + "".join(cell(i, str(c)) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    heads = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    caption = f"<h3>{html.escape(title)}</h3>" + (f"<p>{html.escape(note)}</p>" if note else "")
    return f"{caption}<table><tr>{heads}</tr>{body}</table>"
