"""MathIF samples: load JSONL files (a directory or the hub), validate rows, key by file + row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif_pytest.constraints import build_checker
from mathif_pytest.constraints._base import Checker
from mathif_pytest.errors import DatasetError
from mathif_pytest.protocol import LEVELS, Deviations

__all__ = ["ConstraintSpec", "Dataset", "Sample", "load_dataset", "read_jsonl_file"]

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "question": str,
    "answer": (str, int, float),
    "constraint_name": list,
    "constraint_args": list,
    "constraint_desc": list,
}
_LEVEL_BY_COUNT = {1: "single", 2: "double", 3: "triple"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintSpec:
    """One constraint of a sample: its registry id, its arguments and the prompt text for it.

    Attributes:
        id: the registry id exactly as in the data (``keywords:frequency``).
        args: the arguments as stored (``{}`` for the parameterless types, null in the data).
        description: the instruction text that goes into the prompt (``constraint_desc``).
        checker: the validated checker, built when the dataset loads.
    """

    id: str
    args: Mapping[str, Any]
    description: str
    checker: Checker = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One MathIF row.

    Attributes:
        uid: ``<file stem>-<row>``, e.g. ``gsm8k_double-3``; the data's own ``id`` repeats across
            files (gsm8k_double reuses ``gsm8k-single-*``) and cannot be the key.
        source: the file stem before the level (``gsm8k``, ``math500``, ``aime``…).
        level: ``single``, ``double`` or ``triple``.
        file_stem: the JSONL file name without ``.jsonl``.
        row: 0-based index among the file's non-blank lines.
        location: ``path:line`` of the row, for error messages.
        data_id: the row's own ``id`` field (informational only).
        question: the problem text.
        answer: the reference final answer, as a string.
        constraints: the constraints in data order.
    """

    uid: str
    source: str
    level: str
    file_stem: str
    row: int
    location: str
    data_id: str
    question: str
    answer: str
    constraints: tuple[ConstraintSpec, ...]

    @property
    def constraint_ids(self) -> tuple[str, ...]:
        """The constraint ids in data order."""
        return tuple(c.id for c in self.constraints)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    """The loaded samples plus where they came from.

    Attributes:
        samples: every sample, ordered by file name then row.
        location: what the user passed (a directory, a file or ``hf://owner/name``).
        revision: a content hash of the files read (16 hex digits of sha256), or the hub commit.
        files: the file stems read, in order.
    """

    samples: tuple[Sample, ...]
    location: str
    revision: str
    files: tuple[str, ...]

    def by_uid(self) -> dict[str, Sample]:
        """A uid → sample map."""
        return {s.uid: s for s in self.samples}


def load_dataset(location: str | Path, *, deviations: Deviations | None = None) -> Dataset:
    """Load and validate MathIF samples.

    Args:
        location: a directory of ``*.jsonl`` files, one ``.jsonl`` file, or a hub dataset written
            ``hf://TingchenFu/MathIF`` (optionally ``@revision``); a hub dataset is read through
            ``huggingface_hub``'s cache and works offline once cached.
        deviations: deviations that change how checkers are built (e.g. whole-word keywords).

    Returns:
        The dataset, samples ordered by file name then row.

    Raises:
        DatasetError: the location does not exist, holds no JSONL file, or a row is invalid
            (the message names ``path:line``, the row's id and what is wrong).
    """
    deviations = deviations or Deviations()
    text = str(location)
    if text.startswith("hf://"):
        from mathif_pytest.hub import download_dataset

        directory, revision = download_dataset(text[len("hf://") :])
        files = _jsonl_files(directory, text)
        return _load_files(files, location=text, revision=revision, deviations=deviations)
    path = Path(location).expanduser()
    if not path.exists():
        raise DatasetError(
            f"{text}: no such file or directory; pass a directory of MathIF *.jsonl files "
            "(e.g. --mathif-data ../shared/mathif) or a hub dataset such as hf://TingchenFu/MathIF"
        )
    files = [path] if path.is_file() else _jsonl_files(path, text)
    return _load_files(files, location=text, revision=None, deviations=deviations)


def _jsonl_files(directory: Path, shown: str) -> list[Path]:
    files = sorted(p for p in directory.rglob("*.jsonl") if p.is_file())
    if not files:
        raise DatasetError(f"{shown}: holds no *.jsonl file; point it at the MathIF data directory")
    return files


def _load_files(
    files: Sequence[Path], *, location: str, revision: str | None, deviations: Deviations
) -> Dataset:
    digest = hashlib.sha256()
    samples: list[Sample] = []
    for path in files:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data)
        samples.extend(_parse_file(path, data, deviations))
    uids = [s.uid for s in samples]
    if len(set(uids)) != len(uids):
        raise DatasetError(
            f"{location}: two files share a stem (uids must be unique); rename one of them"
        )
    return Dataset(
        samples=tuple(samples),
        location=location,
        revision=revision or digest.hexdigest()[:16],
        files=tuple(p.stem for p in files),
    )


def read_jsonl_file(path: Path, data: bytes | None = None) -> Iterable[tuple[int, Any]]:
    """Yield ``(line_number, parsed_object)`` for every non-blank line of a JSONL file.

    Raises:
        DatasetError: a line is not valid JSON or the file is not UTF-8 (names ``path:line``).
    """
    raw = path.read_bytes() if data is None else data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():  # data quirk: trailing blank lines in aime_double, minerva_*
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object"
            ) from None


def _parse_file(path: Path, data: bytes, deviations: Deviations) -> list[Sample]:
    source, stem_level = _split_stem(path.stem)
    samples = []
    for row, (number, obj) in enumerate(read_jsonl_file(path, data)):
        where = f"{path}:{number}"
        samples.append(_parse_row(obj, where, path.stem, row, source, stem_level, deviations))
    return samples


def _split_stem(stem: str) -> tuple[str, str | None]:
    head, _, tail = stem.rpartition("_")
    return (head, tail) if head and tail in LEVELS else (stem, None)


def _parse_row(
    obj: Any,
    where: str,
    stem: str,
    row: int,
    source: str,
    stem_level: str | None,
    deviations: Deviations,
) -> Sample:
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    where = f"{where} (id={obj.get('id', '?')})"
    for key, kinds in _REQUIRED.items():
        if key not in obj:
            raise DatasetError(
                f"{where}: missing field {key!r}; every row needs {sorted(_REQUIRED)}"
            )
        if not isinstance(obj[key], kinds) or isinstance(obj[key], bool):
            raise DatasetError(f"{where}: field {key!r} has type {type(obj[key]).__name__}")
    constraints = _parse_constraints(obj, where, deviations)
    level = stem_level or _LEVEL_BY_COUNT.get(len(constraints), f"{len(constraints)}-constraint")
    if stem_level and len(constraints) != LEVELS.index(stem_level) + 1:
        raise DatasetError(
            f"{where}: a {stem_level!r} file row has {len(constraints)} constraints; "
            f"move it to the matching file"
        )
    return Sample(
        uid=f"{stem}-{row}",
        source=source,
        level=level,
        file_stem=stem,
        row=row,
        location=where,
        data_id=str(obj.get("id", "")),
        question=obj["question"],
        answer=str(obj["answer"]),
        constraints=constraints,
    )


def _parse_constraints(
    obj: dict[str, Any], where: str, deviations: Deviations
) -> tuple[ConstraintSpec, ...]:
    names, args, descs = obj["constraint_name"], obj["constraint_args"], obj["constraint_desc"]
    if not len(names) == len(args) == len(descs):
        raise DatasetError(
            f"{where}: constraint_name, constraint_args and constraint_desc differ in length "
            f"({len(names)}, {len(args)}, {len(descs)}); they must be parallel lists"
        )
    specs = []
    for index, (name, arg, desc) in enumerate(zip(names, args, descs, strict=True)):
        if not isinstance(name, str) or not isinstance(desc, str):
            raise DatasetError(f"{where}: constraint {index} name and description must be strings")
        if arg is not None and not isinstance(arg, dict):
            raise DatasetError(
                f"{where}: constraint_args[{index}] must be an object or null, "
                f"got {type(arg).__name__}"
            )
        try:
            checker = build_checker(name, arg, deviations)
        except DatasetError as exc:
            raise type(exc)(f"{where}: {exc}") from None
        specs.append(
            ConstraintSpec(id=name, args=dict(arg or {}), description=desc, checker=checker)
        )
    return tuple(specs)
