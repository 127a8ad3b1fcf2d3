"""What a checkout's pytest configuration gives the ``mathif`` command: its ``mathif_data``.

``pytest`` reads the ``mathif_data`` ini key from the project's configuration; ``mathif score``
run inside the same checkout reads the same key, from the file pytest would use: the first of
``pytest.ini``, ``.pytest.ini``, ``pyproject.toml`` (``[tool.pytest.ini_options]``), ``tox.ini``
(``[pytest]``) and ``setup.cfg`` (``[tool:pytest]``) in the directory or above it.
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pytest depends on tomli there)
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["ini_data"]

#: Configuration files in pytest's order, and the section that makes each a pytest config.
_FILES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", ""),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


def ini_data(start: Path) -> str | None:
    """``mathif_data`` of the pytest configuration at or above ``start``; None without one.

    A path is resolved against the configuration file's directory (as the plugin does); an
    ``hf://`` location is kept as written.
    """
    for directory in (start.resolve(), *start.resolve().parents):
        for name, section in _FILES:
            path = directory / name
            options = _pytest_options(path, section) if path.is_file() else None
            if options is not None:  # pytest stops at its first configuration file
                return _resolved(options.get("mathif_data"), directory)
    return None


def _pytest_options(path: Path, section: str) -> dict[str, Any] | None:
    """The pytest options of a configuration file; None when it configures no pytest."""
    if path.name == "pyproject.toml":
        with path.open("rb") as handle:
            tool = tomllib.load(handle).get("tool", {}).get("pytest", {})
        options = tool.get("ini_options")
        return dict(options) if isinstance(options, dict) else None
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    if parser.has_section(section):
        return dict(parser[section])
    return {} if path.name.endswith("pytest.ini") else None


def _resolved(value: Any, directory: Path) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    return text if text.startswith("hf://") else str((directory / text).resolve())
