"""Deterministic, realistic responses built from the MathIF data, shared by the benchmarks."""

from __future__ import annotations

import random
from pathlib import Path

from mathif_pytest.dataset import Sample

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "mathif"

_FILLER = (
    "First we read the problem carefully. Let x be the unknown quantity. We set up the equation "
    "from the conditions, simplify both sides, and check the result against the constraints. "
)


def _variants(answer: str) -> list[str]:
    """Ways a model writes a final answer: right, equivalent, wrong, or missing."""
    wrong = answer + "1" if answer[-1:].isdigit() else answer + "+1"
    return [
        f"\\boxed{{{answer}}}",
        f"The answer is {answer}.",
        f"So the final answer is $\\boxed{{{answer}}}$. Is there anything else I can help with?",
        f"\\boxed{{{wrong}}}",
        f"Therefore x = {wrong}",
        "I could not finish the computation.",
        f"#### {answer}",
    ]


def responses(samples: list[Sample], count: int, seed: int = 0) -> list[tuple[Sample, str]]:
    """``count`` (sample, response) pairs: reasoning in <think>, then prose and a final answer."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        sample = samples[index % len(samples)]
        final = rng.choice(_variants(sample.answer))
        thinking = _FILLER * rng.randint(1, 6)
        body = _FILLER * rng.randint(0, 3)
        text = f"<think>{thinking}</think>{body}{final}" if rng.random() < 0.8 else body + final
        out.append((sample, text))
    return out
