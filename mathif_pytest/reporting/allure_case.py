"""One MathIF case in Allure: title, labels, steps, attachments and failure message.

Written through allure-pytest's public API (``allure.dynamic``, ``allure.step``,
``allure.attach``) by :class:`~mathif_pytest.reporting.allure.MathIFAllure`. Labels: the tree
(MathIF, source, level) and one ``feature`` per constraint type; parameters ``uid`` and
``suite`` (the history id) and ``model`` (excluded from it).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Any

import allure

from mathif_pytest.case import CaseSpec, MathIFCase
from mathif_pytest.constraints import EMPTY_RESPONSE_DETAIL
from mathif_pytest.grading import AnswerGrade, Grade, ResponseParts
from mathif_pytest.reporting.allure_categories import FAILURE_LABEL, failure_kinds, regressed
from mathif_pytest.reporting.allure_html import regression_html, response_html
from mathif_pytest.results import CaseResult

__all__ = [
    "StepBroken",
    "StepFailed",
    "case_description",
    "case_title",
    "failure_message",
    "label_case",
    "report_case",
]

#: ``allure.dynamic``: its methods are not annotated, so mypy --strict sees it as ``Any``.
_dynamic: Any = allure.dynamic
_TITLE_WORDS = 12
#: (uid, sample, constrained) -> the baseline run's answer segment.
BaselineAnswers = Mapping[tuple[str, int, bool], str]


class StepFailed(AssertionError):
    """Marks an Allure step failed (a violated constraint, a wrong answer); caught at once."""


class StepBroken(RuntimeError):
    """Marks an Allure step broken (an ungradable answer); caught at once."""


# A step's error box shows the exception as Python prints it: ``Failed: asked: …`` rather than
# ``mathif_pytest.reporting.allure_case.StepFailed: asked: …``.
StepFailed.__module__ = StepBroken.__module__ = "builtins"
StepFailed.__qualname__, StepBroken.__qualname__ = "Failed", "Broken"


def case_title(spec: CaseSpec) -> str:
    """``gsm8k_double-3 · Natalia sold clips to 48 of her friends in April, and then…``."""
    words = spec.sample.question.split()
    first = " ".join(words[:_TITLE_WORDS]) + ("…" if len(words) > _TITLE_WORDS else "")
    return f"{spec.sample.uid} · {first}"


def case_description(spec: CaseSpec) -> str:
    """Markdown: the question, the constraints with their instructions, the reference answer."""
    sample = spec.sample
    lines = [
        f"`{sample.location}`, suite `{spec.suite}`"
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
    for constraint_id in dict.fromkeys(sample.constraint_ids):
        _dynamic.feature(constraint_id)
    if spec.quarantined:
        _dynamic.tag("quarantined")
    _dynamic.parameter("uid", sample.uid)
    _dynamic.parameter("suite", spec.suite)
    # Excluded parameters are shown but left out of the history id, so that a case keeps its
    # history across checkpoints.
    _dynamic.parameter("model", model or "(none)", excluded=True)


def report_case(case: MathIFCase, baseline_answers: BaselineAnswers) -> None:
    """Steps, attachments and failure labels of a scored case (in the test body, call phase)."""
    flips = regressed(case)
    if flips:  # one side-by-side per case: the first regressed response
        before = next(r for r in case.baseline if r.sample == flips[0].sample)
        index = next(i for i, r in enumerate(case.results) if r.sample == flips[0].sample)
        key = (before.uid, before.sample, before.constrained)
        allure.attach(
            regression_html(
                before, baseline_answers.get(key), case.results[index], case.parts[index].answer
            ),
            name=_named("baseline vs this run", index, len(case.results)),
            attachment_type=allure.attachment_type.HTML,
        )
    count = len(case.results)
    rows = zip(case.parts, case.results, strict=True)
    for index, (parts, result) in enumerate(rows):
        if count == 1:
            _report_response(case.spec, parts, result, "response")
            continue
        title = f"response {index + 1} of {count} — {'passed' if _passed(result) else 'failed'}"
        with contextlib.suppress(StepFailed), allure.step(title):
            _report_response(case.spec, parts, result, _named("response", index, count))
            if not _passed(result):
                raise StepFailed(result.explain())
    for kind in failure_kinds(case):
        _dynamic.label(FAILURE_LABEL, kind)


def _named(name: str, index: int, count: int) -> str:
    return name if count == 1 else f"{name} ({index + 1} of {count})"


def _passed(result: CaseResult) -> bool:
    return result.hard is not False and result.correct


def failure_message(case: MathIFCase) -> str:
    """The failure message: one line per reason, regressions first.

    Each line starts with the constraint type (or ``answer``) and its reason, not with a class
    name or the uid; a regression since the baseline ends with ``(regressed: …)``.
    """
    flips = regressed(case)
    marked: list[str] = []
    plain: list[str] = []
    for result in case.results:
        if _passed(result):
            continue
        prefix = f"response {result.sample + 1}: " if len(case.results) > 1 else ""
        broke = {c for f in flips if f.sample == result.sample for c in f.changed}
        wrong_now = any(f.sample == result.sample and f.kind == "correct_to_wrong" for f in flips)
        for line in result.explain().splitlines():
            cid = line.split(": ", 1)[0]
            if cid in broke:
                marked.append(f"{prefix}{line} (regressed: followed in the baseline)")
            elif line.startswith("answer ") and wrong_now:
                marked.append(f"{prefix}{line} (regressed: correct in the baseline)")
            else:
                plain.append(prefix + line)
    return "\n".join([*marked, *plain]) or case.explain()


def _report_response(spec: CaseSpec, parts: ResponseParts, result: CaseResult, name: str) -> None:
    _generation_steps(parts, result)
    if result.constrained:
        asked = {c.id: c.description for c in spec.sample.constraints}
        for verdict in result.verdicts:
            state = "followed" if verdict.followed else "violated"
            # A violated step's error box says what was asked; its title says what was found.
            error = StepFailed(f"the prompt asked: {asked.get(verdict.constraint_id, '?')}")
            _step(
                f"{verdict.constraint_id} — {state}: {verdict.detail}",
                None if verdict.followed else error,
            )
    _grade_step(result.grade)
    instructions = [c.description for c in spec.sample.constraints]
    allure.attach(
        response_html(parts, result, instructions),
        name=name,
        attachment_type=allure.attachment_type.HTML,
    )


def _generation_steps(parts: ResponseParts, result: CaseResult) -> None:
    """A step only when the generation went wrong: empty, truncated, thinking never closed."""
    if not parts.raw.strip():
        _step("generation — empty response", StepFailed(EMPTY_RESPONSE_DETAIL))
    elif result.finish_reason == "length":
        detail = "truncated at the token limit (finish_reason 'length')"
        _step(f"generation — {detail}", StepFailed(detail))
    if parts.think_opened and not parts.think_closed:
        detail = "thinking never closed: <think> without </think>"
        _step(f"thinking — {detail}", StepFailed(detail))


def _grade_step(grade: Grade) -> None:
    outcome = grade.outcome
    extracted = "(none)" if grade.extracted is None else repr(grade.extracted)
    pair = f"extracted {extracted}; reference {grade.reference!r}"
    error: Exception | None = None
    if outcome is AnswerGrade.INCORRECT:
        error = StepFailed(pair)
    elif outcome is AnswerGrade.UNGRADABLE:
        error = StepBroken(pair)
    _step(f"answer — {outcome.value}: {grade.detail}", error)


def _step(title: str, error: Exception | None = None) -> None:
    """One Allure step; raising ``error`` inside it gives it the failed/broken status."""
    with contextlib.suppress(StepFailed, StepBroken), allure.step(title):
        if error is not None:
            raise error


def _markdown_text(text: str) -> str:
    """Escape what markdown would turn into emphasis, links, HTML or tables."""
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", text)
