"""The replay backend: responses produced elsewhere, read from our ``{"uid", "response"}`` JSONL.

A line may say which prompt it answers: ``"constrained": false`` answers the paper's "w/o
constraints" prompt of that uid, ``true`` the prompt with constraints; a line without the field
answers either (so one file replays a ``constraints: both`` suite, and old files still work).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.errors import BackendUnavailableError, ResponsesError

__all__ = ["ReplayBackend", "read_replay_file"]

_LINE_SHAPE = '{"uid": "gsm8k_double-3", "response": "..."}'
#: (uid, which prompt: True/False, or None for a line that answers either, sample index)
_Key = tuple[str, bool | None, int]


class ReplayBackend:
    """Answers each request with the response recorded for its (uid, sample).

    A uid that repeats in the file is the next sample of that prompt, in file order (counted
    apart for lines marked ``"constrained": false`` / ``true``). A request is answered by the
    lines marked for its variant, else by the unmarked ones. A request the file does not answer
    becomes an error :class:`Generation` (never a silent skip).

    Attributes:
        calls: the request uids of every ``generate`` call, in order (for tests that check the
            backend is called once, and that ``-k`` shrinks the batch).
    """

    name = "replay"

    def __init__(self, config: BackendConfig) -> None:
        """Read and validate the whole responses file named by ``config.model``.

        Raises:
            BackendUnavailableError: the file does not exist.
            ResponsesError: a line is not JSON, or lacks a string ``uid``/``response``.
        """
        self._path = Path(config.model)
        self._records = read_replay_file(self._path)
        self.calls: list[list[str]] = []

    def describe(self) -> Mapping[str, Any]:
        """The file and how many responses it holds."""
        return {"backend": self.name, "model": str(self._path), "responses": len(self._records)}

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Look every request up; the call is recorded at once, before any result is consumed."""
        self.calls.append([request.uid for request in requests])
        return iter([self._answer(request) for request in requests])

    def close(self) -> None:
        """Nothing to release."""

    def _answer(self, request: GenerationRequest) -> Generation:
        found = self._records.get((request.uid, request.constrained, request.sample))
        if found is None:
            found = self._records.get((request.uid, None, request.sample))
        if found is None:
            return Generation(key=request.key, text="", error=self._missing(request))
        text, finish_reason = found
        return Generation(key=request.key, text=text, finish_reason=finish_reason, seconds=0.0)

    def _missing(self, request: GenerationRequest) -> str:
        uid = json.dumps(request.uid)
        have = sum(
            1 for uid_, marked, _ in self._records if uid_ == request.uid and marked is not False
        )
        which = f"uid {uid}" if request.sample == 0 else f"sample {request.sample} of uid {uid}"
        field = ""
        if not request.constrained:
            which += " without constraints"
            have = sum(1 for uid_, marked, _ in self._records if uid_ == request.uid and not marked)
            field = ', "constrained": false'
        return (
            f"{self._path}: {which} not in {self._path.name} (it has {have} response(s) for "
            f'it); add a line {{"uid": {uid}{field}, "response": ...}}'
        )


def read_replay_file(path: Path) -> dict[_Key, tuple[str, str | None]]:
    """Parse a responses file into ``{(uid, constrained, sample): (text, finish_reason)}``.

    ``constrained`` is the line's ``"constrained"`` field (None when it has none); samples are
    numbered per uid and marking, in file order.

    Unlike :func:`mathif_pytest.responses.read_responses` it needs no dataset: unknown uids are
    kept (the plugin asks only for the uids it selected).

    Raises:
        BackendUnavailableError: the file does not exist or cannot be read.
        ResponsesError: a malformed line (the message names ``path:line`` and the expected shape).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BackendUnavailableError(
            f"--model {path}: cannot read the responses file ({exc}); pass a JSONL file with one "
            f"{_LINE_SHAPE} object per line"
        ) from None
    records: dict[_Key, tuple[str, str | None]] = {}
    counts: dict[tuple[str, bool | None], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        uid, response, finish_reason, constrained = _parse_line(line, f"{path}:{number}")
        sample = counts.get((uid, constrained), 0)
        records[(uid, constrained, sample)] = (response, finish_reason)
        counts[(uid, constrained)] = sample + 1
    return records


def _parse_line(line: str, where: str) -> tuple[str, str, str | None, bool | None]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ResponsesError(
            f"{where}: not valid JSON ({exc.msg}); each line is {_LINE_SHAPE}"
        ) from None
    if not isinstance(obj, dict):
        raise ResponsesError(f"{where}: expected a JSON object (got {type(obj).__name__})")
    uid, response = obj.get("uid"), obj.get("response")
    if not isinstance(uid, str) or not isinstance(response, str):
        raise ResponsesError(
            f"{where}: 'uid' and 'response' must be strings (got keys {sorted(obj)}); "
            f"each line is {_LINE_SHAPE}"
        )
    constrained = obj.get("constrained")
    if constrained is not None and not isinstance(constrained, bool):
        raise ResponsesError(
            f"{where}: 'constrained' must be true or false (got {constrained!r}); false marks "
            "the response to the prompt without constraints"
        )
    finish_reason = obj.get("finish_reason")
    finish = finish_reason if isinstance(finish_reason, str) else None
    return uid, response, finish, constrained
