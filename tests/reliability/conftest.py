"""Fixtures of the reliability suite: recorded figures, isolated file systems.

Each test asserts its promise and records the figures behind it (faults injected, inputs tried,
responses lost). With ``MATHIF_RELIABILITY_FIGURES=FILE`` set, every record is appended to FILE as
one JSON line: the README's reliability section quotes them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from _reliability import Record


@pytest.fixture
def record(request: pytest.FixtureRequest, record_property: Callable[[str, Any], None]) -> Record:
    """``record(**figures)``: keep this test's figures (junit properties, and the figures file)."""

    def write(**figures: Any) -> None:
        for name, value in figures.items():
            record_property(name, value)
        target = os.environ.get("MATHIF_RELIABILITY_FIGURES")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"test": request.node.name, **figures}) + "\n")

    return write


@pytest.fixture(scope="session")
def namespaces() -> Callable[[str], subprocess.CompletedProcess[str]]:
    """Run a shell script as root of a new user and mount namespace (its own file systems)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs util-linux's unshare for a private read-only or full file system")
    probe = subprocess.run([unshare, "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare -rm is not permitted here ({probe.stderr.decode()[-200:]})")

    def run(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [unshare, "-rm", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run
