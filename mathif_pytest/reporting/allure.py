"""Allure evidence for MathIF runs: the pytest plugin that writes it (see ``docs/allure.md``).

Registered by ``plugin.pytest_configure`` only when allure-pytest writes results (``--alluredir``),
so a run without it never imports this module, allure or matplotlib. Per case it writes through
allure-pytest's public API (:mod:`~mathif_pytest.reporting.allure_case`), then tidies the
result allure-pytest holds before writing it: only the labels that help, a failure message that
starts with the constraint type. Once per run, on the controller, it writes plain files in the
Allure results format (:mod:`~mathif_pytest.reporting.allure_run`) and removes the containers
of its own fixtures (no set-up and tear-down rows on the case pages).

Reporting never fails a run by itself: every problem becomes one line in the terminal summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import allure
import pytest

from mathif_pytest.case import CaseSpec, MathIFCase
from mathif_pytest.pytest_plugin.aggregate import RunReport
from mathif_pytest.pytest_plugin.collection import SESSION_KEY, SPEC_KEY
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.allure_case import (
    BaselineAnswers,
    case_description,
    case_title,
    failure_message,
    label_case,
    report_case,
)
from mathif_pytest.reporting.allure_categories import FAILURE_LABEL, RUN_SUMMARY, categories
from mathif_pytest.reporting.allure_run import (
    REPORT_FILE,
    GlobalAttachment,
    dataset_revisions,
    environment_properties,
    globals_json,
    properties_text,
    report_json,
)
from mathif_pytest.runfile import write_text_atomic

__all__ = ["MathIFAllure"]

_CASE_KEY = pytest.StashKey[MathIFCase]()
#: ``allure.dynamic``: its methods are not annotated, so mypy --strict sees it as ``Any``.
_dynamic: Any = allure.dynamic
#: Labels kept on a case: the tree, the constraint types, why it failed, and our tags.
_LABELS = {"parentSuite", "suite", "subSuite", "feature", FAILURE_LABEL}
_UUID_PROPERTY = "mathif_allure_uuid"
#: Fixtures whose set-up and tear-down rows would repeat on every case page.
_OWN_FIXTURES = {"mathif_case", "mathif_generations", "tmp_path_factory"}


class MathIFAllure:
    """Per process: Allure evidence for each MathIF case; on the controller, the run-level files."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results_dir = Path(os.path.abspath(str(config.getoption("allure_report_dir"))))
        self.problems: list[str] = []
        #: Allure 3 test result ids (md5 of the result's uuid) by (suite, uid); controller only.
        self.result_ids: dict[tuple[str, str], list[str]] = {}
        self._uuids: set[str] = set()
        self._baseline_answers: BaselineAnswers | None = None

    @property
    def _settings(self) -> Settings:
        settings: Settings = self.config.stash[SESSION_KEY].settings
        return settings

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Label MathIF items before their fixtures run (pytest ``pytest_runtest_setup``)."""
        spec = item.stash.get(SPEC_KEY, None)
        if spec is not None:
            self._guard(f"labels of {item.nodeid}", lambda: label_case(spec, self._settings.model))

    def pytest_mathif_case_scored(self, item: pytest.Item, case: MathIFCase) -> None:
        """Keep the scored case for the call phase (mathif ``pytest_mathif_case_scored``).

        The hook runs inside the ``mathif_case`` fixture, where allure-pytest would file steps
        and attachments under the fixture; they are written in the test body instead.
        """
        item.stash[_CASE_KEY] = case

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """Write the case's steps and attachments into its test body (pytest call hook)."""
        case = item.stash.get(_CASE_KEY, None)
        if case is not None:
            answers = self._answers()
            self._guard(f"evidence of {item.nodeid}", lambda: report_case(case, answers))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        """Title, description and tidy result, after allure-pytest added its labels."""
        try:
            return (yield)
        finally:
            case = item.stash.get(_CASE_KEY, None)
            if case is not None:
                del item.stash[_CASE_KEY]  # responses can be long: keep none past their test
            spec = item.stash.get(SPEC_KEY, None)
            if spec is not None:
                self._guard(f"title of {item.nodeid}", lambda: self._finish(item, spec, case))

    def _finish(self, item: pytest.Item, spec: CaseSpec, case: MathIFCase | None) -> None:
        _dynamic.title(case_title(spec))
        _dynamic.description(case_description(spec))
        listener = self.config.pluginmanager.get_plugin("allure_listener")
        result = listener.allure_logger.get_test(None) if listener is not None else None
        if result is None:
            return
        result.labels = [
            label
            for label in result.labels
            if label.name in _LABELS or (label.name == "tag" and label.value == "quarantined")
        ]
        if case is not None and not case.passed and result.statusDetails is not None:
            # The message says it all; pytest's trace would repeat it after the uid.
            result.statusDetails.message = failure_message(case)
            result.statusDetails.trace = None
        item.user_properties.append((_UUID_PROPERTY, str(result.uuid)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note each MathIF case's Allure result id (for the quality gate's links)."""
        props = {str(k): v for k, v in report.user_properties}
        uuid, suite = props.get(_UUID_PROPERTY), props.get("mathif_suite")
        if report.when == "teardown" and uuid is not None and suite is not None:
            uid = report.nodeid.rsplit("::", 1)[-1]
            self._uuids.add(str(uuid))
            ids = self.result_ids.setdefault((str(suite), uid), [])
            ids.append(hashlib.md5(str(uuid).encode(), usedforsecurity=False).hexdigest())

    def pytest_mathif_run_finished(
        self, config: pytest.Config, report: RunReport, document: dict[str, Any]
    ) -> None:
        """Write the run-level files, once, on the controller (mathif run-finished hook)."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._guard("environment.properties", lambda: self._write_environment(report))
        self._guard("categories.json", self._write_categories)
        self._guard(
            REPORT_FILE, lambda: self._write_json(REPORT_FILE, report_json(report, self.result_ids))
        )
        self._guard("the run summary", lambda: self._write_globals(report, document))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """One warning line per reporting problem; the exit status is untouched (pytest hook)."""
        for problem in self.problems:
            terminalreporter.write_line(
                f"mathif allure: {problem} (the run's result is unaffected)", yellow=True
            )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Remove the containers of MathIF's own fixtures, once every process wrote its own."""
        if not hasattr(config, "workerinput") and self._uuids:
            self._guard("fixture containers", self._remove_fixture_containers)

    def _guard(self, what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # reporting never fails a run by itself
            problem = f"could not write {what}: {type(exc).__name__}: {exc}"
            self.problems.append(problem)
            print(f"mathif allure: {problem}", file=sys.stderr)

    def _answers(self) -> BaselineAnswers:
        """The baseline document's answer segments (read once per process; {} without one)."""
        if self._baseline_answers is None:
            from mathif_pytest.reporting.document import read_answers

            path = self._settings.baseline
            self._baseline_answers = read_answers(path) if path is not None else {}
        return self._baseline_answers

    def _write_environment(self, report: RunReport) -> None:
        datasets = dataset_revisions(report)
        props = environment_properties(report, self._settings, datasets, self.config.rootpath)
        write_text_atomic(self.results_dir / "environment.properties", properties_text(props))

    def _write_categories(self) -> None:
        self._write_json("categories.json", [c.to_json() for c in categories()])

    def _write_json(self, name: str, body: Any) -> None:
        text = json.dumps(body, indent=1, ensure_ascii=False) + "\n"
        write_text_atomic(self.results_dir / name, text)

    def _write_globals(self, report: RunReport, document: dict[str, Any]) -> None:
        """The run summary (listed first), the charts and the results JSON, in one globals file."""
        from mathif_pytest.reporting.run_html import summary_html

        reporter = self.config.pluginmanager.get_plugin("mathif-reporter")
        baseline = getattr(reporter, "baseline", None)  # the --mathif-baseline run's results
        listed = [
            GlobalAttachment(
                name=RUN_SUMMARY, source="mathif-summary-attachment.html", type="text/html"
            )
        ]
        write_text_atomic(self.results_dir / listed[0].source, summary_html(report, baseline))
        self._guard("charts", lambda: listed.extend(self._write_charts(report)))
        results = GlobalAttachment(
            name="mathif results", source="mathif-results-attachment.json", type="application/json"
        )
        self._write_json(results.source, document)
        listed.append(results)
        write_text_atomic(self.results_dir / "mathif-run-globals.json", globals_json(listed))

    def _write_charts(self, report: RunReport) -> list[GlobalAttachment]:
        from mathif_pytest.analyses import headline_cases
        from mathif_pytest.reporting.plots import summary_charts
        from mathif_pytest.stats import summarize

        cases = {(c.uid, c.sample, c.constrained): c for s in report.suites for c in s.cases}
        listed = []
        cost = next((s.constraint_cost for s in report.suites if s.constraint_cost), None)
        # with both prompt variants (constraints: both), the metrics are the constrained ones'
        drawn = list(cases.values()) if cost is None else headline_cases(list(cases.values()))
        charts = summary_charts(summarize(drawn), cost)
        for index, (name, png) in enumerate(charts.items()):
            source = f"mathif-chart-{index}-attachment.png"
            (self.results_dir / source).write_bytes(png)
            listed.append(GlobalAttachment(name=name, source=source, type="image/png"))
        return listed

    def _remove_fixture_containers(self) -> None:
        for path in self.results_dir.glob("*-container.json"):
            container = json.loads(path.read_text(encoding="utf-8"))
            fixtures = [*container.get("befores", []), *container.get("afters", [])]
            names = {str(f.get("name", "")).split("::")[0] for f in fixtures}
            children = set(container.get("children", []))
            if names <= _OWN_FIXTURES and children <= self._uuids:
                path.unlink()
