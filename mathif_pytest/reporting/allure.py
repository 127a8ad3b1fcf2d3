"""Allure evidence for MathIF runs: per-case titles, labels, steps and attachments; run-level files.

Registered by ``plugin.pytest_configure`` only when allure-pytest writes results (``--alluredir``),
so a run without it never imports this module, allure or matplotlib. Everything goes through
allure-pytest's public API (``allure.dynamic``, ``allure.step``, ``allure.attach``,
``allure.global_attach``) plus two plain files in the results directory that the Allure
readers know: ``environment.properties`` and ``categories.json``. See ``docs/allure.md``.

Reporting never fails a run by itself: every problem becomes one line in the terminal summary.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import allure
import pytest

from mathif_pytest.case import CaseSpec, MathIFCase
from mathif_pytest.constraints import EMPTY_RESPONSE_DETAIL
from mathif_pytest.grading import AnswerGrade, Grade, ResponseParts
from mathif_pytest.pytest_plugin.aggregate import RunReport
from mathif_pytest.pytest_plugin.collection import SESSION_KEY, SPEC_KEY
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.allure_categories import (
    EMPTY_RESPONSE,
    FAILURE_LABEL,
    GENERATION_ERROR,
    REGRESSED,
    RUN_SUMMARY,
    TRUNCATED,
    UNCLOSED_THINKING,
    UNGRADABLE,
    WRONG_ANSWER,
    Category,
    categories,
    failure_kinds,
)
from mathif_pytest.reporting.allure_run import (
    dataset_revisions,
    environment_properties,
    properties_text,
    run_summary_text,
)
from mathif_pytest.results import CaseResult
from mathif_pytest.runfile import write_text_atomic

__all__ = [
    "EMPTY_RESPONSE",
    "FAILURE_LABEL",
    "GENERATION_ERROR",
    "REGRESSED",
    "RUN_SUMMARY",
    "SEVERITY_BY_LEVEL",
    "TRUNCATED",
    "UNCLOSED_THINKING",
    "UNGRADABLE",
    "WRONG_ANSWER",
    "Category",
    "MathIFAllure",
    "StepBroken",
    "StepFailed",
    "categories",
    "environment_properties",
    "failure_kinds",
    "properties_text",
]

#: Severity of a failed case by its level: missing the one constraint of a single-constraint
#: prompt is the most basic instruction-following regression; a triple-constraint prompt failing
#: is the most expected (the paper's models follow all three far less often).
SEVERITY_BY_LEVEL = {"single": "critical", "double": "normal", "triple": "minor"}
_CASE_KEY = pytest.StashKey[MathIFCase]()
#: ``allure.dynamic``: its methods are not annotated, so mypy --strict sees it as ``Any``.
_dynamic: Any = allure.dynamic
_TITLE_WORDS = 12
_PREVIEW_CHARS = 100


class StepFailed(AssertionError):
    """Marks an Allure step failed (a violated constraint, a wrong answer); caught at once."""


class StepBroken(RuntimeError):
    """Marks an Allure step broken (an ungradable answer); caught at once."""


# --- per case ----------------------------------------------------------------------------------


def case_title(spec: CaseSpec) -> str:
    """``gsm8k · double · Natalia sold clips to 48 of her friends in April, and then…``."""
    sample = spec.sample
    words = sample.question.split()
    first = " ".join(words[:_TITLE_WORDS]) + ("…" if len(words) > _TITLE_WORDS else "")
    return f"{sample.source} · {sample.level} · {first}"


def case_description(spec: CaseSpec) -> str:
    """Markdown: the question, the constraints with their instructions, the reference answer."""
    sample = spec.sample
    lines = [
        f"**{sample.uid}** from `{sample.location}`, suite `{spec.suite}`"
        + (" (quarantined: the gate ignores it)" if spec.quarantined else ""),
        "",
        "> " + _markdown_text(sample.question).replace("\n", "\n> "),
        "",
    ]
    if spec.constrained and sample.constraints:
        lines.append("Constraints:")
        lines += [
            f"{i}. `{c.id}`: {_markdown_text(c.description)}"
            for i, c in enumerate(sample.constraints, start=1)
        ]
    else:
        lines.append("Constraints: not part of the prompt (correctness only).")
    lines += ["", f"Reference answer: `{sample.answer}`"]
    return "\n".join(lines)


def label_case(spec: CaseSpec, model: str | None) -> None:
    """Labels and parameters known before the case runs (so errored cases are grouped too)."""
    sample = spec.sample
    _dynamic.parent_suite("MathIF")
    _dynamic.suite(sample.source)
    _dynamic.sub_suite(sample.level)
    _dynamic.severity(allure.severity_level(SEVERITY_BY_LEVEL.get(sample.level, "normal")))
    for constraint_id in dict.fromkeys(sample.constraint_ids):
        _dynamic.feature(constraint_id)
        _dynamic.tag(constraint_id)
    if spec.quarantined:
        _dynamic.tag("quarantined")
    _dynamic.parameter("uid", sample.uid)
    _dynamic.parameter("suite", spec.suite)
    # Excluded parameters are shown but left out of the history id, so that a case keeps its
    # history across checkpoints and changing outputs.
    _dynamic.parameter("model", model or "(none)", excluded=True)


def report_case(case: MathIFCase) -> None:
    """Steps, attachments and failure labels of a scored case (in the test body, call phase)."""
    allure.attach(case.prompt, name="prompt", attachment_type=allure.attachment_type.TEXT)
    count = len(case.results)
    rows = zip(case.responses, case.parts, case.results, strict=True)
    for index, (text, parts, result) in enumerate(rows):
        name = "response" if count == 1 else f"response {index + 1}"
        _dynamic.parameter(name, _preview(text), excluded=True)
        if count == 1:
            _report_response(case.spec, parts, result, suffix="")
            continue
        passed = result.hard is not False and result.correct
        title = f"response {index + 1} of {count} — {'passed' if passed else 'failed'}"
        with contextlib.suppress(StepFailed), allure.step(title):
            _report_response(case.spec, parts, result, suffix=f" ({index + 1} of {count})")
            if not passed:
                raise StepFailed(result.explain())
    for kind in failure_kinds(case):
        _dynamic.label(FAILURE_LABEL, kind)


def _report_response(spec: CaseSpec, parts: ResponseParts, result: CaseResult, suffix: str) -> None:
    _generation_steps(parts, result)
    if result.constrained:
        asked = {c.id: c.description for c in spec.sample.constraints}
        for verdict in result.verdicts:
            state = "followed" if verdict.followed else "violated"
            # A violated step's error box says what was asked; its title says what was found.
            error = StepFailed(f"asked: {asked.get(verdict.constraint_id, '?')}")
            _step(
                f"{verdict.constraint_id} — {state}: {verdict.detail}",
                None if verdict.followed else error,
            )
    else:
        _step("constraints — not scored (the prompt carries no constraints)")
    _grade_step(result.grade)
    text = allure.attachment_type.TEXT
    allure.attach(parts.raw, name=f"response{suffix}", attachment_type=text)
    allure.attach(
        parts.thinking or "(no <think> block)", name=f"thinking{suffix}", attachment_type=text
    )
    allure.attach(parts.answer, name=f"answer segment{suffix}", attachment_type=text)
    if result.constrained:
        allure.attach(
            verdict_table(spec, result),
            name=f"verdicts{suffix}",
            attachment_type=allure.attachment_type.HTML,
        )
    allure.attach(
        grade_text(result.grade), name=f"answer vs reference{suffix}", attachment_type=text
    )


def _generation_steps(parts: ResponseParts, result: CaseResult) -> None:
    reason = result.finish_reason
    if not parts.raw.strip():
        _step("generation — empty response", StepFailed(EMPTY_RESPONSE_DETAIL))
    elif reason == "length":
        detail = "truncated at the token limit (finish_reason 'length')"
        _step(f"generation — {detail}", StepFailed(detail))
    else:
        _step(
            f"generation — finish_reason {reason!r}"
            if reason
            else "generation — finish_reason not reported by the backend"
        )
    if parts.think_opened and not parts.think_closed:
        detail = "thinking never closed: <think> without </think>"
        _step(f"thinking — {detail}", StepFailed(detail))
    elif parts.think_closed:
        _step("thinking — closed with </think>; the answer segment follows it")
    else:
        _step("thinking — no think tags; the whole response is the answer segment")


def _grade_step(grade: Grade) -> None:
    outcome = grade.outcome
    error: Exception | None = None
    if outcome is AnswerGrade.INCORRECT:
        error = StepFailed(_answer_pair(grade))
    elif outcome is AnswerGrade.UNGRADABLE:
        error = StepBroken(_answer_pair(grade))
    _step(f"answer — {outcome.value}: {grade.detail}", error)


def _step(title: str, error: Exception | None = None) -> None:
    """One Allure step; raising ``error`` inside it gives it the failed/broken status."""
    with contextlib.suppress(StepFailed, StepBroken), allure.step(title):
        if error is not None:
            raise error


def verdict_table(spec: CaseSpec, result: CaseResult) -> str:
    """An HTML table: each constraint, followed or not, the reason and the instruction."""
    instructions = [c.description for c in spec.sample.constraints]
    rows = []
    for number, verdict in enumerate(result.verdicts, start=1):
        instruction = instructions[number - 1] if number <= len(instructions) else ""
        mark = "✔ followed" if verdict.followed else "✘ violated"
        css = "ok" if verdict.followed else "bad"
        rows.append(
            f"<tr class={css}><td>{number}</td><td><code>{html.escape(verdict.constraint_id)}"
            f"</code></td><td>{mark}</td><td>{html.escape(verdict.detail)}</td>"
            f"<td>{html.escape(instruction)}</td></tr>"
        )
    return (
        "<!doctype html><meta charset=utf-8><style>body{font:14px sans-serif}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left;vertical-align:top}.ok td:nth-child(3){color:#2e7d32}"
        ".bad td:nth-child(3){color:#c62828;font-weight:bold}</style><table><tr><th>#</th>"
        "<th>constraint</th><th>followed?</th><th>reason</th><th>instruction</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def grade_text(grade: Grade) -> str:
    """The extracted answer beside the reference answer, with the grade and its reason."""
    extracted = "(none)" if grade.extracted is None else repr(grade.extracted)
    return (
        f"grade:     {grade.outcome.value}\nextracted: {extracted}\n"
        f"reference: {grade.reference!r}\nwhy:       {grade.detail}\n"
    )


def _answer_pair(grade: Grade) -> str:
    extracted = "(none)" if grade.extracted is None else repr(grade.extracted)
    return f"extracted {extracted}; reference {grade.reference!r}"


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW_CHARS else flat[: _PREVIEW_CHARS - 1] + "…"


def _markdown_text(text: str) -> str:
    """Escape what markdown would turn into emphasis, links, HTML or tables."""
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", text)


# --- the plugin ---------------------------------------------------------------------------------


class MathIFAllure:
    """Per process: Allure evidence for each MathIF case; on the controller, the run-level files."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results_dir = Path(os.path.abspath(str(config.getoption("allure_report_dir"))))
        self.problems: list[str] = []

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
        and attachments under the fixture and later overwrite the title; they are written in
        the test body instead (:meth:`pytest_runtest_call`).
        """
        item.stash[_CASE_KEY] = case

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """Write the case's steps and attachments into its test body (pytest call hook)."""
        case = item.stash.get(_CASE_KEY, None)
        if case is not None:
            self._guard(f"evidence of {item.nodeid}", lambda: report_case(case))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """Title and description, after allure-pytest has named the test (pytest teardown hook)."""
        if _CASE_KEY in item.stash:
            del item.stash[_CASE_KEY]  # responses can be long: keep none past their test
        spec = item.stash.get(SPEC_KEY, None)
        if spec is not None:
            self._guard(f"title of {item.nodeid}", lambda: _title_case(spec))

    def pytest_mathif_run_finished(
        self, config: pytest.Config, report: RunReport, document: dict[str, Any]
    ) -> None:
        """Write the run-level files, once, on the controller (mathif run-finished hook)."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._guard("environment.properties", lambda: self._write_environment(report))
        self._guard("categories.json", self._write_categories)
        if not hasattr(allure, "global_attach"):
            self.problems.append(
                "run-level attachments need allure-pytest >= 2.16 (allure.global_attach); skipped"
            )
            return
        self._guard("run summary", lambda: _global_attach_text(run_summary_text(report)))
        self._guard("charts", lambda: self._attach_charts(report))
        self._guard("results JSON", lambda: _global_attach_json(document))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """One warning line per reporting problem; the exit status is untouched (pytest hook)."""
        for problem in self.problems:
            terminalreporter.write_line(
                f"mathif allure: {problem} (the run's result is unaffected)", yellow=True
            )

    def _guard(self, what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # reporting never fails a run by itself
            problem = f"could not write {what}: {type(exc).__name__}: {exc}"
            self.problems.append(problem)
            print(f"mathif allure: {problem}", file=sys.stderr)

    def _write_environment(self, report: RunReport) -> None:
        datasets = dataset_revisions(report)
        props = environment_properties(report, self._settings, datasets, self.config.rootpath)
        write_text_atomic(self.results_dir / "environment.properties", properties_text(props))

    def _write_categories(self) -> None:
        body = json.dumps([c.to_json() for c in categories()], indent=1, ensure_ascii=False)
        write_text_atomic(self.results_dir / "categories.json", body + "\n")

    @staticmethod
    def _attach_charts(report: RunReport) -> None:
        from mathif_pytest.reporting.plots import summary_charts
        from mathif_pytest.stats import summarize

        cases = {(c.uid, c.sample, c.constrained): c for s in report.suites for c in s.cases}
        for name, png in summary_charts(summarize(cases.values())).items():
            allure.global_attach(png, name=name, attachment_type=allure.attachment_type.PNG)


def _global_attach_text(text: str) -> None:
    allure.global_attach(text, name=RUN_SUMMARY, attachment_type=allure.attachment_type.TEXT)


def _global_attach_json(document: Mapping[str, Any]) -> None:
    body = json.dumps(document, indent=1, ensure_ascii=False)
    allure.global_attach(body, name="mathif results", attachment_type=allure.attachment_type.JSON)


def _title_case(spec: CaseSpec) -> None:
    _dynamic.title(case_title(spec))
    _dynamic.description(case_description(spec))
