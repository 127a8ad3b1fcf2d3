"""The controller-side reporter: gathers case results, applies the gate, prints the summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.aggregate import RunAggregator, RunReport
from mathif_pytest.gate import GateReport, Threshold
from mathif_pytest.options import Settings
from mathif_pytest.reporting.tables import (
    format_multisample,
    format_rate,
    format_summary,
    multisample_stats,
)
from mathif_pytest.results import CaseResult

__all__ = ["MathIFReporter", "header_lines"]


def header_lines(settings: Settings, config: pytest.Config) -> list[str]:
    """The report header: the settings given, and the flags to reproduce them."""
    flags = [f"--model {settings.model}"] if settings.model else []
    pairs = [
        ("--mathif-backend", settings.backend),
        ("--mathif-data", settings.data),
        ("--mathif-temperature", settings.temperature),
        ("--mathif-top-p", settings.top_p),
        ("--mathif-max-tokens", settings.max_tokens),
        ("--mathif-samples", settings.samples),
    ]
    flags += [f"{flag} {value}" for flag, value in pairs if value is not None]
    if settings.seed_given:
        flags.append(f"--mathif-seed {'none' if settings.seed is None else settings.seed}")
    flags += [f"--mathif-deviation {d}" for d in settings.deviations]
    flags += [f"--mathif-engine-arg {k}={v}" for k, v in settings.engine_args.items()]
    if settings.no_constraints:
        flags.append("--mathif-no-constraints")
    from mathif_pytest import __version__

    return [
        f"mathif-pytest {__version__}: store {settings.store}"
        + (" (rescore only: no model is loaded)" if settings.rescore else ""),
        "mathif reproduce: pytest " + " ".join(str(a) for a in config.args) + " " + " ".join(flags),
    ]


class MathIFReporter:
    """Registered on the controller only (never in xdist workers)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.aggregator = RunAggregator()
        self.suite_paths: dict[str, str] = {}
        self.report: RunReport | None = None
        self.baseline = _read_baseline(settings.baseline)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Classify each phase's report: MathIF case, MathIF error, or another test."""
        props = {str(k): v for k, v in report.user_properties}
        suite = props.get("mathif_suite")
        if suite is None:
            if report.failed:
                self.aggregator.add_other_failure()
            return
        self.suite_paths[str(suite)] = report.fspath
        if "mathif_generation" in props:
            self.aggregator.add_generation(json.loads(str(props["mathif_generation"])))
        if report.when == "call" and "mathif_case" in props:
            cases = [CaseResult.from_dict(c) for c in json.loads(str(props["mathif_case"]))]
            quarantined = bool(props.get("mathif_quarantined"))
            self.aggregator.add_case(
                str(suite), cases, passed=report.passed, quarantined=quarantined
            )
        elif report.failed:
            uid = report.nodeid.rsplit("::", 1)[-1]
            self.aggregator.add_error(str(suite), uid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Evaluate the gates and set the exit status (the gate owns it)."""
        if not self.aggregator.mathif_cases:
            return
        settings = self.config.stash[_session_key()].settings
        gates = {name: self._gate_for(name, settings) for name in self.aggregator.suites}
        policy = {
            "max_ungradable": settings.max_ungradable,
            "strict": settings.strict,
            "alpha": settings.alpha,
        }
        self.report = self.aggregator.finish(int(exitstatus), gates, policy, self.baseline)
        session.exitstatus = self.report.exit_status
        from mathif_pytest.reporting.document import run_document

        document = run_document(self.report, settings, self.config)
        if settings.results is not None:
            from mathif_pytest.runfile import write_json_atomic

            write_json_atomic(settings.results, document)
        self.config.hook.pytest_mathif_run_finished(
            config=self.config, report=self.report, document=document
        )

    def _gate_for(self, suite: str, settings: Settings) -> tuple[Threshold, ...]:
        if settings.gate:
            return settings.gate
        path = self.suite_paths.get(suite)
        loaded = _load_suite_quietly(Path(self.config.rootpath, path)) if path else None
        return loaded.gate if loaded is not None else ()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the metrics with intervals, the breakdowns and PASS/FAIL per threshold."""
        if self.report is None:
            return
        tr = terminalreporter
        tr.section("mathif summary")
        gen = self.report.generation
        if gen:
            tr.write_line(
                f"model {gen.get('model')} ({gen.get('backend')}, fingerprint "
                f"{gen.get('fingerprint')}): {gen.get('generated', 0)} responses generated "
                f"in {gen.get('seconds', 0):.1f} s, {gen.get('reused', 0)} reused from the store"
            )
        for suite in self.report.suites:
            tr.write_line("")
            tr.write_line(f"suite {suite.name}:", bold=True)
            for line in format_summary(suite.summary).splitlines():
                tr.write_line("  " + line)
            for line in format_multisample(multisample_stats(suite.cases)):
                tr.write_line("  " + line)
            if suite.quarantined:
                names = ", ".join(suite.quarantined[:5])
                more = ", ..." if len(suite.quarantined) > 5 else ""
                tr.write_line(
                    f"  quarantined (ran, reported, ignored by the gate): "
                    f"{len(suite.quarantined)} ({names}{more})"
                )
            if suite.comparison is not None:
                _write_comparison(tr, suite.comparison)
            if suite.power:
                tr.write_line(f"  {suite.power}")
            if suite.errors:
                tr.write_line(
                    f"  errors: {len(suite.errors)} ({', '.join(suite.errors[:5])})", red=True
                )
            _write_gate(tr, suite.gate)
        tr.write_line("")
        tr.write_line(
            _verdict_line(self.report),
            bold=True,
            green=self.report.exit_status == 0,
            red=self.report.exit_status != 0,
        )


def _write_gate(tr: Any, gate: GateReport) -> None:
    if not gate.rows:
        tr.write_line("  gate: no thresholds (set `gate:` in the suite or --mathif-gate)")
        return
    tr.write_line("  gate:")
    for row in gate.rows:
        t = row.threshold
        observed = format_rate(row.rate) if row.rate else "-"
        count = f"{row.rate.successes:g}/{row.rate.n}" if row.rate else ""
        verdict = "PASS" if row.passed else "FAIL"
        tr.write_line(
            f"    {t.label:<34} {t.op} {t.value:<6g} observed {observed:<24} {count:>9}  {verdict}"
            + ("" if row.rate else f"  ({row.reason})"),
            green=row.passed,
            red=not row.passed,
        )


def _write_comparison(tr: Any, comparison: Any) -> None:
    tr.write_line(
        f"  vs baseline ({comparison.shared} shared prompts; {comparison.only_baseline} only in "
        f"the baseline, {comparison.only_candidate} only in this run):"
    )
    for delta in comparison.deltas:
        tr.write_line(
            f"    delta {delta.metric:<14} {100 * delta.delta:+6.2f} points "
            f"[{100 * delta.low:+.2f}, {100 * delta.high:+.2f}]  p={delta.p_value:.3g} "
            f"({delta.test.method}; {delta.regressed} worse, {delta.improved} better)"
        )
    worse = [f for f in comparison.flips if f.kind in ("followed_to_violated", "correct_to_wrong")]
    for flip in worse[:10]:
        what = ", ".join(flip.changed) or "answer"
        tr.write_line(f"    flipped {flip.uid} ({flip.kind.replace('_', ' ')}): {what}")
    if len(worse) > 10:
        tr.write_line(f"    ... and {len(worse) - 10} more flipped samples (see --mathif-results)")


def _read_baseline(path: Path | None) -> list[CaseResult] | None:
    if path is None:
        return None
    from mathif_pytest.errors import MathIFError
    from mathif_pytest.runfile import read_run_file

    try:
        return list(read_run_file(path).cases)
    except MathIFError as exc:
        raise pytest.UsageError(f"--mathif-baseline: {exc}") from None


def _verdict_line(report: RunReport) -> str:
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


def _session_key() -> Any:
    from mathif_pytest.collection import SESSION_KEY

    return SESSION_KEY


def _load_suite_quietly(path: Path) -> Any:
    import yaml

    from mathif_pytest.suite import load_suite

    try:
        return load_suite(path, yaml.safe_load(path.read_text(encoding="utf-8")))
    except Exception as exc:
        print(f"mathif: could not re-read suite {path}: {exc}", file=sys.stderr)
        return None
