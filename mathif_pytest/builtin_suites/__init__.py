"""The suites shipped with the package (full, smoke, one per source, no_constraints), by name.

``--mathif-suite NAME``, a suite's ``extends: NAME`` and the ``mathif_default_suite`` ini key name
them; any of those also accepts the path of a YAML file of the user's own.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from mathif_pytest.errors import MathIFError

__all__ = ["BUILTIN_DIR", "builtin_names", "resolve_suite"]

#: The directory of the built-in suite files (package data).
BUILTIN_DIR = Path(__file__).resolve().parent


def builtin_names() -> list[str]:
    """The names of the built-in suites (their file stems), sorted."""
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def resolve_suite(ref: str, base: Path | None = None) -> Path:
    """The YAML file ``ref`` names: a built-in suite's name, or a path (relative to ``base``).

    Raises:
        MathIFError: neither a built-in name nor an existing file; the message lists the
            built-ins with a did-you-mean.
    """
    path = Path(ref).expanduser()
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        if not path.is_absolute() and base is not None:
            path = base / path
        if path.is_file():
            return path.resolve()
        raise MathIFError(f"suite {ref!r}: no such file ({path}); {_known(ref)}")
    if ref in builtin_names():
        return BUILTIN_DIR / f"{ref}.yaml"
    raise MathIFError(f"suite {ref!r} is not a built-in suite or a YAML file; {_known(ref)}")


def _known(ref: str) -> str:
    names = builtin_names()
    close = difflib.get_close_matches(Path(ref).stem, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}built-in suites: {', '.join(names)} (--mathif-list-suites describes them)"
