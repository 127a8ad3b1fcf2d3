"""The pytest plugin (entry point ``mathif``): options, collection, fixtures, gate, in order."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.pytest_plugin.collection import SESSION_KEY, SPEC_KEY, SuiteFile
from mathif_pytest.pytest_plugin.options import add_options, resolve_settings

__all__ = ["mathif_case", "mathif_generations"]

_CASE_PROPERTY = "mathif_case"
_GENERATION_PROPERTY = "mathif_generation"
_ERROR_PROPERTY = "mathif_error"
#: Each response's answer segment: the results document keeps it (a later run's baseline).
_ANSWERS_PROPERTY = "mathif_answers"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the ``pytest_mathif_*`` hookspecs (pytest ``pytest_addhooks``)."""
    from mathif_pytest.pytest_plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare ``--model`` and the ``--mathif-*`` options (pytest ``pytest_addoption``)."""
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--mathif-list-suites``: print the built-in suites; exit (pytest ``cmdline_main``)."""
    if not config.option.mathif_list_suites:
        return None
    from mathif_pytest.pytest_plugin.suite_choice import suite_listing

    print("\n".join(suite_listing(resolve_settings(config))))
    return 0


def pytest_configure(config: pytest.Config) -> None:
    """Resolve settings once; register the controller's reporter (pytest ``pytest_configure``)."""
    from mathif_pytest.pytest_plugin.session import MathIFSession
    from mathif_pytest.pytest_plugin.startup import check_configuration_found, check_engine_args
    from mathif_pytest.pytest_plugin.suite_choice import requested_suites

    config.addinivalue_line("markers", "mathif: a MathIF sample collected from a YAML suite")
    check_configuration_found(config)
    settings = resolve_settings(config)
    requested_suites(settings, config.invocation_params.dir)  # a bad name is a usage error now
    if settings.model:
        check_engine_args(settings)
    config.stash[SESSION_KEY] = MathIFSession(settings=settings, rootdir=config.rootpath)
    if not hasattr(config, "workerinput"):
        from mathif_pytest.reporting.terminal import MathIFReporter

        config.pluginmanager.register(MathIFReporter(config, settings), "mathif-reporter")
    # Allure evidence only when allure-pytest writes results: otherwise allure is never imported.
    if config.getoption("allure_report_dir", None):
        from mathif_pytest.reporting.allure import MathIFAllure

        config.pluginmanager.register(MathIFAllure(config), "mathif-allure")
    _register_run_plugins(config)


def _register_run_plugins(config: pytest.Config) -> None:
    """The backend's notes in the terminal (controller); ``--mathif-shard``'s selection."""
    from mathif_pytest.pytest_plugin.run_notes import BackendNotes, ShardSelection

    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(BackendNotes(), "mathif-backend-notes")
    shard = config.getoption("mathif_shard", None)
    if shard is not None:
        config.pluginmanager.register(ShardSelection(shard), "mathif-shard")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop grading worker processes (pytest ``pytest_unconfigure``)."""
    state = config.stash.get(SESSION_KEY, None)
    if state is not None:
        state.close()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """One reproducible line of settings, only when mathif is in use (pytest header hook)."""
    state = config.stash[SESSION_KEY]
    if not state.settings.active:
        return None
    from mathif_pytest.reporting.terminal import header_lines

    return header_lines(state.settings, config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> SuiteFile | None:
    """Collect YAML files with a top-level ``mathif:`` key as suites (pytest collection hook)."""
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    from mathif_pytest.suite import is_suite_text

    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not is_suite_text(text):
        from mathif_pytest.pytest_plugin.startup import note_misspelt_suite

        note_misspelt_suite(parent.config, file_path, text)
        return None
    suite_file: SuiteFile = SuiteFile.from_parent(parent, path=file_path)
    return suite_file


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Add the ``--mathif-suite`` suites, else the default suite when ``--model`` found none.

    ``tryfirst``, so that ``-k``/``-m`` (pytest's own implementations of this hook) apply to them.
    """
    from mathif_pytest.pytest_plugin.suite_choice import extra_suite_items

    items.extend(extra_suite_items(session, items))


@pytest.hookimpl(tryfirst=True)  # before xdist's worker sends the collected ids
def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail fast, before any test runs, on mistakes known now (pytest collection hook).

    A missing model, gate thresholds the selection cannot judge, a misspelt suite: one usage
    error (exit 4) before any model loads; see :mod:`~mathif_pytest.pytest_plugin.startup`.
    """
    from mathif_pytest.pytest_plugin.startup import check_collection

    check_collection(session)


@pytest.hookimpl(trylast=True)
def pytest_mathif_make_backend(config: pytest.Config, backend_config: Any) -> Any:
    """The built-in backends (``replay``, ``transformers``, ``vllm``, ``openai``)."""
    from mathif_pytest.backends.resolve import make_backend

    return make_backend(backend_config)


@pytest.fixture(scope="session")
def mathif_generations(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """Every response the session's selected MathIF cases need, generated once (session scope).

    The first use triggers one backend call with all missing prompts; stored responses are
    reused. Under xdist exactly one worker generates while the others wait and read the store.
    """
    from mathif_pytest.errors import MathIFError
    from mathif_pytest.pytest_plugin.interrupts import sigterm_interrupts

    config = request.config
    state = config.stash[SESSION_KEY]
    specs = [item.stash[SPEC_KEY] for item in request.session.items if SPEC_KEY in item.stash]
    note = None
    if os.environ.get("PYTEST_XDIST_WORKER"):
        note = tmp_path_factory.getbasetemp().parent / "mathif-generation-error.txt"

    def make(backend_config: Any) -> Any:
        return config.hook.pytest_mathif_make_backend(config=config, backend_config=backend_config)

    from mathif_pytest.pytest_plugin.progress import terminal_progress

    try:
        with sigterm_interrupts():
            return state.generate(
                specs, make, failure_note=note, progress=terminal_progress(config)
            )
    except MathIFError as exc:
        error = str(exc)
    pytest.fail(error, pytrace=False)  # outside `except`: no chained "During handling..." noise


@pytest.fixture
def mathif_case(request: pytest.FixtureRequest, mathif_generations: Any) -> Iterator[Any]:
    """The current item's sample, responses, scores: a :class:`~mathif_pytest.case.MathIFCase`."""
    from mathif_pytest.errors import MathIFError

    item = request.node
    state = request.config.stash[SESSION_KEY]
    report, plan = mathif_generations.report, mathif_generations.plan
    stats = {
        "generated": report.generated,
        "reused": report.reused,
        "seconds": round(report.seconds, 3),
        "errors": len(report.errors),
        "backend": plan.backend,
        "model": plan.model,
        "fingerprint": plan.fingerprint,
        "sampling": plan.sampling.to_dict(),
        "samples": mathif_generations.samples,
        "data": state.data_sources(),
    }
    if report.backend_info:
        stats["backend_info"] = report.backend_info
    if plan.intervention is not None:
        stats["intervention"] = plan.intervention.to_dict()
    item.user_properties.append((_GENERATION_PROPERTY, json.dumps(stats, default=str)))
    error: str | None = None
    try:
        case = state.score(item.stash[SPEC_KEY], mathif_generations)
    except MathIFError as exc:
        error = str(exc)
    if error is not None:
        item.user_properties.append((_ERROR_PROPERTY, error))
        pytest.fail(error, pytrace=False)
    item.user_properties.append((_CASE_PROPERTY, json.dumps([r.to_dict() for r in case.results])))
    item.user_properties.append((_ANSWERS_PROPERTY, json.dumps([p.answer for p in case.parts])))
    request.config.hook.pytest_mathif_case_scored(item=item, case=case)
    yield case
