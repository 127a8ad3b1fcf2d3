"""The controller-side reporter: gathers case results, applies the gate, prints the summary.

The run's last two lines are the verdict (written at ``pytest_unconfigure``, after pytest's own
``== 55 failed, 365 passed ==`` line): what regressed, then PASSED or FAILED with the exit status.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.gate import Threshold
from mathif_pytest.pytest_plugin.aggregate import RunAggregator, RunReport
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.summary import (
    failed_samples_lines,
    outcome_lines,
    run_summary_lines,
)
from mathif_pytest.results import CaseResult

__all__ = ["MathIFReporter", "header_lines"]


def header_lines(settings: Settings, config: pytest.Config) -> list[str]:
    """The report header: the settings given, and the flags to reproduce them."""
    # Paths as one word (--model=PATH): a path outside the project written as a separate word
    # would hide the project's pytest configuration (see ``startup.check_configuration_found``).
    flags = [f"--model={settings.model}"] if settings.model else []
    flags += [f"--mathif-suite={suite}" for suite in settings.suites]
    flags += [f"--mathif-data={settings.data}"] if settings.data else []
    pairs = [
        ("--mathif-backend", settings.backend),
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
    if settings.intervention is not None:
        flags.append(f"--mathif-intervention {settings.intervention.label}")
    flags += _gate_flags(settings)
    from mathif_pytest import __version__

    return [
        f"mathif-pytest {__version__}: store {settings.store}"
        + (" (rescore only: no model is loaded)" if settings.rescore else ""),
        "mathif reproduce: pytest " + " ".join([*_paths(config), *flags]),
    ]


def _paths(config: pytest.Config) -> list[str]:
    """The paths given on the command line (not ``testpaths`` or the current directory)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    return [str(arg) for arg in config.args]


def _gate_flags(settings: Settings) -> list[str]:
    """The flags that change how the gate's tested rows are judged, as given."""
    flags = [f"--mathif-alpha {settings.alpha:g}"] if settings.alpha_given else []
    if settings.row_alpha is not None:
        flags.append(f"--mathif-row-alpha {settings.row_alpha:g}")
    if settings.min_power is not None:
        drop = "" if settings.min_power_drop is None else f"@{settings.min_power_drop:g}"
        flags.append(f"--mathif-min-power {settings.min_power:g}{drop}")
    if settings.absolute != "point":
        flags.append(f"--mathif-absolute {settings.absolute}")
    return flags


class MathIFReporter:
    """Registered on the controller only (never in xdist workers)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.aggregator = RunAggregator()
        self.suite_paths: dict[str, str] = {}
        self.report: RunReport | None = None
        self.write_error = ""
        self.default_suite: str | None = None
        self.baseline = _read_baseline(settings.baseline)
        #: Failed MathIF samples the gate decides on (not --mathif-strict): results, reports.
        self.tolerated: list[tuple[list[CaseResult], pytest.TestReport]] = []
        #: Each response's answer segment, for the results document (the next run's baseline).
        self.answers: dict[tuple[str, int, bool], str] = {}
        self.usage_error: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Classify each phase's report: MathIF case, MathIF error, or another test."""
        props = {str(k): v for k, v in report.user_properties}
        suite = props.get("mathif_suite")
        if suite is None:
            if report.failed:
                self.aggregator.add_other_failure()
            return
        self.suite_paths[str(suite)] = str(props.get("mathif_suite_path", report.fspath))
        if "mathif_default_suite" in props:
            self.default_suite = str(props["mathif_default_suite"])
        if "mathif_generation" in props:
            self.aggregator.add_generation(json.loads(str(props["mathif_generation"])))
        if report.when == "call" and "mathif_case" in props:
            cases = [CaseResult.from_dict(c) for c in json.loads(str(props["mathif_case"]))]
            self._keep_answers(cases, props.get("mathif_answers"))
            quarantined = bool(props.get("mathif_quarantined"))
            self.aggregator.add_case(
                str(suite), cases, passed=report.passed, quarantined=quarantined
            )
            if report.failed and not self.settings.strict:
                self.tolerated.append((cases, report))
        elif report.failed:
            uid = report.nodeid.rsplit("::", 1)[-1]
            self.aggregator.add_error(str(suite), uid)

    def _keep_answers(self, cases: list[CaseResult], answers: object) -> None:
        texts = json.loads(str(answers)) if answers is not None else []
        for case, text in zip(cases, texts, strict=False):
            self.answers[(case.uid, case.sample, case.constrained)] = str(text)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Keep a start-up mistake an xdist worker found (xdist ``pytest_testnodedown``)."""
        from mathif_pytest.pytest_plugin.startup import worker_usage_error

        self.usage_error = self.usage_error or worker_usage_error(node)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Evaluate the gates and set the exit status (the gate owns it)."""
        if self.usage_error:  # found by xdist workers at collection: as pytest reports its own
            sys.stderr.write(f"ERROR: {self.usage_error}\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if not self.aggregator.mathif_cases:
            return
        settings = self.config.stash[_session_key()].settings
        gates = {name: self._gate_for(name, settings) for name in self.aggregator.suites}
        policy = {
            "max_ungradable": settings.max_ungradable,
            "strict": settings.strict,
            **settings.gate_policy(),
        }
        self.report = self.aggregator.finish(int(exitstatus), gates, policy, self.baseline)
        session.exitstatus = self.report.exit_status
        from mathif_pytest.reporting.document import run_document

        document = run_document(self.report, settings, self.config, self.answers)
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

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None, None, None]:
        """The ``mathif summary`` section, after pytest's own (pytest terminal summary hook).

        Failed samples the gate tolerates are left out of pytest's FAILURES and short summary
        sections (unless ``-v``): the section lists them compactly, grouped by reason.
        """
        stats = terminalreporter.stats
        listed = self.config.get_verbosity() > 0 or not self.tolerated
        failed = stats.get("failed", [])
        if not listed:
            hidden = {id(report) for _, report in self.tolerated}
            stats["failed"] = [r for r in failed if id(r) not in hidden]
        try:
            yield
        finally:
            if not listed:
                stats["failed"] = failed
        if self.report is not None:
            self._write_summary(terminalreporter, listed)

    def _write_summary(self, terminalreporter: Any, listed: bool) -> None:
        terminalreporter.section("mathif summary")
        failed = failed_samples_lines(self._report, [cases for cases, _ in self.tolerated], listed)
        choice = _suite_choice_lines(self._report, self.default_suite)
        lines = [*failed, *choice, *run_summary_lines(self._report)]
        if self.write_error:
            lines.append(self.write_error)
        for line in lines:
            terminalreporter.write_line(
                line,
                bold=line.startswith("suite "),
                green=line.endswith("PASS"),
                red=line.endswith("FAIL"),
            )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The run's last two lines, after pytest's own summary line (pytest unconfigure hook).

        What regressed (or which thresholds failed), then the verdict with the exit status.
        """
        terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
        if self.report is None or terminalreporter is None:
            return
        what, verdict = outcome_lines(self.report)
        passed = self.report.exit_status == 0
        terminalreporter.write_line(what, bold=True)
        terminalreporter.write_line(verdict, bold=True, green=passed, red=not passed)

    @property
    def _report(self) -> RunReport:
        assert self.report is not None
        return self.report


def _suite_choice_lines(report: RunReport, default_suite: str | None) -> list[str]:
    """Which suite ran when none was named; how many distinct prompts several suites shared."""
    lines = []
    if default_suite is not None:
        lines += [
            f"suite {default_suite}: the default (no suite among the paths); choose another with",
            "  --mathif-suite NAME (--mathif-list-suites) or the mathif_default_suite ini key",
        ]
    if len(report.suites) > 1:
        cases = [c for s in report.suites for c in s.cases]
        prompts = len({(c.uid, c.constrained) for c in cases})
        lines.append(
            f"{len(report.suites)} suites, {len(cases)} scored responses, {prompts} distinct "
            "prompts (a prompt that several suites select is generated once)"
        )
    return lines


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
