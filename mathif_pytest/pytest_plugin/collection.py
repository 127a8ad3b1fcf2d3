"""pytest adapter: collect YAML suites into one test item per MathIF sample (and prompt variant).

A suite with ``constraints: both`` asks each sample twice, so it gets two items, named
``gsm8k_double-3[with_constraints]`` and ``gsm8k_double-3[without_constraints]``; other suites
name an item by its uid alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.case import CaseFailure, CaseSpec, MathIFCase
from mathif_pytest.errors import MathIFError

__all__ = ["SESSION_KEY", "SPEC_KEY", "MathIFItem", "SuiteFile", "item_name"]

SPEC_KEY = pytest.StashKey[CaseSpec]()
SESSION_KEY: pytest.StashKey[Any] = pytest.StashKey()
_MARKERS_KEY = pytest.StashKey[set[str]]()


def item_name(uid: str, constrained: bool, both: bool) -> str:
    """The item's name: the uid, with the prompt variant when a suite asks both."""
    if not both:
        return uid
    return f"{uid}[{'with' if constrained else 'without'}_constraints]"


def _run_case(mathif_case: MathIFCase) -> None:
    """Assert that a MathIF case followed its constraints and got the answer right."""
    __tracebackhide__ = True
    mathif_case.check()


class MathIFItem(pytest.Function):
    """One MathIF sample as a test; its id is the sample uid (``gsm8k_double-3``)."""

    def repr_failure(  # noqa: D102
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        if isinstance(excinfo.value, (CaseFailure, MathIFError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:  # noqa: D102
        spec = self.stash[SPEC_KEY]
        return self.path, None, f"{spec.suite}::{self.name}"


class SuiteFile(pytest.File):
    """A ``mathif:`` YAML suite."""

    def collect(self) -> Iterator[MathIFItem]:
        """One item per selected sample (and variant).

        A malformed suite (an unknown key, a bad threshold, a selection the data lacks) is a
        start-up mistake: noted here, reported with the others as one usage error (exit 4).
        """
        from mathif_pytest.pytest_plugin.startup import note_suite_mistake
        from mathif_pytest.suite import SuiteError

        try:
            yield from self._items()
        except SuiteError as exc:
            note_suite_mistake(self.config, str(exc))

    def _items(self) -> Iterator[MathIFItem]:
        import yaml

        from mathif_pytest.suite import load_suite

        state = self.config.stash[SESSION_KEY]
        try:
            document = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise MathIFError(f"{self.path}: not valid YAML ({exc})") from None
        suite = load_suite(self.path, document)
        known = state.suites.get(suite.name)
        if known is not None and known.path != suite.path:
            raise MathIFError(
                f"{self.path}: suite name {suite.name!r} is also used by {known.path}; "
                "give one of them another `name:`"
            )
        state.suites[suite.name] = suite
        dataset = state.dataset(state.data_location(suite), state.deviations(suite))
        variants = (False,) if state.settings.no_constraints else suite.variants
        for sample in suite.selection.apply(dataset.samples):
            for constrained in variants:
                spec = CaseSpec(
                    suite=suite.name,
                    sample=sample,
                    constrained=constrained,
                    quarantined=sample.uid in suite.quarantine,
                )
                yield self._item(spec, item_name(sample.uid, constrained, len(variants) > 1))

    def _item(self, spec: CaseSpec, name: str) -> MathIFItem:
        item = MathIFItem.from_parent(self, name=name, callobj=_run_case)
        item.stash[SPEC_KEY] = spec
        sample = spec.sample
        for marker in ("mathif", sample.source, sample.level):
            _register_marker(self.config, marker)
            item.add_marker(marker)
        for constraint in dict.fromkeys(sample.constraint_ids):
            marker = re.sub(r"\W", "_", constraint)
            _register_marker(self.config, marker)
            item.add_marker(marker)
            item.extra_keyword_matches.add(constraint)
        item.user_properties.append(("mathif_suite", spec.suite))
        item.user_properties.append(("mathif_suite_path", str(self.path)))
        if spec.quarantined:
            item.user_properties.append(("mathif_quarantined", True))
        return item

    def repr_failure(  # noqa: D102
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        if isinstance(excinfo.value, MathIFError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _register_marker(config: pytest.Config, name: str) -> None:
    """Register a data-derived marker so that ``--strict-markers`` accepts it."""
    known = config.stash.get(_MARKERS_KEY, None)
    if known is None:  # the markers declared so far (ini, plugins), looked up once
        known = config.stash[_MARKERS_KEY] = {
            m.split(":", 1)[0].split("(", 1)[0].strip() for m in config.getini("markers")
        }
    if name not in known:
        config.addinivalue_line("markers", f"{name}: MathIF samples ({name})")
        known.add(name)
