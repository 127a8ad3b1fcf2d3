"""The records that cross the backend boundary: what to generate, how, and what came back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Generation", "GenerationRequest", "SamplingSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SamplingSettings:
    """The one sampling definition of a run, sent explicitly by every backend (servers included).

    Official defaults: T=1, top-p 0.95, 16,384 new tokens, and nothing else (top-k, min-p and the
    repetition penalty off), whatever a checkpoint's ``generation_config.json`` says.

    Attributes:
        temperature: sampling temperature (0 means greedy).
        top_p: nucleus sampling mass.
        max_tokens: maximum new tokens per response.
        seed: base seed; each request gets its own seed derived from it (None: unseeded).
        top_k: keep the k most likely tokens (0: off).
        min_p: drop tokens below this share of the most likely one's probability (0: off).
        repetition_penalty: penalise tokens already in the prompt or response (1: off).
        stop: strings that end a response (not included in it).
    """

    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None
    top_k: int = 0
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    stop: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Every parameter, JSON-ready (the report header and results metadata)."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repetition_penalty": self.repetition_penalty,
            "stop": list(self.stop),
        }

    def key_dict(self) -> dict[str, Any]:
        """The parameters that key stored responses.

        Those added after the first release are left out while they are off, so responses
        stored before they existed (sampled with them off) are still found.
        """
        later = {"top_k": 0, "min_p": 0.0, "repetition_penalty": 1.0, "stop": []}
        return {k: v for k, v in self.to_dict().items() if later.get(k, object()) != v}


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationRequest:
    """One response to produce.

    Attributes:
        key: the store key (sha256 of backend, model fingerprint, sampling, prompt, sample index).
        uid: the sample's uid.
        sample: which response to this prompt (0-based).
        prompt: the user-turn text (the backend applies the model's chat template).
        seed: this request's own seed (None: unseeded).
        prefix: the start of the assistant's turn, already written: the backend renders the
            prompt with the chat template, appends ``prefix`` and lets the model continue it
            (the stages of an intervention); the response text is the continuation only.
        constrained: the prompt carries the sample's constraints (``False``: the paper's "w/o
            constraints" prompt); the replay backend answers each variant from its own lines.
        stop: this request's stop strings, replacing the run's ``sampling.stop`` (None: the
            run's); an intervention stage stops at ``</think>`` this way.
        max_tokens: this request's budget, replacing the run's ``sampling.max_tokens`` (None:
            the run's); an intervention stage gets what the earlier stages left.
    """

    key: str
    uid: str
    sample: int
    prompt: str
    seed: int | None
    prefix: str = ""
    constrained: bool = True
    stop: tuple[str, ...] | None = None
    max_tokens: int | None = None

    def stop_strings(self, sampling: SamplingSettings) -> tuple[str, ...]:
        """The stop strings in force: this request's own, else the run's."""
        return sampling.stop if self.stop is None else self.stop

    def budget(self, sampling: SamplingSettings) -> int:
        """The new-token budget in force: this request's own, else the run's ``max_tokens``."""
        return sampling.max_tokens if self.max_tokens is None else self.max_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class Generation:
    """What a backend produced for one request.

    Attributes:
        key: the request's key.
        text: the generated text ("" when ``error`` is set).
        finish_reason: ``stop``, ``length`` (hit max_tokens), or the backend's own word.
        prompt_tokens: tokens in the rendered prompt, when known.
        completion_tokens: tokens generated, when known.
        seconds: wall time attributed to this request (batch time shared equally for batches).
        error: set when this one request failed (the rest of the run goes on).
        thinking_prefilled: the rendered prompt already opened the thinking (a chat template that
            ends with ``<think>``, as R1-distill, QwQ and Qwen3 do): ``text`` starts inside it.
        thinking_tokens: tokens of ``text`` up to and including ``</think>`` (all of them when
            the thinking never closed; None when unknown).
        extra: what else the backend did to this response (a clamped ``max_tokens``, the stages
            of an intervention...), JSON-ready; stored with the response.
        stopped_at: the stop string that ended the response (None: the model's end token, the
            budget, or a server that does not say); interventions watch for ``</think>``.
    """

    key: str
    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seconds: float | None = None
    error: str | None = None
    thinking_prefilled: bool = False
    thinking_tokens: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    stopped_at: str | None = None
