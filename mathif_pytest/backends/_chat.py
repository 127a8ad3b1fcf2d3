"""Chat rendering shared by the model backends: templates, thinking pre-fill, think-tag decoding.

The chat templates of R1-distill, QwQ and Qwen3 (thinking on) end the generation prompt with
``<think>`` and a newline: the model's raw output then holds only ``</think>``, so a response is
inside its thinking from its first token, which the scorer must know (``thinking_prefilled``).
Some tokenizers register ``<think>``/``</think>`` as special tokens, which
``skip_special_tokens=True`` deletes: :class:`ThinkTags` finds them so that decoding keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif_pytest.backends._types import GenerationRequest
from mathif_pytest.errors import BackendError, BackendUnavailableError
from mathif_pytest.prompts import chat_messages

__all__ = [
    "THINK_CLOSE",
    "THINK_OPEN",
    "ChatFormat",
    "Rendered",
    "ThinkTags",
    "load_chat_template",
    "opens_thinking",
    "render",
    "thinking_token_count",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatFormat:
    """How prompts are rendered: a template override and the template's keyword arguments.

    Attributes:
        template: the Jinja text that replaces the tokenizer's own (None: the tokenizer's).
        kwargs: extra variables for the template, e.g. ``{"enable_thinking": False}`` (Qwen3).
    """

    template: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """One request rendered for the model.

    Attributes:
        text: the chat-rendered prompt, the request's prefix appended.
        thinking_prefilled: the text opens ``<think>`` without closing it: the response starts
            inside the thinking.
    """

    text: str
    thinking_prefilled: bool


def load_chat_template(value: str | None) -> str | None:
    """The ``chat_template`` option: a ``.jinja`` file's text, or Jinja text given inline.

    Raises:
        BackendUnavailableError: neither an existing file nor template text.
    """
    if value is None:
        return None
    if "{{" in value or "{%" in value:
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise BackendUnavailableError(
            f"chat_template={value!r} is neither a file nor Jinja template text; pass "
            "--mathif-engine-arg chat_template=path/to/template.jinja"
        )
    return path.read_text(encoding="utf-8")


def render(tokenizer: Any, request: GenerationRequest, chat: ChatFormat) -> Rendered:
    """Render ``request`` with the chat template, then append its prefix (an assistant turn begun).

    Raises:
        BackendError: the tokenizer has no chat template and none was given.
    """
    if chat.template is None and not getattr(tokenizer, "chat_template", None):
        raise BackendError(
            "the tokenizer has no chat template; MathIF renders each prompt as one user turn "
            "with the model's chat template, so use a chat or instruct checkpoint, add "
            "chat_template.jinja to the checkpoint directory, or pass "
            "--mathif-engine-arg chat_template=path/to/template.jinja"
        )
    text: str = tokenizer.apply_chat_template(
        chat_messages(request.prompt),
        tokenize=False,
        add_generation_prompt=True,
        chat_template=chat.template,
        **dict(chat.kwargs),
    )
    text += request.prefix
    # only what follows the user's message decides it (the prompt itself may mention the tags)
    at = text.rfind(request.prompt) if request.prompt else -1
    tail = text[at + len(request.prompt) :] if at >= 0 else text
    return Rendered(text=text, thinking_prefilled=opens_thinking(tail))


def opens_thinking(text: str) -> bool:
    """Whether ``text`` opens ``<think>`` and does not close it afterwards."""
    return text.rfind(THINK_OPEN) > text.rfind(THINK_CLOSE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ThinkTags:
    """The think tags a tokenizer treats as special tokens (deleted by ``skip_special_tokens``).

    Attributes:
        kept: token id → text of each think tag that is a special token.
        dropped: token id → text of every other special token (what skipping deletes).
    """

    kept: Mapping[int, str]
    dropped: Mapping[int, str]

    @classmethod
    def of(cls, tokenizer: Any) -> ThinkTags:
        """Inspect ``tokenizer``: a tag is kept when decoding it alone with skipping empties it.

        Raises:
            BackendError: a think tag is special but the tokenizer does not list its special
                tokens, so they cannot be told apart (decoding would lose the tag).
        """
        kept: dict[int, str] = {}
        for tag in (THINK_OPEN, THINK_CLOSE):
            ids = tokenizer.encode(tag, add_special_tokens=False)
            if len(ids) == 1 and tokenizer.decode(ids, skip_special_tokens=True) == "":
                kept[ids[0]] = tag
        if not kept:
            return cls(kept={}, dropped={})
        decoder = getattr(tokenizer, "added_tokens_decoder", None)
        if not isinstance(decoder, Mapping):
            raise BackendError(
                f"the tokenizer registers {', '.join(kept.values())} as special tokens but does "
                "not list its added tokens (added_tokens_decoder), so decoding cannot keep the "
                "think tags; use a fast tokenizer (tokenizer.json)"
            )
        specials = {i: str(t) for i, t in decoder.items() if getattr(t, "special", False)}
        named = dict(zip(tokenizer.all_special_ids, tokenizer.all_special_tokens, strict=False))
        dropped = {i: t for i, t in {**specials, **named}.items() if i not in kept}
        return cls(kept=kept, dropped=dropped)

    def decode(self, tokenizer: Any, ids: Sequence[int]) -> str:
        """Decode ``ids`` like ``skip_special_tokens=True``, except that think tags survive."""
        if not self.kept:
            text: str = tokenizer.decode(list(ids), skip_special_tokens=True)
            return text
        wanted = [token for token in ids if token not in self.dropped]
        decoded: str = tokenizer.decode(wanted, skip_special_tokens=False)
        return decoded

    def strip(self, text: str) -> str:
        """Remove the other special tokens from text decoded without skipping (vLLM's)."""
        for token in self.dropped.values():
            text = text.replace(token, "")
        return text


def thinking_token_count(tokenizer: Any, ids: Sequence[int], text: str, *, prefilled: bool) -> int:
    """Tokens of a response up to and including ``</think>``; all when the thinking never closed.

    0 for a response with no thinking at all. Exact when ``</think>`` is one token, else the
    thinking part is re-tokenised.
    """
    if THINK_CLOSE not in text:
        return len(ids) if prefilled or THINK_OPEN in text else 0
    close = tokenizer.encode(THINK_CLOSE, add_special_tokens=False)
    if len(close) == 1 and close[0] in ids:
        return list(ids).index(close[0]) + 1
    head = text[: text.index(THINK_CLOSE) + len(THINK_CLOSE)]
    return len(tokenizer.encode(head, add_special_tokens=False))
