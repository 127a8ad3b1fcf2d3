"""Score responses: split off the thinking, check every constraint, grade the final answer.

Scoring runs in worker processes (:class:`ScoringPool`), ``jobs`` of them, on chunks of
responses; each response's checks and each answer's sympy steps run under a wall-clock bound
there. Results come back in input order and do not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.constraints import Verdict
from mathif_pytest.dataset import Sample
from mathif_pytest.grading import Grade, ResponseParts, split_response
from mathif_pytest.protocol import Deviations
from mathif_pytest.results import CaseResult
from mathif_pytest.scoring._pool import ScoringPool
from mathif_pytest.scoring._tasks import Task, WorkerSettings
from mathif_pytest.token_counts import TokenCounts, response_lengths

__all__ = ["ScoringConfig", "ScoringItem", "ScoringPool", "score_items", "split_items"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringConfig:
    """How responses are scored.

    Attributes:
        deviations: opt-in fixes of official behaviour (all off reproduces the official scorer).
        constrained: score the constraints (``False`` for "w/o constraints" runs: correctness only).
        grading_timeout: seconds allowed per answer grading; past it the answer is UNGRADABLE.
        jobs: scoring worker processes (when :func:`score_items` makes its own pool).
        check_timeout: seconds allowed for all the constraint checks of one response; past it
            the unfinished checks count as not followed (model output is untrusted).
    """

    deviations: Deviations = field(default_factory=Deviations)
    constrained: bool = True
    grading_timeout: float = 5.0
    jobs: int = 1
    check_timeout: float = 10.0

    @property
    def worker_settings(self) -> WorkerSettings:
        """What the workers need to know of this configuration."""
        return WorkerSettings(self.deviations, self.grading_timeout, self.check_timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringItem:
    """One response to score: the sample, which sample of that prompt, the raw text.

    ``thinking_prefilled``: the chat template opened ``<think>`` before the response started.
    ``token_counts``: what the backend counted (None: estimated from the text).
    ``intervention``: the record of an intervention on this response (None: none).
    """

    sample: Sample
    index: int
    text: str
    finish_reason: str | None = None
    thinking_prefilled: bool = False
    token_counts: TokenCounts | None = None
    intervention: Mapping[str, Any] | None = None


def split_items(items: Sequence[ScoringItem], config: ScoringConfig) -> list[ResponseParts]:
    """Each response split into thinking and the answer segment that is checked and graded."""
    fails_unclosed = config.deviations.unclosed_thinking_fails
    return [
        split_response(
            item.text,
            unclosed_thinking_fails=fails_unclosed,
            thinking_prefilled=item.thinking_prefilled,
        )
        for item in items
    ]


def score_items(
    items: Sequence[ScoringItem],
    config: ScoringConfig,
    pool: ScoringPool | None = None,
    parts: Sequence[ResponseParts] | None = None,
) -> list[CaseResult]:
    """Score responses, in order.

    Args:
        items: the responses.
        config: scoring settings.
        pool: worker processes to reuse (they stay up); by default a pool of ``config.jobs``
            workers is made for this call and shut down after it.
        parts: the responses already split by :func:`split_items` (split here otherwise).

    Returns:
        One :class:`CaseResult` per item, in the same order, whatever the number of workers.
    """
    parts = split_items(items, config) if parts is None else parts
    tasks = [
        Task(
            checkers=tuple(c.checker for c in item.sample.constraints),
            answer=p.answer,
            reference=item.sample.answer,
            constrained=config.constrained,
        )
        for item, p in zip(items, parts, strict=True)
    ]
    if pool is None:
        with ScoringPool(max(1, min(config.jobs, len(tasks)))) as own:
            outcomes = own.score(tasks, config.worker_settings)
    else:
        outcomes = pool.score(tasks, config.worker_settings)
    return [
        _result(item, p, verdicts, grade, config)
        for item, p, (verdicts, grade) in zip(items, parts, outcomes, strict=True)
    ]


def _result(
    item: ScoringItem,
    parts: ResponseParts,
    verdicts: tuple[Verdict, ...],
    grade: Grade,
    config: ScoringConfig,
) -> CaseResult:
    sample = item.sample
    lengths = response_lengths(item.token_counts, parts.thinking, _after_thinking(parts))
    return CaseResult(
        uid=sample.uid,
        sample=item.index,
        source=sample.source,
        level=sample.level,
        constraint_ids=sample.constraint_ids,
        verdicts=verdicts,
        grade=grade,
        constrained=config.constrained,
        think_opened=parts.think_opened,
        think_closed=parts.think_closed,
        finish_reason=item.finish_reason,
        thinking_tokens=lengths.thinking_tokens,
        answer_tokens=lengths.answer_tokens,
        length_source=lengths.source,
        intervention=item.intervention,
    )


def _after_thinking(parts: ResponseParts) -> str:
    """The text after the thinking (all of it without think tags; none while still thinking)."""
    if parts.think_closed:
        return parts.raw.partition("</think>")[2]
    return "" if parts.think_opened else parts.raw
