"""The pytest adapter: options, suite collection, the generate-once fixture, the gate.

Only this folder and :mod:`mathif_pytest.reporting` import pytest; the rest of the package is a
plain library. The entry point stays ``mathif_pytest.plugin``, which re-exports :mod:`.plugin`.
"""
