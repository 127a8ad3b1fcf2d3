"""Read responses produced elsewhere: ``{"uid", "response"}`` JSONL, or the official format."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathif_pytest.dataset import Dataset, read_jsonl_file
from mathif_pytest.errors import DatasetError, ResponsesError

__all__ = ["ResponseRecord", "read_responses"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseRecord:
    """One response to one prompt.

    Attributes:
        uid: the sample's uid.
        sample: 0-based index among the responses to that uid, in file order.
        text: the raw model output.
        location: ``path:line`` it came from.
        finish_reason: ``stop``/``length``… when the file records it.
    """

    uid: str
    sample: int
    text: str
    location: str
    finish_reason: str | None = None


def read_responses(
    path: str | Path,
    dataset: Dataset,
    *,
    aligned_to: str | None = None,
    constrained: bool | None = None,
) -> list[ResponseRecord]:
    """Read a responses file and check it against the dataset.

    Two formats:

    * one JSON object per line with ``uid`` and ``response`` (a string); a uid that repeats is
      another sample of the same prompt, numbered in file order. ``finish_reason`` is optional.
    * with ``aligned_to=FILE_STEM``: the official ``{"output": [text, ...]}`` lines (``response``
      or ``responses`` also accepted), line *i* answering row *i* of that data file. Every entry of
      the list is one sample (the official scorer reads only the first; its runs have one).

    With ``constrained`` given, a ``uid`` line marked ``"constrained": true`` or ``false`` (a file
    that answers both prompts of a sample, as the replay backend reads it) is kept only when it
    answers that prompt; unmarked lines are always kept.

    Raises:
        ResponsesError: a malformed line, an unknown uid (with a did-you-mean), a missing text, or
            an aligned file whose line count differs from its data file's rows (the message names
            ``path:line`` and the missing or extra rows).
    """
    path = Path(path)
    if not path.is_file():
        raise ResponsesError(f"{path}: no such responses file")
    try:
        lines = list(read_jsonl_file(path))
    except DatasetError as exc:
        raise ResponsesError(str(exc)) from None
    if aligned_to is not None:
        return _aligned(path, lines, dataset, aligned_to)
    if constrained is not None:
        lines = [(n, obj) for n, obj in lines if _answers(obj, constrained, f"{path}:{n}")]
    return _by_uid(path, lines, dataset)


def _answers(obj: Any, constrained: bool, where: str) -> bool:
    """Whether a line answers the prompt with (``True``) or without its constraints."""
    marked = obj.get("constrained") if isinstance(obj, Mapping) else None
    if marked is not None and not isinstance(marked, bool):
        raise ResponsesError(f"{where}: 'constrained' must be true or false (got {marked!r})")
    return marked is None or marked is constrained


def _by_uid(path: Path, lines: list[tuple[int, Any]], dataset: Dataset) -> list[ResponseRecord]:
    known = dataset.by_uid()
    counts: dict[str, int] = defaultdict(int)
    records = []
    for number, obj in lines:
        where = f"{path}:{number}"
        uid = _field(obj, "uid", where)
        if uid not in known:
            raise ResponsesError(f"{where}: unknown uid {uid!r}{_did_you_mean(uid, list(known))}")
        text = _field(obj, "response", where)
        records.append(
            ResponseRecord(
                uid=uid,
                sample=counts[uid],
                text=text,
                location=where,
                finish_reason=_finish_reason(obj),
            )
        )
        counts[uid] += 1
    return records


def _aligned(
    path: Path, lines: list[tuple[int, Any]], dataset: Dataset, stem: str
) -> list[ResponseRecord]:
    rows = [s for s in dataset.samples if s.file_stem == stem]
    if not rows:
        raise ResponsesError(
            f"--aligned-to {stem}: no data file with that stem"
            f"{_did_you_mean(stem, list(dataset.files))}; known: {', '.join(dataset.files)}"
        )
    if len(lines) != len(rows):
        missing = [s.uid for s in rows[len(lines) :]] or ["(none)"]
        raise ResponsesError(
            f"{path}: {len(lines)} responses for {len(rows)} rows of {stem}.jsonl; "
            f"each line must answer the row at the same position (unanswered: "
            f"{', '.join(missing[:5])}{'…' if len(missing) > 5 else ''})"
        )
    records: list[ResponseRecord] = []
    for sample, (number, obj) in zip(rows, lines, strict=True):
        where = f"{path}:{number}"
        outputs = _official_outputs(obj, where)
        records.extend(
            ResponseRecord(uid=sample.uid, sample=i, text=text, location=where)
            for i, text in enumerate(outputs)
        )
    return records


def _official_outputs(obj: Any, where: str) -> list[str]:
    if not isinstance(obj, dict):
        raise ResponsesError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    value = obj.get("output") or obj.get("responses") or obj.get("response")
    outputs = [value] if isinstance(value, str) else value
    if not isinstance(outputs, list) or not outputs or not all(isinstance(t, str) for t in outputs):
        raise ResponsesError(
            f'{where}: expected {{"output": [text, ...]}} (official format), got keys {sorted(obj)}'
        )
    return outputs


def _field(obj: Any, key: str, where: str) -> str:
    if not isinstance(obj, Mapping):
        raise ResponsesError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    value = obj.get(key)
    if not isinstance(value, str):
        got = "missing" if value is None else type(value).__name__
        raise ResponsesError(
            f"{where}: field {key!r} must be a string (got {got}); each line is "
            '{"uid": "gsm8k_double-3", "response": "..."}'
        )
    return value


def _finish_reason(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("finish_reason")
    return value if isinstance(value, str) else None


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
