"""Export the requests a run still needs: the batch file plus their record in the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mathif_pytest.backends import GenerationRequest
from mathif_pytest.batch.requests_file import request_line, write_requests
from mathif_pytest.store import ResponseStore, StoreMeta
from mathif_pytest.store.exports import ExportedRequest, record_exports

__all__ = ["ExportSummary", "ExportTarget", "export_missing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportTarget:
    """Where and for whom to write the requests.

    Attributes:
        out: the JSONL file to write.
        served_model: the model name in each body (what the batch engine serves).
        max_model_len: the engine's context window, to clamp ``max_tokens`` (None: no clamp).
    """

    out: Path
    served_model: str
    max_model_len: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportSummary:
    """What an export did.

    Attributes:
        written: requests written (the ones not in the store).
        stored: requests the store already answers (not written).
        clamped: written requests whose ``max_tokens`` was clamped to ``max_model_len``.
    """

    written: int
    stored: int
    clamped: int = 0


def export_missing(
    requests: Sequence[GenerationRequest], meta: StoreMeta, store_path: Path, target: ExportTarget
) -> ExportSummary:
    """Write the requests that ``store_path`` has no response for, and record them there.

    The records are committed first, then the file is written whole (even empty, when everything
    is stored), so an import finds every ``custom_id`` of the file.

    Raises:
        StoreError: the store cannot be used.
        BatchFileError: a prompt does not fit ``max_model_len``.
        OSError: the file cannot be written.
    """
    with ResponseStore(store_path) as store:
        found = store.get_many(r.key for r in requests)
        missing = [r for r in requests if r.key not in found]
        pairs = [
            request_line(
                ExportedRequest(request=r, meta=meta), target.served_model, target.max_model_len
            )
            for r in missing
        ]
        record_exports(store, [record for _, record in pairs])
        write_requests(target.out, [line for line, _ in pairs])
    clamped = sum(bool(record.extra) for _, record in pairs)
    return ExportSummary(written=len(missing), stored=len(requests) - len(missing), clamped=clamped)
