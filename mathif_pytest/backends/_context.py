"""Fit a request's ``max_tokens`` into a served model's context window (``max_model_len``).

A server started with ``--max-model-len 4096`` rejects or cuts requests whose prompt plus
``max_tokens`` exceed it (the MathIF default of 16,384 new tokens never fits). So each request's
budget is clamped to ``max_model_len - prompt tokens``: counted by the server's tokenizer
endpoint when it has one, else estimated from above (UTF-8 bytes of the messages, since a
byte-level or byte-fallback token covers at least one byte, plus an allowance for the chat
template). vLLM's "maximum context length" 400 is parsed too, for one retry with less.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ContextLimit", "Fit", "estimate_prompt_tokens", "fit_max_tokens", "parse_context_error"]

#: tokens allowed for what the chat template adds (role markers, a default system prompt)
TEMPLATE_ALLOWANCE = 256

_MAX_LEN = re.compile(r"maximum context length is (\d+) tokens")
_OVER_LEN = re.compile(
    r"max_(?:completion_)?tokens=(\d+) cannot be greater than max_model_len=(\d+)"
)
_PROMPT = (
    re.compile(r"your request has (\d+) input tokens"),  # vLLM 0.9 - 0.11
    re.compile(r"\((\d+) in the messages"),  # vLLM before 0.9
    re.compile(r"your prompt contains (?:at least )?(\d+) input tokens"),  # current vLLM
)


class PromptTooLong(Exception):
    """The prompt alone fills the context: no budget is left to generate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fit:
    """The budget of one request.

    Attributes:
        max_tokens: what is sent.
        requested: the run's ``max_tokens``.
        max_model_len: the server's context window (None: unknown, nothing clamped).
        prompt_tokens: the rendered prompt's tokens as counted (None: not needed).
        counted_by: ``tokenizer`` (the server's), ``estimate`` (from above) or ``server``
            (read from the server's 400 answer).
    """

    max_tokens: int
    requested: int
    max_model_len: int | None = None
    prompt_tokens: int | None = None
    counted_by: str = ""

    @property
    def clamped(self) -> bool:
        """Less than the run's ``max_tokens`` is asked for."""
        return self.max_tokens < self.requested

    def extra(self) -> dict[str, Any]:
        """What :attr:`~mathif_pytest.backends.Generation.extra` records (nothing unclamped)."""
        if not self.clamped:
            return {}
        return {
            "max_tokens_clamped": {
                "requested": self.requested,
                "sent": self.max_tokens,
                "max_model_len": self.max_model_len,
                "prompt_tokens": self.prompt_tokens,
                "counted_by": self.counted_by,
            }
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextLimit:
    """What a "maximum context length" answer says.

    Attributes:
        max_model_len: the server's context window.
        prompt_tokens: the prompt's tokens, when the message gives them.
    """

    max_model_len: int
    prompt_tokens: int | None = None


def estimate_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """An upper bound of a chat prompt's tokens without a tokenizer (see the module docstring)."""
    size = sum(len(str(m.get("content") or "").encode("utf-8")) for m in messages)
    return size + TEMPLATE_ALLOWANCE


def fit_max_tokens(
    requested: int, max_model_len: int | None, prompt_tokens: int, counted_by: str
) -> Fit:
    """Clamp ``requested`` to what fits beside a prompt of ``prompt_tokens``.

    Raises:
        PromptTooLong: the prompt leaves no room for a single new token.
    """
    if max_model_len is None:
        return Fit(max_tokens=requested, requested=requested)
    room = max_model_len - prompt_tokens
    if room < 1:
        raise PromptTooLong(
            f"the prompt has {prompt_tokens} tokens ({counted_by}), which leaves no room to "
            f"generate in the server's max_model_len of {max_model_len}; serve the model with a "
            "larger --max-model-len"
        )
    return Fit(
        max_tokens=min(requested, room),
        requested=requested,
        max_model_len=max_model_len,
        prompt_tokens=prompt_tokens,
        counted_by=counted_by,
    )


def parse_context_error(message: str) -> ContextLimit | None:
    """The limit in vLLM's context-length 400 message, any release's wording (None: another error).

    Wordings: "max_tokens=16384 cannot be greater than max_model_len=4096" (current), "'max_tokens'
    or 'max_completion_tokens' is too large: 16384. This model's maximum context length is 4096
    tokens and your request has 310 input tokens" (0.9 to 0.11), "This model's maximum context
    length is 4096 tokens. However, you requested 16694 tokens (310 in the messages, 16384 in the
    completion)" (before 0.9), and the prompt-alone one ("your prompt contains 5000 input tokens").
    """
    over = _OVER_LEN.search(message)
    if over:
        return ContextLimit(max_model_len=int(over.group(2)))
    found = _MAX_LEN.search(message)
    if not found:
        return None
    prompt = next((int(m.group(1)) for p in _PROMPT if (m := p.search(message))), None)
    return ContextLimit(max_model_len=int(found.group(1)), prompt_tokens=prompt)
