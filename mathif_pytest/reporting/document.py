"""The results JSON of a pytest run (``--mathif-results``): reproducible settings, suites, cases."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.pytest_plugin.aggregate import RunReport, SuiteReport
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.tables import multisample_stats
from mathif_pytest.runfile import build_document

__all__ = ["ANSWER_CHARS", "read_answers", "run_document"]

#: The answer segment kept per case: longer ones keep their first and last half.
ANSWER_CHARS = 12_000
AnswerKey = tuple[str, int, bool]


def run_document(
    report: RunReport,
    settings: Settings,
    config: pytest.Config,
    answers: Mapping[AnswerKey, str] | None = None,
) -> dict[str, Any]:
    """Build the results document of a pytest run.

    Keys: ``format``, ``created``, ``meta``, ``summary`` and ``cases`` (over the union of all
    suites' responses, each once; each case with its ``answer`` segment when known, so that a
    later run can show it beside its own), plus ``suites`` (per suite: summary, gate rows,
    quarantined and errored uids) and ``exit_status``.
    """
    cases = {(c.uid, c.sample, c.constrained): c for s in report.suites for c in s.cases}
    from mathif_pytest import __version__

    meta = {
        "tool": f"mathif-pytest {__version__}",
        "command": ["pytest", *map(str, config.invocation_params.args)],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "model": settings.model,
        "generation": dict(report.generation),
        "data": (report.generation.get("data") or [{}])[0],
        "deviations": list(settings.deviations),
    }
    document = build_document(list(cases.values()), meta)
    _add_answers(document["cases"], answers or {})
    document["suites"] = {s.name: _suite_entry(s) for s in report.suites}
    document["exit_status"] = report.exit_status
    return document


def _suite_entry(suite: SuiteReport) -> dict[str, Any]:
    return {
        "summary": suite.summary.to_dict(),
        "gate": [row.to_dict() for row in suite.gate.rows],
        "gate_passed": suite.gate.passed,
        "quarantined": list(suite.quarantined),
        "errors": list(suite.errors),
        "comparison": None if suite.comparison is None else suite.comparison.to_dict(),
        "power": suite.power,
        "multisample": multisample_stats(suite.cases),
        "constraint_cost": None
        if suite.constraint_cost is None
        else suite.constraint_cost.to_dict(),
    }


def _add_answers(cases: list[dict[str, Any]], answers: Mapping[AnswerKey, str]) -> None:
    from mathif_pytest.reporting.folding import fold

    for case in cases:
        text = answers.get((case["uid"], case["sample"], case["constrained"]))
        if text is not None:
            case["answer"] = fold(text, ANSWER_CHARS)[0]


def read_answers(path: Path) -> dict[AnswerKey, str]:
    """The ``answer`` segments of a results document's cases (``{}`` when it holds none).

    The file was read and checked already as a baseline (``--mathif-baseline``); a problem here
    only loses the texts.
    """
    try:
        cases = json.loads(path.read_text(encoding="utf-8")).get("cases", [])
        return {
            (c["uid"], int(c["sample"]), bool(c.get("constrained", True))): str(c["answer"])
            for c in cases
            if isinstance(c, dict) and "answer" in c
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
