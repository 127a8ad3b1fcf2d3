"""Run-level Allure files: ``environment.properties``, ``mathif-report.json``, the globals.

No allure import: these are plain files in the Allure results format. ``environment.properties``
opens with the verdict and the headline metrics (the report's Metadata, on its first screen);
``mathif-report.json`` gives ``allurerc.mjs`` the report's name and the gate rows it turns into
Allure 3 quality-gate results; one ``*-globals.json`` lists the run summary first.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathif_pytest.gate import GateRow
from mathif_pytest.pytest_plugin.aggregate import RunReport, SuiteReport
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.summary import (
    format_bound,
    format_observed,
    outcome_lines,
    reason_needed,
    regressed_text,
)

__all__ = [
    "REPORT_FILE",
    "GlobalAttachment",
    "dataset_revisions",
    "environment_properties",
    "git_commit",
    "globals_json",
    "package_versions",
    "properties_text",
    "report_json",
    "verdict_properties",
]

#: The file ``allurerc.mjs`` reads: the report's name and the quality-gate rows.
REPORT_FILE = "mathif-report.json"
_LABELS = {"hard_accuracy": "HAcc", "soft_accuracy": "SAcc", "correctness": "Correct"}
_WORSE = {"correctness": "correct_to_wrong"}
#: Allure 3 test result ids by (suite, uid): the md5 of each result file's uuid.
ResultIds = Mapping[tuple[str, str], Sequence[str]]

#: Packages whose versions go into environment.properties (read from metadata, never imported).
_PACKAGES = (
    "mathif-pytest",
    "pytest",
    "pytest-xdist",
    "allure-pytest",
    "torch",
    "transformers",
    "vllm",
    "nltk",
    "langdetect",
    "sympy",
)


def dataset_revisions(report: RunReport) -> list[str]:
    """``location@revision`` of the data the run read (reported by the generating process)."""
    data = report.generation.get("data") or []
    return [f"{d.get('location')}@{d.get('revision')}" for d in data if isinstance(d, Mapping)]


def verdict_properties(report: RunReport) -> dict[str, str]:
    """The first Metadata entries (eight fit on the report's first screen, ~38 characters each).

    ``verdict`` (PASSED or FAILED, the exit status and why), then ``regressed`` (with a
    baseline: how many samples, by constraint type) or ``gate`` (which thresholds failed), then
    per headline metric its value with the 95% interval (``HAcc``) and, with a baseline, the
    paired delta with its interval (``HAcc delta``); prefixed by the suite with several suites.
    """
    what, verdict = outcome_lines(report)
    props = {"verdict": verdict.removeprefix("mathif: ").split("; ")[0]}
    if any(s.comparison for s in report.suites):
        props["regressed"] = regressed_text(report)
    else:
        props["gate"] = what.removeprefix("mathif: gate: ")
    for suite in report.suites:
        prefix = "" if len(report.suites) == 1 else f"{suite.name} "
        for metric, label in _LABELS.items():
            rate = suite.summary.overall.metric(metric)
            if rate is None:
                continue
            props[f"{prefix}{label}"] = (
                f"{100 * rate.value:.2f}% [{100 * rate.low:.1f}, {100 * rate.high:.1f}]"
            )
            delta = suite.comparison.metric(metric) if suite.comparison else None
            if delta is not None:
                low, high = 100 * delta.low, 100 * delta.high
                text = f"{100 * delta.delta:+.2f} pts [{low:+.2f}, {high:+.2f}]"
                props[f"{prefix}{label} delta"] = text
    return props


def report_json(report: RunReport, ids: ResultIds) -> dict[str, Any]:
    """``mathif-report.json``: the verdict and one quality-gate row per threshold.

    A delta row lists the test results of the samples that got worse on its metric, so the
    Quality Gates tab links to them.
    """
    rows = [_gate_row(suite, row, ids) for suite in report.suites for row in suite.gate.rows]
    seen: dict[str, int] = {}
    for row in rows:  # one rule name per row, as Allure keys results by it
        seen[row["rule"]] = seen.get(row["rule"], 0) + 1
        row["rule"] += f" #{seen[row['rule']]}" if seen[row["rule"]] > 1 else ""
    return {
        "format": 1,
        "suites": [s.name for s in report.suites],
        "passed": report.exit_status == 0,
        "exitStatus": report.exit_status,
        "verdict": outcome_lines(report)[1].removeprefix("mathif: "),
        "gate": rows,
    }


def _gate_row(suite: SuiteReport, row: GateRow, ids: ResultIds) -> dict[str, Any]:
    threshold = row.threshold
    tests: list[str] = []
    if threshold.relative_to_baseline and suite.comparison is not None:
        kind = _WORSE.get(threshold.metric, "followed_to_violated")
        uids = dict.fromkeys(f.uid for f in suite.comparison.flips if f.kind == kind)
        tests = [i for uid in uids for i in ids.get((suite.name, uid), ())]
    return {
        "rule": f"{suite.name}: {threshold.label}",
        "expected": format_bound(threshold),
        "actual": format_observed(row),
        "success": row.passed,
        "message": f"{threshold.label} {format_bound(threshold)}: observed {format_observed(row)}"
        + (f"; {row.reason}" if reason_needed(row) else ""),
        "testResults": tests,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalAttachment:
    """A run-level attachment: its display name, file name in the results directory, type."""

    name: str
    source: str
    type: str


def globals_json(attachments: Sequence[GlobalAttachment]) -> str:
    """One ``*-globals.json``: the attachments in this order (increasing timestamps)."""
    now = int(time.time() * 1000)
    listed = [
        {"name": a.name, "source": a.source, "type": a.type, "timestamp": now + i}
        for i, a in enumerate(attachments)
    ]
    return json.dumps({"attachments": listed, "errors": []}, indent=1) + "\n"


def environment_properties(
    report: RunReport, settings: Settings, datasets: Sequence[str], rootdir: Path
) -> dict[str, str]:
    """The verdict first (:func:`verdict_properties`), then what produced the run.

    Model, backend, sampling, suites, data, deviations, versions and the git commit.
    """
    generation = dict(report.generation)
    props = {
        **verdict_properties(report),
        "model": str(generation.get("model") or settings.model),
        "model.fingerprint": str(generation.get("fingerprint", "(not generated)")),
        "backend": str(generation.get("backend") or settings.backend or "auto"),
    }
    for key, value in dict(generation.get("sampling") or {}).items():
        props[f"sampling.{key}"] = str(value)
    props["sampling.samples"] = str(generation.get("samples", settings.samples or 1))
    props["suites"] = ", ".join(s.name for s in report.suites)
    props["dataset"] = ", ".join(datasets) or "(unknown)"
    props["deviations"] = ", ".join(settings.deviations) or "(none: official scoring)"
    props["python"] = sys.version.split()[0]
    props.update(package_versions())
    commit = git_commit(rootdir)
    if commit:
        props["git.commit"] = commit
    return props


def package_versions(names: Iterable[str] = _PACKAGES) -> dict[str, str]:
    """Installed versions from package metadata; nothing is imported, missing ones are left out."""
    versions = {}
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


def git_commit(directory: Path, timeout: float = 2.0) -> str | None:
    """``git rev-parse HEAD`` in ``directory``; ``None`` outside a repository or without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def properties_text(props: Mapping[str, str]) -> str:
    """A ``.properties`` file: keys and values escaped by Java's rules, non-ASCII as u-escapes."""

    def escape(text: str, key: bool) -> str:
        out = []
        for char in text:
            if char in "\\=:#!" or (key and char == " "):
                out.append("\\" + char)
            elif char in "\n\r\t\f":
                out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[char])
            elif " " <= char <= "~":
                out.append(char)
            else:
                units = char.encode("utf-16-be", "surrogatepass")
                out += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
        return "".join(out)

    return "".join(f"{escape(k, True)}={escape(v, False)}\n" for k, v in props.items())
