"""The results JSON of a pytest run (``--mathif-results``): reproducible settings, suites, cases."""

from __future__ import annotations

import platform
import sys
from typing import Any

import pytest

from mathif_pytest.pytest_plugin.aggregate import RunReport
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.tables import multisample_stats
from mathif_pytest.runfile import build_document

__all__ = ["run_document"]


def run_document(report: RunReport, settings: Settings, config: pytest.Config) -> dict[str, Any]:
    """Build the results document of a pytest run.

    Keys: ``format``, ``created``, ``meta``, ``summary`` and ``cases`` (over the union of all
    suites' responses, each once), plus ``suites`` (per suite: summary, gate rows, quarantined
    and errored uids) and ``exit_status``.
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
    document["suites"] = {
        s.name: {
            "summary": s.summary.to_dict(),
            "gate": [row.to_dict() for row in s.gate.rows],
            "gate_passed": s.gate.passed,
            "quarantined": list(s.quarantined),
            "errors": list(s.errors),
            "comparison": None if s.comparison is None else s.comparison.to_dict(),
            "power": s.power,
            "multisample": multisample_stats(s.cases),
        }
        for s in report.suites
    }
    document["exit_status"] = report.exit_status
    return document
