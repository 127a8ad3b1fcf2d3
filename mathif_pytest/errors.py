"""The exception hierarchy: every error the library raises on purpose is a :class:`MathIFError`.

Messages follow one grammar: *where: what is wrong (got X); how to fix*.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "ConstraintArgsError",
    "DatasetError",
    "GateSpecError",
    "MathIFError",
    "ResponsesError",
    "StoreError",
    "UnknownConstraintError",
]


class MathIFError(Exception):
    """Base class of every error raised on purpose by mathif-pytest."""


class DatasetError(MathIFError):
    """The MathIF data could not be found, read or validated."""


class UnknownConstraintError(DatasetError):
    """A constraint id is not in the registry."""


class ConstraintArgsError(DatasetError):
    """A constraint's arguments are missing, unexpected or of the wrong type."""


class ResponsesError(MathIFError):
    """A responses file (``mathif score`` input, replay backend) is malformed or incomplete."""


class BackendUnavailableError(MathIFError):
    """A backend's optional dependencies are not installed, or its model cannot be found."""


class BackendError(MathIFError):
    """A backend failed while generating (server down, engine crash, bad model files)."""


class StoreError(MathIFError):
    """The response store could not be opened or written."""


class GateSpecError(MathIFError):
    """A gate expression could not be parsed."""
