"""Fixtures for the grading tests: one shared grader, so the worker starts once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mathif_pytest.grading import Grader


@pytest.fixture(scope="module")
def grader() -> Iterator[Grader]:
    """A default grader whose worker process lives for the module's tests."""
    with Grader() as shared:
        yield shared
