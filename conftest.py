"""This repository's own test runs only: enable pytester. No hooks here (they live in the plugin)."""

from __future__ import annotations

pytest_plugins = ["pytester"]
