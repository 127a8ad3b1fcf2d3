"""Plugin tests: numpy imported up front, and the store argument of a pytester project."""

from __future__ import annotations

# In-process pytester runs drop the modules they imported from sys.modules afterwards; a C
# extension such as numpy cannot be imported twice in one process, so import it up front.
import numpy  # noqa: F401
import pytest


@pytest.fixture
def store_args(pytester: pytest.Pytester) -> list[str]:
    return [f"--mathif-store={pytester.path / 'store.sqlite'}"]
