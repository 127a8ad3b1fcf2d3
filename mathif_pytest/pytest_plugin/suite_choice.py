"""Which suites a run collects besides the paths: ``--mathif-suite``, else the default suite.

``pytest --model CKPT`` alone runs the ``mathif_default_suite`` (the built-in ``full``) when no
suite was collected from the paths, so the command works in any repository; the user's other
tests are collected as usual. The built-in suites are package data
(:mod:`mathif_pytest.builtin_suites`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from mathif_pytest.builtin_suites import BUILTIN_DIR, builtin_names, resolve_suite
from mathif_pytest.errors import MathIFError
from mathif_pytest.pytest_plugin.collection import SESSION_KEY, SPEC_KEY, SuiteFile
from mathif_pytest.pytest_plugin.options import Settings
from mathif_pytest.pytest_plugin.startup import suite_mistakes

__all__ = ["DEFAULT_SUITE_PROPERTY", "extra_suite_items", "requested_suites", "suite_listing"]

#: The user property that marks the items of a suite added because none was named.
DEFAULT_SUITE_PROPERTY = "mathif_default_suite"


def requested_suites(settings: Settings, invocation_dir: Path) -> list[Path]:
    """The files of the ``--mathif-suite`` suites (paths relative to the invocation directory).

    Raises:
        pytest.UsageError: a name that is no built-in suite and no file (with a did-you-mean).
    """
    try:
        return [resolve_suite(ref, base=invocation_dir) for ref in settings.suites]
    except MathIFError as exc:
        raise pytest.UsageError(f"--mathif-suite: {exc}") from None


def extra_suite_items(session: pytest.Session, items: Sequence[pytest.Item]) -> list[pytest.Item]:
    """The items of the ``--mathif-suite`` suites, else of the default suite when needed.

    The default suite is added only when a model is given and no MathIF case was collected.

    Raises:
        pytest.UsageError: the ``mathif_default_suite`` ini value names no suite.
    """
    config = session.config
    settings: Settings = config.stash[SESSION_KEY].settings
    collected = {item.path for item in items if SPEC_KEY in item.stash}
    requested = requested_suites(settings, config.invocation_params.dir)
    paths = [p for p in dict.fromkeys(requested) if p not in collected]
    if paths:
        return [item for path in paths for item in _collect(session, path)]
    if settings.suites or collected or not settings.model or settings.default_suite is None:
        return []
    if session.testsfailed or suite_mistakes(config):  # a suite among the paths is broken
        return []
    try:
        path = resolve_suite(settings.default_suite, base=config.rootpath)
    except MathIFError as exc:
        raise pytest.UsageError(f"ini mathif_default_suite: {exc}") from None
    added = list(_collect(session, path))
    for item in added:
        item.user_properties.append((DEFAULT_SUITE_PROPERTY, item.stash[SPEC_KEY].suite))
    return added


def _collect(session: pytest.Session, path: Path) -> Iterator[pytest.Item]:
    nodeid = f"mathif/{path.name}" if path.parent == BUILTIN_DIR else None
    suite = SuiteFile.from_parent(session, path=path, nodeid=nodeid)
    for node in session.genitems(suite):
        assert isinstance(node, pytest.Item)
        yield node


def suite_listing(settings: Settings) -> list[str]:
    """``--mathif-list-suites``: each built-in suite's name, size and description."""
    import yaml

    from mathif_pytest.dataset import load_dataset
    from mathif_pytest.suite import load_suite

    location = settings.data or settings.data_ini or "hf://TingchenFu/MathIF"
    try:
        samples = load_dataset(location).samples
        note = f"sizes from {location}"
    except MathIFError as exc:
        samples, note = None, f"sizes unknown: {exc}"
    lines = [f"built-in MathIF suites ({note}):"]
    for name in builtin_names():
        path = BUILTIN_DIR / f"{name}.yaml"
        suite = load_suite(path, yaml.safe_load(path.read_text(encoding="utf-8")))
        size = "?" if samples is None else str(len(suite.selection.apply(samples)))
        kind = "" if suite.variants == (True,) else " (no constraints)"
        kind = " (with and without constraints)" if len(suite.variants) > 1 else kind
        lines.append(f"  {name:<16} {size:>4} samples{kind}  {suite.description}")
    lines.append(
        "run one with --mathif-suite NAME (repeatable) or a YAML file of your own "
        "(`extends: NAME` starts from a built-in)"
    )
    return lines
