"""This repository's own test runs only: enable pytester. Hooks live in the plugin, not here."""

from __future__ import annotations

pytest_plugins = ["pytester"]
