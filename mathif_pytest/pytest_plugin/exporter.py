"""``mathif export-requests`` inside pytest: plan the run exactly as ``pytest`` would, export it.

Registered only by that command, next to ``--collect-only``: the suites are collected with the
same options, ini keys, ``-k`` selection and ``--mathif-shard`` as the later ``pytest ...
--mathif-rescore``, so both compute the same store keys; the requests the store has no response
for are written to the batch file instead of being generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mathif_pytest.batch.export import ExportSummary, ExportTarget, export_missing
from mathif_pytest.errors import MathIFError
from mathif_pytest.pytest_plugin.collection import SESSION_KEY, SPEC_KEY

__all__ = ["ExportResult", "RequestExporter"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportResult:
    """An export and the run it planned.

    Attributes:
        summary: what was written.
        store: the store the run reads (and the export was recorded in).
        backend: the backend name in the store keys.
        fingerprint: the model fingerprint in the store keys.
        cases: MathIF cases selected.
    """

    summary: ExportSummary
    store: Path
    backend: str
    fingerprint: str
    cases: int


class RequestExporter:
    """A pytest plugin object: after collection, export the run's missing requests."""

    def __init__(self, out: Path, served_model: str | None, max_model_len: int | None) -> None:
        """Export to ``out`` for ``served_model`` (None: ``--model``), fit to ``max_model_len``."""
        self._out = out
        self._served_model = served_model
        self._max_model_len = max_model_len
        self.result: ExportResult | None = None
        self.errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Keep collection errors: the terminal reporter is off (pytest collection hook)."""
        if report.failed:
            self.errors.append(f"{report.nodeid or 'collection'}: {report.longreprtext.strip()}")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Plan the selected cases and export what is missing (pytest collection hook)."""
        if self.errors:
            return
        specs = [item.stash[SPEC_KEY] for item in session.items if SPEC_KEY in item.stash]
        if not specs:
            self.errors.append(
                "no MathIF cases were selected; name suite files (YAML with a top-level "
                "`mathif:` key) and check -k or --mathif-shard"
            )
            return
        state = session.config.stash[SESSION_KEY]
        try:
            _, plan = state.plan(specs)
            if plan.intervention is not None:
                raise MathIFError(
                    f"intervention {plan.intervention.label} generates in stages that depend on "
                    "each other, which a batch file cannot hold; run it with pytest against "
                    "the model or a server"
                )
            target = ExportTarget(
                out=self._out,
                served_model=self._served_model or plan.model,
                max_model_len=self._max_model_len,
            )
            summary = export_missing(plan.requests, plan.meta(), state.settings.store, target)
        except MathIFError as exc:
            self.errors.append(str(exc))
            return
        self.result = ExportResult(
            summary=summary,
            store=state.settings.store,
            backend=plan.backend,
            fingerprint=plan.fingerprint,
            cases=len(specs),
        )
