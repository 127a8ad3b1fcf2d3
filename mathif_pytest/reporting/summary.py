"""The run summary as plain lines (the terminal section), and the verdict in plain words.

Every line of a table fits 100 columns. Thresholds and what was observed are written in the same
unit: percent for rates (``>= 40.00%`` beside ``35.24% [30.8, 39.9]``), points for deltas
(``>= -2.00 pts`` beside ``-5.71 pts [-8.10, -3.33]``).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

from mathif_pytest.compare import ComparisonReport
from mathif_pytest.compare.flips import flips_by_constraint
from mathif_pytest.gate import GateReport, GateRow, Threshold
from mathif_pytest.pytest_plugin.aggregate import RunReport, SuiteReport
from mathif_pytest.reporting.analysis_lines import analysis_lines
from mathif_pytest.reporting.tables import format_multisample, format_summary, multisample_stats
from mathif_pytest.results import CaseResult

__all__ = [
    "failed_samples_lines",
    "format_bound",
    "format_observed",
    "outcome_lines",
    "reason_needed",
    "regressed_text",
    "regressions_by_type",
    "run_summary_lines",
]

_WIDTH = 100
_WORSE = ("followed_to_violated", "correct_to_wrong")


def run_summary_lines(report: RunReport) -> list[str]:
    """Generation counts; per suite: metrics, breakdowns, comparison and gate."""
    gen = report.generation
    lines: list[str] = []
    if gen:
        lines += [  # the model on a line of its own: a long path is never broken
            f"model {gen.get('model')}",
            f"  {gen.get('backend')}, fingerprint {gen.get('fingerprint')}: "
            f"{gen.get('generated', 0)} responses generated in {gen.get('seconds', 0):.1f} s, "
            f"{gen.get('reused', 0)} reused",
        ]
    for suite in report.suites:
        lines += ["", f"suite {suite.name}:"]
        lines += ["  " + line if line else "" for line in _suite_lines(suite)]
    return lines


def _suite_lines(suite: SuiteReport) -> list[str]:
    lines = format_summary(suite.summary).splitlines()
    lines += format_multisample(multisample_stats(suite.cases))
    analyses = analysis_lines(suite.summary, suite.constraint_cost, suite.cases)
    lines += ["", *analyses] if analyses else []
    if suite.quarantined:
        names = ", ".join(suite.quarantined[:5])
        more = ", ..." if len(suite.quarantined) > 5 else ""
        lines.append(
            f"quarantined (ran, reported, ignored by the gate): "
            f"{len(suite.quarantined)} ({names}{more})"
        )
    if suite.comparison is not None:
        lines += ["", *_comparison_lines(suite.comparison)]
    if suite.power:
        lines += textwrap.wrap(suite.power, _WIDTH - 2)
    if suite.errors:
        lines.append(f"errors: {len(suite.errors)} ({', '.join(suite.errors[:5])})")
    return [*lines, "", *_gate_lines(suite.gate)]


def format_bound(threshold: Threshold) -> str:
    """``>= 40.00%`` for a rate, ``>= -2.00 pts`` for a delta or cost (the threshold's unit)."""
    if threshold.in_points:
        return f"{threshold.op} {100 * threshold.value:+.2f} pts"
    return f"{threshold.op} {100 * threshold.value:.2f}%"


def format_observed(row: GateRow) -> str:
    """What the threshold was judged on, in its unit, with the interval; ``-`` when nothing."""
    rate = row.rate
    if rate is None:
        return "-"
    if row.threshold.in_points:
        return f"{100 * rate.value:+.2f} pts [{100 * rate.low:+.2f}, {100 * rate.high:+.2f}]"
    return f"{100 * rate.value:.2f}% [{100 * rate.low:.2f}, {100 * rate.high:.2f}]"


def reason_needed(row: GateRow) -> bool:
    """Whether the row's reason says more than its bound and what was observed.

    It does for a delta threshold (its test) and when nothing could be observed; an absolute
    row's reason repeats bound and observation, as fractions.
    """
    return row.rate is None or row.threshold.relative_to_baseline or row.threshold.constraint_cost


def _gate_lines(gate: GateReport) -> list[str]:
    """One line per threshold; a label longer than 28 characters gets a line of its own."""
    if not gate.rows:
        return ["gate: no thresholds (set `gate:` in the suite or --mathif-gate)"]
    width = min(28, max(len(row.threshold.label) for row in gate.rows))
    lines = ["gate:"]
    for row in gate.rows:
        rate, label = row.rate, row.threshold.label
        count = "" if rate is None else f"n={rate.n}"
        if rate is not None and not row.threshold.in_points:
            count = f"{rate.successes:g}/{rate.n}"
        if len(label) > width:
            lines.append(f"  {label}")
            label = ""
        lines.append(
            f"  {label:<{width}} {format_bound(row.threshold):<12} observed "
            f"{format_observed(row):<30} {count:>8}  {'PASS' if row.passed else 'FAIL'}"
        )
        if row.test is not None or (reason_needed(row) and (not row.passed or rate is None)):
            lines += textwrap.wrap(
                row.reason, _WIDTH - 2, initial_indent=" " * 4, subsequent_indent=" " * 4
            )
    return lines


def _comparison_lines(comparison: ComparisonReport) -> list[str]:
    lines = [
        f"vs baseline ({comparison.shared} shared prompts; {comparison.only_baseline} only in "
        f"the baseline, {comparison.only_candidate} only in this run):"
    ]
    for delta in comparison.deltas:
        lines.append(
            f"  delta {delta.metric:<14} {100 * delta.delta:+6.2f} points "
            f"[{100 * delta.low:+.2f}, {100 * delta.high:+.2f}]  p={delta.p_value:.3g} "
            f"({delta.regressed} worse, {delta.improved} better)"
        )
    by_type = flips_by_constraint(comparison.flips)
    broke = [(cid, n["followed_to_violated"]) for cid, n in by_type.items()]
    if any(n for _, n in broke):
        listed = ", ".join(f"{cid} {n}" for cid, n in sorted(broke, key=lambda x: -x[1]) if n)
        lines += textwrap.wrap(
            f"broken since the baseline, by constraint type: {listed}",
            _WIDTH - 2,
            initial_indent="  ",
            subsequent_indent="    ",
        )
    worse = [f for f in comparison.flips if f.kind in _WORSE]
    for flip in worse[:10]:
        what = ", ".join(flip.changed) or "answer"
        lines.append(f"  flipped {flip.uid} ({flip.kind.replace('_', ' ')}): {what}")
    if len(worse) > 10:
        lines.append(f"  ... and {len(worse) - 10} more (--mathif-results, the Allure report)")
    return lines


def regressions_by_type(report: RunReport) -> tuple[int, list[tuple[str, int]]]:
    """Samples that got worse since the baseline, and how many per constraint type (or answer)."""
    counts: Counter[str] = Counter()
    samples: set[tuple[str, int]] = set()
    for suite in report.suites:
        for flip in suite.comparison.flips if suite.comparison else ():
            if flip.kind in _WORSE:
                samples.add((flip.uid, flip.sample))
                counts.update(flip.changed or ("answer",))
    return len(samples), counts.most_common()


def outcome_lines(report: RunReport) -> tuple[str, str]:
    """The run's last two lines: what regressed (or which thresholds failed), then the verdict."""
    return _what_line(report), _verdict_line(report)


def _what_line(report: RunReport) -> str:
    if any(s.comparison is not None for s in report.suites):
        return f"mathif: regressed since the baseline: {regressed_text(report)}"
    rows = [row for suite in report.suites for row in suite.gate.rows]
    failed = [row for row in rows if not row.passed]
    if not failed:
        return f"mathif: gate: {len(rows)} of {len(rows)} thresholds hold"
    listed = "; ".join(_row_text(row) for row in failed[:3])
    return f"mathif: gate: {len(failed)} of {len(rows)} thresholds failed: {listed}"


def regressed_text(report: RunReport) -> str:
    """``6 samples: punctuation:no_comma 2, keywords:frequency 1, answer 1`` (or ``none``)."""
    count, by_type = regressions_by_type(report)
    if not count:
        return "none"
    listed = ", ".join(f"{name} {n}" for name, n in by_type[:6])
    more = f", and {len(by_type) - 6} more types" if len(by_type) > 6 else ""
    return f"{_plural(count, 'sample')}: {listed}{more}"


def _row_text(row: GateRow) -> str:
    seen = "no data" if row.rate is None else format_observed(row).split(" [")[0]
    return f"{row.threshold.label} {format_bound(row.threshold)} (observed {seen})"


def _verdict_line(report: RunReport) -> str:
    """``mathif: PASSED (exit status 0): …`` or ``mathif: FAILED (exit status 1): …``: why."""
    o, status = report.outcome, report.exit_status
    failed_samples = _plural(o.mathif_failures, "sample")
    why: list[str] = []
    if status != 0:
        if o.mathif_errors or o.other_failures:
            why.append(
                f"{_plural(o.mathif_errors, 'MathIF error')} and "
                f"{_plural(o.other_failures, 'other failed test')} always fail the run"
            )
        if o.ungradable_share > o.max_ungradable:
            why.append(
                f"ungradable answers {o.ungradable_share:.1%} exceed --mathif-max-ungradable "
                f"{o.max_ungradable:g}"
            )
        if o.strict and o.mathif_failures:
            why.append(f"{failed_samples} failed and --mathif-strict fails the run on any")
        if not report.gate_passed:
            why.append("the gate failed")
        why = why or ["pytest's own status (interrupted, internal or usage error)"]
    else:
        why.append("the gate passed")
        if o.mathif_failures:
            why.append(f"{failed_samples} failed their constraints or answer (tolerated)")
    verdict = "PASSED" if status == 0 else "FAILED"
    return f"mathif: {verdict} (exit status {status}): {'; '.join(why)}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def failed_samples_lines(
    report: RunReport, failed: Sequence[Sequence[CaseResult]], listed_above: bool
) -> list[str]:
    """The failed samples that the gate tolerates, grouped by reason, one line per reason.

    Regressions since the baseline come first (``regressed: keywords:frequency``), then every
    violated constraint type and wrong answer, most frequent first.

    Args:
        report: the run (its comparisons say which samples regressed).
        failed: the results of each failed case (one list per sample, several responses each).
        listed_above: pytest listed each failure already (``-v``); else this is the listing.
    """
    if not failed:
        return []
    worse: dict[tuple[str, int], list[str]] = {}
    for suite in report.suites:
        for flip in suite.comparison.flips if suite.comparison else ():
            if flip.kind in _WORSE:
                worse.setdefault((flip.uid, flip.sample), []).extend(flip.changed or ["answer"])
    uids: dict[str, list[str]] = {}
    for results in failed:
        reasons = [f"regressed: {t}" for r in results for t in worse.get((r.uid, r.sample), [])]
        reasons += [reason for result in results for reason in _reasons(result)]
        for reason in dict.fromkeys(reasons):
            uids.setdefault(reason, []).append(results[0].uid)
    where = "listed above" if listed_above else "-v lists each with its reasons"
    lines = [
        f"{_plural(len(failed), 'sample')} failed their constraints or answer; the gate "
        f"decides ({where}):"
    ]
    width = max(len(reason) for reason in uids)
    order = sorted(uids.items(), key=lambda i: (not i[0].startswith("regressed"), -len(i[1]), i[0]))
    for reason, names in order:
        head = f"  {reason:<{width}} {len(names):>4}  "
        # a sample asked with and without its constraints may fail both ways: named once
        lines.append(head + _fit(list(dict.fromkeys(names)), _WIDTH - len(head)))
    return [*lines, ""]


def _reasons(result: CaseResult) -> list[str]:
    reasons = [v.constraint_id for v in result.violations]
    if not result.correct:
        reasons.append(f"answer {result.grade.outcome.value}")
    return reasons


def _fit(names: Sequence[str], room: int) -> str:
    """As many of ``names`` as fit in ``room`` characters, then how many more there are."""
    for count in range(len(names), 0, -1):
        rest = len(names) - count
        text = ", ".join(names[:count]) + (f", … +{rest}" if rest else "")
        if len(text) <= room:
            return text
    return f"… +{len(names)}"
