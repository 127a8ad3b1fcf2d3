"""Hooks that conftest files and plugins can implement to extend mathif-pytest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mathif_pytest.backends import Backend, BackendConfig
    from mathif_pytest.case import MathIFCase
    from mathif_pytest.pytest_plugin.aggregate import RunReport


@pytest.hookspec(firstresult=True)
def pytest_mathif_make_backend(
    config: pytest.Config, backend_config: BackendConfig
) -> Backend | None:
    """Build the backend that generates the session's responses; the first non-None result wins.

    Called at most once per process, and only when some response is not in the store. The
    built-in implementation (``trylast``) builds ``replay``, ``transformers``, ``vllm`` or
    ``openai``. Example, in a ``conftest.py``::

        def pytest_mathif_make_backend(config, backend_config):
            if backend_config.model.startswith("mycluster://"):
                return MyClusterBackend(backend_config)
            return None  # fall through to the built-in backends
    """


def pytest_mathif_case_scored(item: pytest.Item, case: MathIFCase) -> None:
    """Called in the process that ran ``item`` once its responses are scored, before it asserts.

    Reporters use it to attach evidence (the Allure integration does). Example::

        def pytest_mathif_case_scored(item, case):
            item.user_properties.append(("answer", case.results[0].grade.extracted))
    """


def pytest_mathif_run_finished(
    config: pytest.Config, report: RunReport, document: dict[str, Any]
) -> None:
    """Called once, on the controller, after the gate decided the exit status.

    ``document`` is the results JSON (what ``--mathif-results`` writes). Example::

        def pytest_mathif_run_finished(config, report, document):
            print("gate passed" if report.gate_passed else "gate failed")
    """
