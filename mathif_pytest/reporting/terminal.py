"""The controller-side reporter: gathers case results, applies the gate, prints the summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.gate import Threshold
from mathif_pytest.pytest_plugin.aggregate import RunAggregator, RunReport
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.summary import run_summary_lines
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
        ("--mathif-top-k", settings.top_k),
        ("--mathif-min-p", settings.min_p),
        ("--mathif-repetition-penalty", settings.repetition_penalty),
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
        self.write_error = ""
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

            try:
                write_json_atomic(settings.results, document)
            except OSError as exc:  # the user asked for the file: its loss fails the run
                self.write_error = f"mathif: could not write --mathif-results: {exc}"
                session.exitstatus = session.exitstatus or pytest.ExitCode.TESTS_FAILED
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
        terminalreporter.section("mathif summary")
        lines = run_summary_lines(self.report)
        if self.write_error:
            lines.append(self.write_error)
        last = len(lines) - 1
        for index, line in enumerate(lines):
            failed = line.rstrip().endswith("FAIL") or "FAIL  (" in line
            terminalreporter.write_line(
                line,
                bold=index == last or line.startswith("suite "),
                green=(index == last and self.report.exit_status == 0) or line.endswith("PASS"),
                red=(index == last and self.report.exit_status != 0) or failed,
            )


def _read_baseline(path: Path | None) -> list[CaseResult] | None:
    if path is None:
        return None
    from mathif_pytest.errors import MathIFError
    from mathif_pytest.runfile import read_run_file

    try:
        return list(read_run_file(path).cases)
    except MathIFError as exc:
        raise pytest.UsageError(f"--mathif-baseline: {exc}") from None


def _session_key() -> Any:
    from mathif_pytest.pytest_plugin.collection import SESSION_KEY

    return SESSION_KEY


def _load_suite_quietly(path: Path) -> Any:
    import yaml

    from mathif_pytest.suite import load_suite

    try:
        return load_suite(path, yaml.safe_load(path.read_text(encoding="utf-8")))
    except Exception as exc:
        print(f"mathif: could not re-read suite {path}: {exc}", file=sys.stderr)
        return None
