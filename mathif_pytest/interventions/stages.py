"""The stages of one intervened response: what to ask next, and what to insert between stages.

Pure: a :class:`StagedResponse` is advanced with each stage's :class:`Generation` and says what
the next stage asks (a prefix to continue, stop strings, a budget) until it is done; then
:func:`final_generation` joins the stages into the one response that is scored. Every stage stops
at ``</think>`` while the intervention still watches the thinking; the model's stop there is what
"the model tried to close its thinking" means (``Generation.stopped_at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mathif_pytest.backends import Generation, SamplingSettings
from mathif_pytest.backends._chat import THINK_OPEN, opens_thinking
from mathif_pytest.interventions.spec import (
    CLOSE_INSERT,
    THINK_CLOSE,
    WAIT,
    Intervention,
    reminder_text,
)
from mathif_pytest.token_counts import approximate_tokens

__all__ = ["StageAsk", "StagedResponse", "advance", "final_generation", "start"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StageAsk:
    """The next generation a staged response needs.

    Attributes:
        index: 0 for the first stage.
        prefix: the assistant's text so far (earlier stages and insertions), to be continued.
        stop: this stage's stop strings (None: the run's).
        max_tokens: this stage's budget.
    """

    index: int
    prefix: str
    stop: tuple[str, ...] | None
    max_tokens: int

    def variant(self) -> dict[str, Any]:
        """What keys this stage's response in the store, besides the prompt and sample."""
        stop = None if self.stop is None else list(self.stop)
        return {
            "stage": {
                "index": self.index,
                "prefix": self.prefix,
                "stop": stop,
                "max_tokens": self.max_tokens,
            }
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Next:
    action: str
    insert: str = ""
    watch: bool = False  # the next stage still stops at </think>
    done: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedResponse:
    """One response under an intervention, between stages.

    Attributes:
        intervention: what is done.
        constraints: the prompt's constraint text (``repeat_constraints`` repeats it).
        sampling: the run's sampling (its ``max_tokens`` bounds all stages together).
        text: the assistant's text so far: generated and inserted.
        used: tokens generated so far.
        waits: ``Wait`` inserted so far.
        stages: one record per finished stage.
        inserted: ``{"at", "text"}`` per insertion (``at``: its offset in ``text``).
        generations: each finished stage's generation.
        ask: the next stage (None: done).
    """

    intervention: Intervention
    constraints: str
    sampling: SamplingSettings
    text: str = ""
    used: int = 0
    waits: int = 0
    stages: tuple[Mapping[str, Any], ...] = ()
    inserted: tuple[Mapping[str, Any], ...] = ()
    generations: tuple[Generation, ...] = ()
    ask: StageAsk | None = None


def start(
    intervention: Intervention, constraints: str, sampling: SamplingSettings
) -> StagedResponse:
    """A response before its first stage (``ask`` is the first stage)."""
    budget = sampling.max_tokens
    if intervention.kind == "thinking_budget" and intervention.value is not None:
        budget = min(budget, intervention.value)
    state = StagedResponse(intervention=intervention, constraints=constraints, sampling=sampling)
    return replace(
        state, ask=StageAsk(index=0, prefix="", stop=_watching(sampling), max_tokens=budget)
    )


def advance(state: StagedResponse, generation: Generation) -> StagedResponse:
    """Take the current stage's generation; decide what to insert and whether to go on."""
    ask = state.ask
    if ask is None:
        raise ValueError("advance() on a finished response")
    used = state.used + _tokens(generation)
    text = state.text + generation.text
    decided = _decide(state, generation, ask, used)
    record = {
        "stage": ask.index,
        "start": len(state.text),
        "end": len(text),
        "tokens": _tokens(generation),
        "max_tokens": ask.max_tokens,
        "finish_reason": generation.finish_reason,
        "stopped_at": generation.stopped_at,
        "then": decided.action,
    }
    inserted = state.inserted
    if decided.insert:
        inserted = (*inserted, {"at": len(text), "text": decided.insert})
    return replace(
        state,
        text=text + decided.insert,
        used=used,
        waits=state.waits + (decided.insert == WAIT),
        stages=(*state.stages, record),
        inserted=inserted,
        generations=(*state.generations, generation),
        ask=None if decided.done else _next_ask(state, ask, decided, text + decided.insert, used),
    )


def _next_ask(
    state: StagedResponse, ask: StageAsk, decided: _Next, text: str, used: int
) -> StageAsk:
    stop = _watching(state.sampling) if decided.watch else None
    budget = state.sampling.max_tokens - used
    return StageAsk(index=ask.index + 1, prefix=text, stop=stop, max_tokens=budget)


def _decide(state: StagedResponse, generation: Generation, ask: StageAsk, used: int) -> _Next:
    """What follows this stage: the kind's rule, once the common endings are ruled out."""
    watching = ask.stop is not None
    if not watching:
        return _Next(action="the answer stage ended", done=True)
    closing = generation.stopped_at == THINK_CLOSE
    if state.sampling.max_tokens - used < 1 and (closing or generation.finish_reason == "length"):
        return _Next(action="no budget left", done=True)
    kind = state.intervention.kind
    if kind == "repeat_constraints":
        return _repeat(state, closing)
    if kind == "budget_forcing":
        return _forcing(state, closing)
    return _budget(generation, closing, ask)


def _repeat(state: StagedResponse, closing: bool) -> _Next:
    if not closing:
        return _Next(action="the thinking never closed: nothing inserted", done=True)
    return _Next(
        insert=reminder_text(state.constraints),
        action="the reminder replaced </think>; the model continues",
    )


def _forcing(state: StagedResponse, closing: bool) -> _Next:
    if not closing:
        return _Next(action="the thinking never closed: nothing inserted", done=True)
    if state.waits < (state.intervention.value or 0):
        return _Next(insert=WAIT, watch=True, action=f"Wait #{state.waits + 1} replaced </think>")
    return _Next(insert=THINK_CLOSE, action="</think> kept; the model answers")


def _budget(generation: Generation, closing: bool, ask: StageAsk) -> _Next:
    if closing:
        return _Next(insert=THINK_CLOSE, action="closed by the model within budget")
    if generation.finish_reason != "length":
        return _Next(action="the response ended within the budget", done=True)
    head = (THINK_OPEN if generation.thinking_prefilled else "") + ask.prefix + generation.text
    if not opens_thinking(head):
        return _Next(action="no open thinking at the budget: continued as it was")
    return _Next(insert=CLOSE_INSERT, action="thinking cut at the budget")


def _watching(sampling: SamplingSettings) -> tuple[str, ...]:
    """A thinking stage's stop strings: ``</think>`` and the run's own."""
    return (THINK_CLOSE, *(s for s in sampling.stop if s != THINK_CLOSE))


def _tokens(generation: Generation) -> int:
    if generation.completion_tokens is not None:
        return generation.completion_tokens
    return approximate_tokens(generation.text)


def final_generation(state: StagedResponse, key: str) -> Generation:
    """The stages joined into the response that is scored, with the record of what was done.

    Token counts are the model's generated tokens summed over the stages (inserted text is not
    counted); None when a stage did not know its count.
    """
    gens = state.generations
    first, last = gens[0], gens[-1]
    record = {
        **state.intervention.to_dict(),
        "stages": [dict(s) for s in state.stages],
        "inserted": [dict(i) for i in state.inserted],
        "waits": state.waits,
    }
    return Generation(
        key=key,
        text=state.text,
        finish_reason=last.finish_reason,
        prompt_tokens=first.prompt_tokens,
        completion_tokens=_total([g.completion_tokens for g in gens]),
        seconds=sum(g.seconds or 0.0 for g in gens),
        thinking_prefilled=first.thinking_prefilled,
        thinking_tokens=_total([g.thinking_tokens for g in gens]),
        extra={"intervention": record},
    )


def _total(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v or 0 for v in values)
