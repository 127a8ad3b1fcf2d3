"""The run summary as plain lines: shared by the terminal section and the Allure attachment."""

from __future__ import annotations

from mathif_pytest.compare import ComparisonReport
from mathif_pytest.gate import GateReport
from mathif_pytest.pytest_plugin.aggregate import RunReport, SuiteReport
from mathif_pytest.reporting.tables import (
    format_multisample,
    format_rate,
    format_summary,
    multisample_stats,
)

__all__ = ["run_summary_lines", "verdict_line"]


def run_summary_lines(report: RunReport) -> list[str]:
    """Generation counts; per suite metrics, breakdowns, comparison and gate; the verdict."""
    gen = report.generation
    lines: list[str] = []
    if gen:
        lines.append(
            f"model {gen.get('model')} ({gen.get('backend')}, fingerprint "
            f"{gen.get('fingerprint')}): {gen.get('generated', 0)} responses generated "
            f"in {gen.get('seconds', 0):.1f} s, {gen.get('reused', 0)} reused from the store"
        )
    for suite in report.suites:
        lines += ["", f"suite {suite.name}:"]
        lines += ["  " + line for line in _suite_lines(suite)]
    return [*lines, "", verdict_line(report)]


def _suite_lines(suite: SuiteReport) -> list[str]:
    lines = format_summary(suite.summary).splitlines()
    lines += format_multisample(multisample_stats(suite.cases))
    if suite.quarantined:
        names = ", ".join(suite.quarantined[:5])
        more = ", ..." if len(suite.quarantined) > 5 else ""
        lines.append(
            f"quarantined (ran, reported, ignored by the gate): "
            f"{len(suite.quarantined)} ({names}{more})"
        )
    if suite.comparison is not None:
        lines += _comparison_lines(suite.comparison)
    if suite.power:
        lines.append(suite.power)
    if suite.errors:
        lines.append(f"errors: {len(suite.errors)} ({', '.join(suite.errors[:5])})")
    return lines + _gate_lines(suite.gate)


def _gate_lines(gate: GateReport) -> list[str]:
    if not gate.rows:
        return ["gate: no thresholds (set `gate:` in the suite or --mathif-gate)"]
    lines = ["gate:"]
    for row in gate.rows:
        t = row.threshold
        observed = format_rate(row.rate) if row.rate else "-"
        count = f"{row.rate.successes:g}/{row.rate.n}" if row.rate else ""
        verdict = "PASS" if row.passed else "FAIL"
        reason = "" if row.rate else f"  ({row.reason})"
        lines.append(
            f"  {t.label:<34} {t.op} {t.value:<6g} observed {observed:<24} {count:>9}  "
            f"{verdict}{reason}"
        )
        if row.test is not None:  # a tested row: its p-values, family, power, pairing
            lines.append(f"      {row.reason}")
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
            f"({delta.test.method}; {delta.regressed} worse, {delta.improved} better)"
        )
    worse = [f for f in comparison.flips if f.kind in ("followed_to_violated", "correct_to_wrong")]
    for flip in worse[:10]:
        what = ", ".join(flip.changed) or "answer"
        lines.append(f"  flipped {flip.uid} ({flip.kind.replace('_', ' ')}): {what}")
    if len(worse) > 10:
        lines.append(f"  ... and {len(worse) - 10} more flipped samples (see --mathif-results)")
    return lines


def verdict_line(report: RunReport) -> str:
    """``mathif: exit status N; gate passed|FAILED; why``."""
    o = report.outcome
    gate = "passed" if report.gate_passed else "FAILED"
    parts = [f"mathif: exit status {report.exit_status}; gate {gate}"]
    if o.mathif_errors or o.other_failures:
        parts.append(
            f"{o.mathif_errors} MathIF errors and {o.other_failures} other failures "
            "always fail the run"
        )
    elif o.ungradable_share > o.max_ungradable:
        parts.append(
            f"ungradable answers {o.ungradable_share:.1%} exceed "
            f"--mathif-max-ungradable {o.max_ungradable:g}"
        )
    elif o.mathif_failures and not o.strict:
        parts.append(f"{o.mathif_failures} failed samples are expected; the gate decides")
    return "; ".join(parts)
