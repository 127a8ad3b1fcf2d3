"""Plugin objects registered for a run: the backend's notes, and ``--mathif-shard``'s selection.

Kept apart from the main hooks (``plugin.py``) and the reporter (``reporting/terminal.py``): each
is registered only where it applies.
"""

from __future__ import annotations

import json

import pytest

from mathif_pytest.batch.shards import Shard
from mathif_pytest.pytest_plugin.collection import SPEC_KEY

__all__ = ["BackendNotes", "ShardSelection"]


class BackendNotes:
    """Prints what the backend said about its run (servers skipped, ``max_tokens`` clamped...).

    The notes travel with the generation statistics of each case (``mathif_generation``), so the
    controller sees them under xdist too.
    """

    def __init__(self) -> None:
        self.notes: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the first notes a case carries (pytest ``pytest_runtest_logreport``)."""
        if self.notes:
            return
        for name, value in report.user_properties:
            if name == "mathif_generation":
                info = json.loads(str(value)).get("backend_info") or {}
                self.notes = [str(note) for note in info.get("notes") or ()]

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """A ``mathif backend`` section, before the mathif summary (pytest terminal hook)."""
        if self.notes:
            terminalreporter.section("mathif backend")
            for note in self.notes:
                terminalreporter.write_line(note, yellow=True)


class ShardSelection:
    """Keeps one shard's MathIF cases (``--mathif-shard I/N``; other tests are kept).

    The share is decided per sample uid (:mod:`mathif_pytest.batch.shards`), so the N shards of
    one command are disjoint and cover it whatever else selects or adds cases.
    """

    def __init__(self, shard: Shard) -> None:
        """Keep the cases of ``shard``."""
        self.shard = shard

    def pytest_report_header(self) -> str:
        """Say which share this run is (pytest header hook)."""
        return (
            f"mathif shard: --mathif-shard {self.shard} (shard {self.shard.index} of "
            f"{self.shard.count} of the MathIF cases; merge the stores with `mathif merge-stores`, "
            "then gate with --mathif-rescore)"
        )

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Deselect the other shards' cases (collection hook, last: after cases are added)."""
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            spec = item.stash.get(SPEC_KEY, None)
            (keep if spec is None or self.shard.holds(spec.sample.uid) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
