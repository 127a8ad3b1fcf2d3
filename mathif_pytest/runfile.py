"""The results document of ``mathif score`` and ``--mathif-results``, read back as a baseline."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mathif_pytest.errors import MathIFError
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import summarize

__all__ = [
    "FORMAT_VERSION",
    "RunFile",
    "build_document",
    "read_run_file",
    "write_json_atomic",
    "write_text_atomic",
]

#: Bumped when the document's shape changes incompatibly.
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFile:
    """A results document read back: its cases and the metadata it was written with."""

    path: Path
    cases: tuple[CaseResult, ...]
    meta: Mapping[str, Any]


def build_document(cases: Sequence[CaseResult], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Build the results JSON document.

    Keys: ``format``, ``created``, ``meta`` (how the run was made), ``summary``
    (overall metrics and breakdowns, see :meth:`~mathif_pytest.stats.Summary.to_dict`) and
    ``cases`` (one :meth:`~mathif_pytest.results.CaseResult.to_dict` per response).
    """
    return {
        "format": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "meta": dict(meta),
        "summary": summarize(cases).to_dict(),
        "cases": [c.to_dict() for c in cases],
    }


def write_json_atomic(path: str | Path, document: Mapping[str, Any]) -> None:
    """Write JSON so that readers never see half a file (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a file so that readers never see half of it: a temporary file, then a rename.

    The file gets the mode a plain ``open(path, "w")`` would give it (0644 under the usual
    umask 022), not the 0600 of a temporary file: results are meant to be shared.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_run_file(path: str | Path) -> RunFile:
    """Read a results document.

    Raises:
        MathIFError: the file is missing, not JSON, or not a results document of a known format.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MathIFError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MathIFError(f"{path}: not a readable JSON results file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise MathIFError(
            f"{path}: not a mathif results document (format {FORMAT_VERSION}); "
            "write one with `mathif score --out` or `pytest --mathif-results`"
        )
    try:
        cases = tuple(CaseResult.from_dict(c) for c in document["cases"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MathIFError(f"{path}: a case is malformed ({type(exc).__name__}: {exc})") from None
    return RunFile(path=path, cases=cases, meta=document.get("meta", {}))
