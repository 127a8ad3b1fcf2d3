"""The pytest entry point ``mathif`` (``-p mathif``): the adapter lives in :mod:`.pytest_plugin`."""

from __future__ import annotations

from mathif_pytest.pytest_plugin.plugin import (
    mathif_case,
    mathif_generations,
    pytest_addhooks,
    pytest_addoption,
    pytest_collect_file,
    pytest_collection_finish,
    pytest_configure,
    pytest_mathif_make_backend,
    pytest_report_header,
    pytest_unconfigure,
)

__all__ = [
    "mathif_case",
    "mathif_generations",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_collection_finish",
    "pytest_configure",
    "pytest_mathif_make_backend",
    "pytest_report_header",
    "pytest_unconfigure",
]
