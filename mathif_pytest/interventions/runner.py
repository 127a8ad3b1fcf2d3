"""Run intervened responses in rounds: every response's next stage in one backend call.

Each stage's response is stored under its own key (the prompt, sample, prefix, stop strings and
budget) the moment it arrives, so an interrupted run resumes at the stage it reached; stages
found in the store are not generated again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from mathif_pytest.backends import Backend, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.interventions.spec import Intervention
from mathif_pytest.interventions.stages import (
    StageAsk,
    StagedResponse,
    advance,
    final_generation,
    start,
)
from mathif_pytest.store import ResponseStore, StoreMeta

__all__ = ["StageRunner", "StagedJob", "stage_seed"]

#: The store key of a stage: (the response's request, the stage) -> key.
StageKey = Callable[[GenerationRequest, StageAsk], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedJob:
    """One response to produce under an intervention.

    Attributes:
        request: the response's request (its key is the response's key).
        constraints: the prompt's constraint text, joined as in the prompt.
    """

    request: GenerationRequest
    constraints: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StageRunner:
    """Runs :class:`StagedJob` through a backend, stage by stage, storing every stage.

    Attributes:
        intervention: what is done to every response.
        sampling: the run's sampling (``max_tokens`` bounds the stages together).
        stage_key: the store key of a stage.
        store: where stages are looked up and stored.
        meta: what the store records beside each stage.
        note: told one line per round after the first (progress).
    """

    intervention: Intervention
    sampling: SamplingSettings
    stage_key: StageKey
    store: ResponseStore
    meta: StoreMeta
    note: Callable[[str], None] | None = None

    def run(self, jobs: Sequence[StagedJob], backend: Backend) -> Iterator[Generation]:
        """Yield each job's final response (or its error) as soon as its last stage is done."""
        active: dict[str, tuple[StagedJob, StagedResponse, StageAsk]] = {}
        for job in jobs:
            state = start(self.intervention, job.constraints, self.sampling)
            if state.ask is not None:
                active[job.request.key] = (job, state, state.ask)
        while active:
            asks = {key: self._request(job, ask) for key, (job, _, ask) in active.items()}
            results = self._round(list(asks.values()), backend, len(active))
            following: dict[str, tuple[StagedJob, StagedResponse, StageAsk]] = {}
            for key, (job, state, _) in active.items():
                generation = results.get(asks[key].key)
                if generation is None or generation.error is not None:
                    yield Generation(key=key, text="", error=_stage_error(asks[key], generation))
                    continue
                state = advance(state, generation)
                if state.ask is None:
                    yield final_generation(state, key)
                else:
                    following[key] = (job, state, state.ask)
            active = following

    def _request(self, job: StagedJob, ask: StageAsk) -> GenerationRequest:
        request = job.request
        return replace(
            request,
            key=self.stage_key(request, ask),
            seed=stage_seed(request.seed, ask.index),
            prefix=ask.prefix,
            stop=ask.stop,
            max_tokens=ask.max_tokens,
        )

    def _round(
        self, asks: list[GenerationRequest], backend: Backend, active: int
    ) -> Mapping[str, Generation]:
        """This round's stage responses: from the store, else generated (and stored) now."""
        results = dict(self.store.get_many(r.key for r in asks))
        missing = {r.key: r for r in asks if r.key not in results}
        if self.note is not None and any(r.prefix for r in asks):
            self.note(
                f"mathif intervention {self.intervention.label}: {active} responses go on to "
                f"their next stage, {len(missing)} to generate"
            )
        if not missing:
            return results
        for generation in backend.generate(list(missing.values())):
            request = missing.get(generation.key)
            if request is not None and generation.error is None:
                generation = replace(generation, extra={**generation.extra, **_stage(request)})
                self.store.put(request, generation, self.meta)
            results[generation.key] = generation
        return results


def stage_seed(seed: int | None, index: int) -> int | None:
    """A stage's own seed: the response's for the first stage, then one derived per stage.

    The first stage samples exactly as the plain response would (same prompt, same seed), so an
    intervention and the plain run share their start; later stages get fresh random streams
    (reusing the seed would replay the first stage's random draws).
    """
    if seed is None or index == 0:
        return seed
    digest = hashlib.sha256(json.dumps([seed, index]).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _stage(request: GenerationRequest) -> dict[str, object]:
    """What a stored stage row records about itself (beside the text it generated)."""
    stop = None if request.stop is None else list(request.stop)
    return {"stage": {"prefix_chars": len(request.prefix), "stop": stop}}


def _stage_error(ask: GenerationRequest, generation: Generation | None) -> str:
    where = "the first stage" if not ask.prefix else "a later stage"
    if generation is None:
        return f"{ask.uid}: the backend returned nothing for {where} of the intervention"
    return f"{ask.uid}: {where} of the intervention failed: {generation.error}"
