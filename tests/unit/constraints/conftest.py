"""Fixtures for the constraint checker tests: the shared MathIF data and a one-call judge."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.constraints import Verdict, build_checker, check_response
from mathif_pytest.protocol import Deviations

#: The MathIF data lives beside the repository (``../shared/mathif``) and is never copied into it.
DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "mathif"

Judge = Callable[..., Verdict]


@pytest.fixture(scope="session")
def data_rows() -> list[tuple[str, int, dict[str, Any]]]:
    """Every row of the shared data as (file name, line number, row); blank lines skipped."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"MathIF data not found at {DATA_DIR}")
    rows = []
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                rows.append((path.name, number, json.loads(line)))
    return rows


@pytest.fixture(scope="session")
def judge() -> Judge:
    """Build one checker and judge one response with the driver's rules (empty text fails)."""

    def run(
        constraint_id: str,
        args: Mapping[str, object] | None,
        response: str,
        deviations: Deviations = Deviations(),  # noqa: B008  (immutable)
    ) -> Verdict:
        (verdict,) = check_response([build_checker(constraint_id, args, deviations)], response)
        return verdict

    return run
