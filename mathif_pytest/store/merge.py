"""Merge response stores (the CI shards of one run) into one, refusing conflicting responses.

Shards write disjoint keys, but their stores may also share rows (a cache restored into every
shard job, a response reused by two runs): a key found with the same response twice is kept
once, a key found with two different responses is a conflict, and then nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathif_pytest.errors import StoreError
from mathif_pytest.store import COLUMNS, ResponseStore

__all__ = ["MergeReport", "merge_stores"]

#: what makes two rows of one key the same response
_SAME = ("text", "finish_reason")
_SHOWN_CONFLICTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeReport:
    """What a merge did.

    Attributes:
        read: rows read from each input, in order.
        written: rows new to the output.
        duplicates: rows already there with the same response (kept once).
    """

    read: tuple[int, ...]
    written: int
    duplicates: int


def merge_stores(inputs: Sequence[Path], out: Path) -> MergeReport:
    """Copy every row of ``inputs`` into the store ``out`` (created if missing), in one transaction.

    Raises:
        StoreError: an input is missing, is ``out`` itself, or is not a store; or two rows of one
            key differ (the message names up to five keys with their uid, sample and stores).
    """
    _check_paths(inputs, out)
    seen: dict[str, tuple[dict[str, Any], Path]] = {}
    conflicts: list[str] = []
    read = []
    for path in inputs:
        with ResponseStore(path) as store:
            rows = list(store.rows())
        read.append(len(rows))
        for row in rows:
            _take(row, path, seen, conflicts)
    with ResponseStore(out) as store:
        written, duplicates = _write(store, out, seen, conflicts)
    return MergeReport(
        read=tuple(read), written=written, duplicates=duplicates + sum(read) - len(seen)
    )


def _check_paths(inputs: Sequence[Path], out: Path) -> None:
    if not inputs:
        raise StoreError(
            "no stores to merge; usage: mathif merge-stores A.sqlite B.sqlite --out ALL.sqlite"
        )
    for path in inputs:
        if not path.is_file():
            raise StoreError(f"{path}: no such store; pass the .sqlite files the shards wrote")
        if path.resolve() == out.resolve():
            raise StoreError(f"{path}: is also --out; write the merged store to a new file")
    if len({p.resolve() for p in inputs}) != len(inputs):
        raise StoreError("a store is listed twice; list each once")


def _take(
    row: dict[str, Any],
    path: Path,
    seen: dict[str, tuple[dict[str, Any], Path]],
    conflicts: list[str],
) -> None:
    known = seen.get(row["key"])
    if known is None:
        seen[row["key"]] = (row, path)
    elif any(known[0][c] != row[c] for c in _SAME):
        conflicts.append(_conflict(row, known[1], path))


def _write(
    store: ResponseStore,
    out: Path,
    seen: dict[str, tuple[dict[str, Any], Path]],
    conflicts: list[str],
) -> tuple[int, int]:
    """Insert the new rows; rows already in ``out`` must match. Returns (written, duplicates)."""
    written = duplicates = 0
    marks = ", ".join("?" * len(COLUMNS))
    with store.transaction() as execute:
        for key, (row, path) in seen.items():
            found = execute(f"SELECT {', '.join(_SAME)} FROM responses WHERE key = ?", (key,))
            if found and tuple(found[0]) != tuple(row[c] for c in _SAME):
                conflicts.append(_conflict(row, out, path))
            elif found:
                duplicates += 1
            else:
                execute(
                    f"INSERT INTO responses ({', '.join(COLUMNS)}) VALUES ({marks})",
                    [row[c] for c in COLUMNS],
                )
                written += 1
        if conflicts:
            shown = "; ".join(conflicts[:_SHOWN_CONFLICTS])
            more = (
                f" (and {len(conflicts) - _SHOWN_CONFLICTS} more)"
                if len(conflicts) > _SHOWN_CONFLICTS
                else ""
            )
            raise StoreError(
                f"{len(conflicts)} keys have different responses in different stores: {shown}"
                f"{more}; nothing was merged. Shards of one run never conflict: check that the "
                "stores come from the same model, suites and sampling, or merge them into "
                "separate files"
            )
    return written, duplicates


def _conflict(row: dict[str, Any], first: Path, second: Path) -> str:
    return f"{row['key'][:12]}… ({row['uid']}, sample {row['sample']}) in {first} and {second}"
