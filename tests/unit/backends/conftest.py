"""Fixtures for the backend tests: sampling settings and request batches."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mathif_pytest.backends import GenerationRequest, SamplingSettings
from mathif_pytest.backends.fingerprint import request_seed

MakeRequests = Callable[..., list[GenerationRequest]]


@pytest.fixture
def sampling() -> SamplingSettings:
    """The MathIF sampling settings, with short responses and a base seed."""
    return SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16, seed=1234)


@pytest.fixture
def make_requests() -> MakeRequests:
    """``make_requests(n, base_seed=1234, samples=1)``: requests ``u0..u{n-1}``, keys ``k-u0-0``…

    Prompt lengths vary (1 to 4 repeats) so batching by length has something to sort.
    """

    def make(n: int, *, base_seed: int | None = 1234, samples: int = 1) -> list[GenerationRequest]:
        return [
            GenerationRequest(
                key=f"k-u{i}-{s}",
                uid=f"u{i}",
                sample=s,
                prompt=f"What is {i} plus {i * 3}? " * (1 + (i * 5) % 4),
                seed=request_seed(base_seed, f"u{i}", s),
            )
            for i in range(n)
            for s in range(samples)
        ]

    return make
