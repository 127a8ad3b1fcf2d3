"""The official MathIF prompt: question, chain-of-thought instruction, constraint descriptions."""

from __future__ import annotations

from mathif_pytest.dataset import Sample
from mathif_pytest.protocol import COT_INSTRUCTION

__all__ = ["build_prompt", "chat_messages"]


def build_prompt(sample: Sample, *, with_constraints: bool = True) -> str:
    r"""The user-turn text, exactly as the official ``vllm_core.py`` builds it.

    ``question + COT + " ".join(constraint descriptions)`` with no separator between the parts
    (protocol §2): ``...conditions.Let's think step by step ... \boxed{}.First repeat the...``.

    Args:
        sample: the sample.
        with_constraints: ``False`` gives the paper's "w/o constraints" prompt (question + COT).
    """
    text = sample.question + COT_INSTRUCTION
    if with_constraints:
        text += " ".join(c.description for c in sample.constraints)
    return text


def chat_messages(prompt: str) -> list[dict[str, str]]:
    """One user turn and no system message, as the official code passes to the chat template."""
    return [{"role": "user", "content": prompt}]
