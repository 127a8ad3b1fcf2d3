"""Score responses: split off the thinking, check every constraint, grade the final answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.constraints import check_response
from mathif_pytest.dataset import Sample
from mathif_pytest.grading import Grade, Grader, ResponseParts, split_response
from mathif_pytest.protocol import Deviations
from mathif_pytest.results import CaseResult
from mathif_pytest.token_counts import TokenCounts, response_lengths

__all__ = ["ScoringConfig", "ScoringItem", "score_items", "split_items"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringConfig:
    """How responses are scored.

    Attributes:
        deviations: opt-in fixes of official behaviour (all off reproduces the official scorer).
        constrained: score the constraints (``False`` for "w/o constraints" runs: correctness only).
        grading_timeout: seconds allowed per answer grading; past it the answer is UNGRADABLE.
        jobs: grading worker processes.
    """

    deviations: Deviations = field(default_factory=Deviations)
    constrained: bool = True
    grading_timeout: float = 5.0
    jobs: int = 1


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
    grader: Grader | None = None,
    parts: Sequence[ResponseParts] | None = None,
) -> list[CaseResult]:
    """Score responses, in order.

    Args:
        items: the responses.
        config: scoring settings.
        grader: a grader to reuse (its worker processes stay up); by default one is made for
            this call and shut down after it.
        parts: the responses already split by :func:`split_items` (split here otherwise).

    Returns:
        One :class:`CaseResult` per item, in the same order.
    """
    parts = split_items(items, config) if parts is None else parts
    pairs = [(item.sample.answer, p.answer) for item, p in zip(items, parts, strict=True)]
    if grader is None:
        with _make_grader(config) as own:
            grades = own.grade_many(pairs)
    else:
        grades = grader.grade_many(pairs)
    return [_result(item, p, g, config) for item, p, g in zip(items, parts, grades, strict=True)]


def _make_grader(config: ScoringConfig) -> Grader:
    return Grader(deviations=config.deviations, timeout=config.grading_timeout, jobs=config.jobs)


def _result(
    item: ScoringItem, parts: ResponseParts, grade: Grade, config: ScoringConfig
) -> CaseResult:
    sample = item.sample
    verdicts = (
        check_response([c.checker for c in sample.constraints], parts.answer)
        if config.constrained
        else ()
    )
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
