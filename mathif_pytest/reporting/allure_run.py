"""Run-level Allure files: the gate summary text and ``environment.properties``.

No allure import: these are plain text and files that the Allure readers know.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from mathif_pytest.pytest_plugin.aggregate import RunReport
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.reporting.summary import run_summary_lines

__all__ = [
    "dataset_revisions",
    "environment_properties",
    "git_commit",
    "package_versions",
    "properties_text",
    "run_summary_text",
]

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


def run_summary_text(report: RunReport) -> str:
    """The gate summary, as the terminal shows it."""
    return "\n".join(run_summary_lines(report)) + "\n"


def environment_properties(
    report: RunReport, settings: Settings, datasets: Sequence[str], rootdir: Path
) -> dict[str, str]:
    """What produced the run: model, backend, sampling, suites, data, versions, git commit."""
    generation = dict(report.generation)
    props = {
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
