"""Fixtures for the scoring tests: the benchmark corpora, built from the MathIF data."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mathif_pytest.dataset import Sample, load_dataset

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"

Corpus = Callable[[str, int], list[tuple[Sample, str]]]


@pytest.fixture(scope="session")
def corpus(data_dir: Path) -> Corpus:
    """``corpus(kind, count)``: the seeded benchmark corpus ``kind`` (realistic, long, simple)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _corpus import CORPORA
    finally:
        sys.path.remove(str(BENCHMARKS))
    samples = list(load_dataset(data_dir).samples)

    def make(kind: str, count: int) -> list[tuple[Sample, str]]:
        return CORPORA[kind](samples, count, 0)

    return make
