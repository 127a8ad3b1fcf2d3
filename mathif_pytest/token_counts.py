"""How long a response's thinking and answer are, in tokens: counted by a tokenizer, or estimated.

The vLLM and transformers backends count with the model's own tokenizer; a served model reports
its counts (``usage``); a replayed response has neither, and gets the tokenizer-free estimate
:func:`approximate_tokens`: one token per run of word characters and one per other visible
character. Each scored response says which of the three its numbers came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LENGTH_SOURCES", "Lengths", "TokenCounts", "approximate_tokens", "response_lengths"]

#: Where a response's token counts came from: the model's tokenizer in-process, a server's
#: usage report, a third-party backend's own count, or :func:`approximate_tokens`.
LENGTH_SOURCES = ("tokenizer", "server", "backend", "approximate")
_PIECE = re.compile(r"\w+|[^\w\s]")


def approximate_tokens(text: str) -> int:
    r"""A tokenizer-free token count: words (``\w+`` runs) plus other visible characters.

    ``"Let x = 12."`` is 5: ``Let``, ``x``, ``=``, ``12``, ``.``. Whitespace is free. BPE
    tokenizers split long or rare words further, so this tends to count fewer tokens than a
    model's tokenizer; it orders responses by length the same way for ordinary prose.
    """
    return len(_PIECE.findall(text))


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenCounts:
    """What the backend counted for a response (None: not known).

    Attributes:
        thinking: tokens up to and including ``</think>`` (all of them when it never closed).
        completion: every generated token.
        source: ``tokenizer`` (the model's, in-process), ``server`` (a served model's usage)
            or ``backend`` (a third-party backend's).
    """

    thinking: int | None
    completion: int | None
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Lengths:
    """A response's thinking and answer length and where the numbers came from.

    Attributes:
        thinking_tokens: tokens of the thinking (0 without any).
        answer_tokens: tokens after the thinking.
        source: one of :data:`LENGTH_SOURCES`.
    """

    thinking_tokens: int
    answer_tokens: int
    source: str


def response_lengths(counts: TokenCounts | None, thinking: str, rest: str) -> Lengths:
    """Counted lengths when the backend knew both numbers, else the estimate of both.

    Args:
        counts: what the backend counted (None: nothing, as for replayed responses).
        thinking: the thinking text (for the estimate).
        rest: the text after the thinking (for the estimate).
    """
    if counts is not None and counts.thinking is not None and counts.completion is not None:
        thinking_tokens = min(counts.thinking, counts.completion)
        return Lengths(
            thinking_tokens=thinking_tokens,
            answer_tokens=counts.completion - thinking_tokens,
            source=counts.source,
        )
    return Lengths(
        thinking_tokens=approximate_tokens(thinking),
        answer_tokens=approximate_tokens(rest),
        source="approximate",
    )
