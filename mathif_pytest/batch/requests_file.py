"""OpenAI batch files: the requests a run still needs, and the responses a batch engine wrote.

Requests (``mathif export-requests``), one JSON object a line, the format of ``vllm run-batch``
and the OpenAI Batch API; ``custom_id`` is the request's store key, the body is exactly what the
openai backend would send (messages, explicit sampling, seed, ``max_tokens``), never streamed::

    {"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions", "body": {...}}

Responses (``mathif import-responses``), as ``vllm run-batch`` writes them (and
``examples/ray_data_llm.py``)::

    {"id": ..., "custom_id": KEY, "response": {"status_code": 200, "body": CHAT_COMPLETION},
     "error": null}

A line whose request failed (``error`` set, or a status other than 200) is reported and not
stored, as a failed generation is not; a malformed line, an unknown or repeated ``custom_id`` is
an error naming ``file:line``, and then nothing is imported.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif_pytest.backends import Generation, GenerationRequest
from mathif_pytest.backends._context import PromptTooLong, estimate_prompt_tokens, fit_max_tokens
from mathif_pytest.backends._openai_chat import (
    ChatReply,
    chat_body,
    reply_from_completion,
    sampling_fields,
)
from mathif_pytest.errors import MathIFError
from mathif_pytest.store import ResponseStore, StoreMeta
from mathif_pytest.store.exports import ExportedRequest, exported_requests

__all__ = [
    "BATCH_URL",
    "BatchFileError",
    "ImportReport",
    "import_responses",
    "request_line",
    "write_requests",
]

BATCH_URL = "/v1/chat/completions"


class BatchFileError(MathIFError):
    """A batch file is malformed or does not belong to the store (the message names file:line)."""


def request_line(
    item: ExportedRequest, model: str, max_model_len: int | None = None
) -> tuple[dict[str, Any], ExportedRequest]:
    """One request line for ``model`` (the name the batch engine serves), and the export record.

    With ``max_model_len`` the budget is clamped to fit beside the prompt (estimated from above:
    there is no server to ask), and the clamp is recorded in the export's ``extra``.

    Raises:
        BatchFileError: the prompt alone does not fit ``max_model_len``.
    """
    request, sampling = item.request, item.meta.sampling
    messages = chat_body(request, model, {}, 1)["messages"]
    try:
        fit = fit_max_tokens(
            sampling.max_tokens, max_model_len, estimate_prompt_tokens(messages), "estimate"
        )
    except PromptTooLong as exc:
        raise BatchFileError(f"{request.uid} (sample {request.sample}): {exc}") from None
    body = chat_body(request, model, sampling_fields(sampling), fit.max_tokens)
    line = {"custom_id": request.key, "method": "POST", "url": BATCH_URL, "body": body}
    return line, ExportedRequest(
        request=request, meta=item.meta, extra={**item.extra, **fit.extra()}
    )


def write_requests(path: Path, lines: Sequence[Mapping[str, Any]]) -> None:
    """Write ``lines`` as JSONL, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What ``import_responses`` did.

    Attributes:
        imported: responses stored.
        already: responses that were already stored, identical.
        failed: ``file:line: custom_id: error`` for requests the batch engine failed.
    """

    imported: int
    already: int = 0
    failed: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class _Line:
    where: str
    custom_id: str
    body: Any
    failure: str | None

    def reply(self) -> ChatReply:
        try:
            return reply_from_completion(self.body)
        except ValueError as exc:
            raise BatchFileError(f"{self.where}: custom_id {self.custom_id!r}: {exc}") from None


def import_responses(path: Path, store: ResponseStore) -> ImportReport:
    """Store the responses of a batch output file by ``custom_id``, all of them or none.

    Raises:
        BatchFileError: a malformed line, an unknown or repeated ``custom_id``, or a response
            that differs from the one already stored under its key.
    """
    lines = list(_read(path))
    exports = exported_requests(store, [line.custom_id for line in lines])
    unknown = next((line for line in lines if line.custom_id not in exports), None)
    if unknown is not None:
        raise BatchFileError(
            f"{unknown.where}: unknown custom_id {unknown.custom_id!r}: no request with this key "
            f"was exported to {store.path}; import into the store you exported from (--store), "
            "and check that the file is the output of that export"
        )
    items = _new_responses(lines, exports, store.get_many(exports))
    answered = sum(line.failure is None for line in lines)
    failed = tuple(
        f"{line.where}: {line.custom_id}: {line.failure}" for line in lines if line.failure
    )
    imported = store.put_many(items)
    return ImportReport(imported=imported, already=answered - imported, failed=failed)


def _new_responses(
    lines: Sequence[_Line],
    exports: Mapping[str, ExportedRequest],
    stored: Mapping[str, Generation],
) -> list[tuple[GenerationRequest, Generation, StoreMeta]]:
    """The answered lines not stored yet; one stored differently is an error."""
    items = []
    for line in lines:
        if line.failure is not None:
            continue
        item = exports[line.custom_id]
        generation = line.reply().generation(line.custom_id, extra=item.extra)
        known = stored.get(line.custom_id)
        if known is None:
            items.append((item.request, generation, item.meta))
        elif (known.text, known.finish_reason) != (generation.text, generation.finish_reason):
            raise BatchFileError(
                f"{line.where}: custom_id {line.custom_id!r} ({item.request.uid}) is already "
                "stored with a different response; nothing was imported. Import into a fresh "
                "store, or delete the stored one first"
            )
    return items


def _read(path: Path) -> Iterator[_Line]:
    seen: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            line = _parse(f"{path}:{number}", text)
            if line.custom_id in seen:
                raise BatchFileError(
                    f"{line.where}: custom_id {line.custom_id!r} repeats line "
                    f"{seen[line.custom_id]}; each request has one response line"
                )
            seen[line.custom_id] = str(number)
            yield line


def _parse(where: str, text: str) -> _Line:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise BatchFileError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("custom_id"), str):
        raise BatchFileError(
            f"{where}: not a batch output line (no custom_id); expected "
            '{"custom_id": ..., "response": ...}'
        )
    custom_id = document["custom_id"]
    response = document.get("response")
    if not isinstance(response, dict):
        response = {"status_code": None}
    status = response.get("status_code", 200)
    if document.get("error") is not None or status != 200:
        return _Line(where, custom_id, None, _failure(document.get("error"), status))
    return _Line(where, custom_id, response.get("body"), None)


def _failure(error: Any, status: int | None) -> str:
    if isinstance(error, dict):
        inner = error.get("error", error)
        error = inner.get("message", inner) if isinstance(inner, dict) else inner
    return f"status {status}: {error}" if error is not None else f"status {status}"
