"""Requests exported for a batch engine, remembered in the store until their responses come back.

``mathif export-requests`` writes a run's missing requests to an OpenAI batch file whose
``custom_id`` is each request's store key, and records here what the key stands for (uid,
sample, prompt, and the backend, model fingerprint and sampling of the run). ``mathif
import-responses`` then knows every ``custom_id`` it reads: an unknown one is an error, a known
one becomes a stored response exactly as if the run had generated it, so ``pytest ...
--mathif-rescore`` finds it under the same key. The table sits beside the responses (readers that
do not know it ignore it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mathif_pytest.backends import GenerationRequest, SamplingSettings
from mathif_pytest.store import ResponseStore, StoreMeta

__all__ = ["ExportedRequest", "exported_requests", "record_exports"]

_TABLE = (
    "CREATE TABLE IF NOT EXISTS exported_requests (key TEXT PRIMARY KEY, uid TEXT NOT NULL, "
    "sample INTEGER NOT NULL, prompt TEXT NOT NULL, prefix TEXT NOT NULL, seed INTEGER, "
    "backend TEXT NOT NULL, model TEXT NOT NULL, fingerprint TEXT NOT NULL, sampling TEXT NOT "
    "NULL, extra TEXT NOT NULL, exported_at TEXT NOT NULL)"
)
_FIELDS = (
    "key, uid, sample, prompt, prefix, seed, backend, model, fingerprint, sampling, extra, "
    "exported_at"
)
_MARKS = ", ".join("?" * len(_FIELDS.split(",")))


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportedRequest:
    """One exported request and the run it belongs to.

    Attributes:
        request: what was asked (its key is the batch file's ``custom_id``).
        meta: the run's backend, model, fingerprint and sampling (the store key's parts).
        extra: what the export did to it (a clamped ``max_tokens``), kept with the response.
    """

    request: GenerationRequest
    meta: StoreMeta
    extra: Mapping[str, Any] = field(default_factory=dict)


def record_exports(store: ResponseStore, exports: Iterable[ExportedRequest]) -> int:
    """Remember ``exports`` (a request exported again replaces its earlier record).

    Returns:
        How many were recorded.
    """
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = [_row(item, now) for item in exports]
    with store.transaction() as execute:
        execute(_TABLE)
        for row in rows:
            execute(f"INSERT OR REPLACE INTO exported_requests ({_FIELDS}) VALUES ({_MARKS})", row)
    return len(rows)


def exported_requests(store: ResponseStore, keys: Iterable[str]) -> dict[str, ExportedRequest]:
    """The exported requests among ``keys`` (keys never exported are absent)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, ExportedRequest] = {}
    with store.transaction() as execute:
        execute(_TABLE)
        for start in range(0, len(wanted), 500):  # SQLite caps the number of bound variables
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in execute(
                f"SELECT {_FIELDS} FROM exported_requests WHERE key IN ({marks})", chunk
            ):
                found[row[0]] = _exported(row)
    return found


def _row(item: ExportedRequest, now: str) -> tuple[Any, ...]:
    request, meta = item.request, item.meta
    return (
        request.key,
        request.uid,
        request.sample,
        request.prompt,
        request.prefix,
        request.seed,
        meta.backend,
        meta.model,
        meta.fingerprint,
        json.dumps(meta.sampling.to_dict(), sort_keys=True),
        json.dumps(dict(item.extra), sort_keys=True),
        now,
    )


def _exported(row: tuple[Any, ...]) -> ExportedRequest:
    key, uid, sample, prompt, prefix, seed, backend, model, fingerprint, sampling, extra, _ = row
    values = json.loads(sampling)
    values["stop"] = tuple(values.get("stop") or ())
    return ExportedRequest(
        request=GenerationRequest(
            key=key, uid=uid, sample=sample, prompt=prompt, seed=seed, prefix=prefix
        ),
        meta=StoreMeta(
            backend=backend,
            model=model,
            fingerprint=fingerprint,
            sampling=SamplingSettings(**values),
        ),
        extra=json.loads(extra),
    )
