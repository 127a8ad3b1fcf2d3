"""Model backends: turn prompts into responses. Each implementation is imported only when used."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mathif_pytest.backends._types import Generation, GenerationRequest, SamplingSettings

__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendConfig",
    "Generation",
    "GenerationRequest",
    "SamplingSettings",
]

#: Names accepted by ``--mathif-backend``.
BACKEND_NAMES = ("auto", "vllm", "transformers", "openai", "replay")


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendConfig:
    """Everything needed to build a backend, resolved once from options and the suite.

    Attributes:
        name: one of :data:`BACKEND_NAMES` (``auto`` is resolved by ``resolve_backend_name``).
        model: ``--model``: a checkpoint directory, a hub id, a server URL (openai) or a responses
            JSONL file (replay).
        sampling: sampling settings shared by all requests.
        options: backend-specific settings (engine arguments such as ``tensor_parallel_size``,
            ``dtype``, ``batch_size``, ``served_model``, ``concurrency``…), as parsed values.
    """

    name: str
    model: str
    sampling: SamplingSettings
    options: Mapping[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """A loaded model that generates responses."""

    name: str

    def describe(self) -> Mapping[str, Any]:
        """What to print and record about this backend (never secrets such as API keys)."""
        ...

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate every request, yielding each result as soon as it is ready (any order).

        A failure that concerns one request is a :class:`Generation` with ``error`` set; a failure
        of the whole backend raises :class:`~mathif_pytest.errors.BackendError`.
        """
        ...

    def close(self) -> None:
        """Release the model, engine processes and connections. Safe to call twice."""
        ...
