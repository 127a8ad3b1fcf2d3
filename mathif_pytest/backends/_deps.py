"""Optional dependencies of the backends: find and import them lazily, with an install hint."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from mathif_pytest.errors import BackendUnavailableError

__all__ = ["import_optional", "install_hint", "is_installed"]

_EXTRA_LABELS = {"vllm": "vLLM", "transformers": "transformers"}


def install_hint(extra: str) -> str:
    """The message for a backend whose optional dependencies are missing.

    Args:
        extra: the name of the package extra that installs them (``vllm``, ``transformers``).
    """
    label = _EXTRA_LABELS.get(extra, extra)
    return (
        f"{label} backend requires optional dependencies; "
        f"install with: pip install 'mathif-pytest[{extra}]'"
    )


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a cheap ``find_spec``)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a sys.modules entry without __spec__
        return False


def import_optional(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise the install hint for ``extra``.

    The result is typed as a plain module, so the heavy libraries stay out of type checking.

    Raises:
        BackendUnavailableError: the module is missing, or fails to import (the message keeps the
            underlying error, e.g. a CUDA/CPU torch mismatch).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        detail = "" if isinstance(exc, ModuleNotFoundError) and exc.name == module else f" ({exc})"
        raise BackendUnavailableError(f"{install_hint(extra)}{detail}") from None
