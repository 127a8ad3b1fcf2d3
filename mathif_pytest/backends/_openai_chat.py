"""The chat-completions protocol: the request body we send, and a reply turned back into one text.

One definition for the openai backend and for batch files (``mathif export-requests`` /
``import-responses``), so that a served run and a batch run ask and read the same way.

Sampling is explicit: vLLM fills every field a request leaves unset from the checkpoint's
``generation_config.json`` (Qwen3 ships ``top_k=20``), so each one is sent, off values included.
``top_k`` off is sent as ``-1``, which every vLLM release and SGLang read as "off" (vLLM before
0.8 rejected 0). With ``generation_config=model`` the server's defaults are used instead: the
sampling fields are left out and only the budget (``max_tokens``), ``seed`` and ``stop`` are sent.

Reasoning servers (vLLM's ``--reasoning-parser``) split the thinking out as ``reasoning`` (vLLM
0.10 and later) or ``reasoning_content`` (earlier); the text is rebuilt as
``reasoning</think>content`` so that the MathIF post-processing sees what the raw output would
have been, and a response cut off inside its thinking (no content) is the reasoning alone. A
streamed reply is rebuilt from its deltas into exactly the message a non-streamed one carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.backends._types import Generation, GenerationRequest, SamplingSettings
from mathif_pytest.prompts import chat_messages

__all__ = ["ChatReply", "StreamedReply", "chat_body", "reply_from_completion", "sampling_fields"]

_THINK_END = "</think>"


def sampling_fields(sampling: SamplingSettings, *, explicit: bool = True) -> dict[str, Any]:
    """The sampling part of a request body (without ``max_tokens``, which is fitted per request).

    Args:
        sampling: the run's sampling settings.
        explicit: ``False`` leaves temperature, top-p, top-k, min-p and the repetition penalty to
            the server (its model's generation config); ``stop`` is sent either way.
    """
    fields: dict[str, Any] = {}
    if explicit:
        fields = {
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k or -1,
            "min_p": sampling.min_p,
            "repetition_penalty": sampling.repetition_penalty,
        }
    if sampling.stop:
        fields["stop"] = list(sampling.stop)
    return fields


def chat_body(
    request: GenerationRequest, model: str, sampling: Mapping[str, Any], max_tokens: int
) -> dict[str, Any]:
    """The ``/chat/completions`` body of one request (not streamed; the caller adds ``stream``).

    A request with a ``prefix`` continues that assistant turn: vLLM's ``continue_final_message``
    with ``add_generation_prompt`` off, and the reply is the continuation only. A request's own
    ``stop`` strings replace the run's.

    Args:
        request: what to generate.
        model: the served model name.
        sampling: :func:`sampling_fields`.
        max_tokens: the budget for this request (already fitted to the server's context).
    """
    messages: list[dict[str, str]] = chat_messages(request.prompt)
    body: dict[str, Any] = {"model": model, "messages": messages}
    if request.prefix:
        messages.append({"role": "assistant", "content": request.prefix})
        body.update(continue_final_message=True, add_generation_prompt=False)
    body.update(sampling)
    if request.stop is not None:
        body.pop("stop", None)
        if request.stop:
            body["stop"] = list(request.stop)
    body["max_tokens"] = max_tokens
    if request.seed is not None:
        body["seed"] = request.seed
    body["n"] = 1
    return body


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatReply:
    """One chat completion choice, as the server split it.

    Attributes:
        content: the answer (None: the response ended inside its thinking, or had no text).
        reasoning: the thinking the server's reasoning parser split out (None: no parser).
        finish_reason: ``stop``, ``length``, or the server's own word.
        prompt_tokens: from ``usage``, when reported.
        completion_tokens: from ``usage``, when reported.
        reasoning_tokens: ``usage.completion_tokens_details.reasoning_tokens``, when positive.
        stop_reason: the stop string that ended it, when the server says (vLLM's ``stop_reason``).
    """

    content: str | None
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    stop_reason: str | None = None

    def text(self) -> str:
        """``reasoning</think>content``, the reasoning alone, or the content alone."""
        if self.reasoning:
            return (
                self.reasoning
                if self.content is None
                else self.reasoning + _THINK_END + self.content
            )
        return self.content or ""

    def generation(
        self, key: str, seconds: float | None = None, extra: Mapping[str, Any] | None = None
    ) -> Generation:
        """This reply as the :class:`Generation` of the request ``key``.

        Its token counts are the server's (``extra["counted_by"] = "server"``), also when it
        reaches the store through a batch file.
        """
        return Generation(
            key=key,
            text=self.text(),
            finish_reason=self.finish_reason,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            seconds=seconds,
            thinking_tokens=self.reasoning_tokens,
            extra={**(extra or {}), "counted_by": "server"},
            stopped_at=self.stop_reason,
        )


def reply_from_completion(payload: Any) -> ChatReply:
    """Read a non-streamed ``chat.completion`` object.

    Raises:
        ValueError: it has no ``choices[0].message`` (the message names what is missing).
    """
    try:
        choice = payload["choices"][0]
        message = choice["message"]
    except (LookupError, TypeError):
        raise ValueError("no choices[0].message in the answer") from None
    if not isinstance(message, Mapping):
        raise ValueError("choices[0].message is not an object")
    return ChatReply(
        content=_text_or_none(message.get("content")),
        reasoning=_text_or_none(_reasoning(message)),
        finish_reason=choice.get("finish_reason"),
        stop_reason=_text_or_none(choice.get("stop_reason")),
        **_usage(payload.get("usage")),
    )


@dataclass(slots=True)
class StreamedReply:
    """Collects ``chat.completion.chunk`` events into the reply a non-streamed answer would be.

    Attributes:
        began: a delta with text has arrived (a broken stream after that is not retried).
    """

    began: bool = False
    _content: list[str] = field(default_factory=list)
    _reasoning: list[str] = field(default_factory=list)
    _finish: str | None = None
    _stop: str | None = None
    _usage: dict[str, int | None] = field(default_factory=dict)

    def add(self, event: Any) -> None:
        """Take one event: deltas, the finish reason, the final usage.

        Raises:
            ValueError: the event is an error the server sent inside the stream, or not a chunk.
        """
        if not isinstance(event, Mapping):
            raise ValueError(f"a stream event is not an object ({event!r:.80})")
        if "error" in event:
            error = event["error"]
            message = error.get("message") if isinstance(error, Mapping) else error
            raise ValueError(f"the server reported an error in the stream: {message}")
        if event.get("usage"):
            self._usage = _usage(event["usage"])
        for choice in event.get("choices") or ():
            self._add_choice(choice)

    def _add_choice(self, choice: Mapping[str, Any]) -> None:
        delta = choice.get("delta") or {}
        reasoning = _reasoning(delta)
        if reasoning:
            self._reasoning.append(reasoning)
        if delta.get("content"):
            self._content.append(delta["content"])
        self.began = self.began or bool(reasoning or delta.get("content"))
        if choice.get("finish_reason") is not None:
            self._finish = choice["finish_reason"]
            self._stop = _text_or_none(choice.get("stop_reason"))

    def reply(self) -> ChatReply:
        """The reply so far, as the non-streamed message would be.

        vLLM's first delta carries ``content: ""``: as in a non-streamed message, a reply without
        any content text has content None.
        """
        return ChatReply(
            content="".join(self._content) or None,
            reasoning="".join(self._reasoning) or None,
            finish_reason=self._finish,
            stop_reason=self._stop,
            **self._usage,
        )


def _reasoning(message: Mapping[str, Any]) -> Any:
    """``reasoning`` (vLLM 0.10+), else ``reasoning_content``: one of them, never both."""
    value = message.get("reasoning")
    return value if value is not None else message.get("reasoning_content")


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _usage(usage: Any) -> dict[str, int | None]:
    usage = usage if isinstance(usage, Mapping) else {}
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
    return {
        "prompt_tokens": _count(usage.get("prompt_tokens")),
        "completion_tokens": _count(usage.get("completion_tokens")),
        "reasoning_tokens": _count(reasoning) or None,
    }


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
