"""Plugin tests: numpy imported up front, and the store argument of a pytester project."""

from __future__ import annotations

# In-process pytester runs drop the modules they imported from sys.modules afterwards; a C
# extension such as numpy (or its fft, linalg and random extensions, which torch and the plots
# import) cannot be imported twice in one process, so import them up front.
import numpy
import numpy.fft
import numpy.linalg
import numpy.random  # noqa: F401
import pytest


@pytest.fixture
def store_args(pytester: pytest.Pytester) -> list[str]:
    return [f"--mathif-store={pytester.path / 'store.sqlite'}"]
