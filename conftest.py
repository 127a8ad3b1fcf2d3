"""This repository's own test runs: enable pytester, and keep its tests out of model runs.

``pytest --model CKPT`` in this checkout (the README's main job) runs the default MathIF suite, not
this project's unit tests, which pytest would otherwise collect through ``testpaths``. Named
explicitly (``pytest tests/ ...``) they run as usual.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

_TESTS = Path(__file__).resolve().parent / "tests"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip ``tests/`` when a model is given and the paths came from ``testpaths``."""
    from_testpaths = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if from_testpaths and config.getoption("mathif_model", None):
        return collection_path.is_relative_to(_TESTS) or None  # the initial path is not asked
    return None
