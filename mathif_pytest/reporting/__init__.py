"""Human- and machine-readable output: terminal tables, results JSON, Allure."""

from __future__ import annotations
