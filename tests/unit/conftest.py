"""Fixtures for the unit tests of the pure modules."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The MathIF data lives beside the repository and is never copied into it.
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "mathif"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/mathif`` relative to the repository root."""
    if not DATA_DIR.is_dir():
        pytest.fail(f"MathIF data not found at {DATA_DIR}; CI places ../shared beside the clone")
    return DATA_DIR
