"""The scored outcome of one response to one sample, and its JSON form (reports, baselines)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.grading import AnswerGrade, Grade
from mathif_pytest.token_counts import LENGTH_SOURCES

__all__ = ["CaseResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    """One (sample, response) pair, scored.

    Attributes:
        uid: the sample's uid (``gsm8k_double-3``).
        sample: which response to that prompt this is (0-based; several with ``--mathif-samples``).
        source: the sample's source (``gsm8k``…).
        level: ``single`` / ``double`` / ``triple``.
        constraint_ids: the sample's constraint ids in data order.
        verdicts: one per constraint, in the same order; empty when scored without constraints.
        grade: the answer grade.
        constrained: whether constraints were part of the prompt and scored (``False`` for the
            paper's "w/o constraints" runs, which measure correctness only).
        think_opened: the response contains ``<think>``.
        think_closed: the response contains ``</think>``.
        finish_reason: the backend's finish reason (``stop``, ``length``…) when known.
        thinking_tokens: tokens of the thinking (0 without any; None in documents written
            before lengths were recorded).
        answer_tokens: tokens after the thinking.
        length_source: where both counts came from: ``tokenizer``, ``server``, ``backend``
            or ``approximate`` (see :mod:`mathif_pytest.token_counts`).
        intervention: what an intervention did to this response (kind, stages, inserted
            text and where), None without one.
    """

    uid: str
    sample: int
    source: str
    level: str
    constraint_ids: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    grade: Grade
    constrained: bool = True
    think_opened: bool = False
    think_closed: bool = False
    finish_reason: str | None = None
    thinking_tokens: int | None = None
    answer_tokens: int | None = None
    length_source: str | None = None
    intervention: Mapping[str, Any] | None = None

    @property
    def follow(self) -> tuple[bool, ...]:
        """Per-constraint followed flags, in constraint order."""
        return tuple(v.followed for v in self.verdicts)

    @property
    def hard(self) -> bool | None:
        """All constraints followed (``None`` when scored without constraints)."""
        return all(self.follow) if self.constrained else None

    @property
    def soft(self) -> float | None:
        """Share of constraints followed (``None`` when scored without constraints)."""
        if not self.constrained or not self.verdicts:
            return None
        return sum(self.follow) / len(self.verdicts)

    @property
    def correct(self) -> bool:
        """The final answer is right. An ungradable answer counts as not correct (official rule)."""
        return self.grade.outcome is AnswerGrade.CORRECT

    @property
    def violations(self) -> tuple[Verdict, ...]:
        """The verdicts of the constraints that were not followed."""
        return tuple(v for v in self.verdicts if not v.followed)

    def explain(self) -> str:
        """A failure message: each violated constraint with its reason, then a wrong answer."""
        lines = [f"{v.constraint_id}: {v.detail}" for v in self.violations]
        if not self.correct:
            extracted = "(none)" if self.grade.extracted is None else repr(self.grade.extracted)
            lines.append(
                f"answer {self.grade.outcome.value}: extracted {extracted}, "
                f"expected {self.grade.reference!r} ({self.grade.detail})"
            )
        if not lines:
            return "all constraints followed and the answer is correct"
        if self.finish_reason == "length":
            lines.append("note: generation truncated (finish_reason 'length'); raise max tokens")
        if self.think_opened and not self.think_closed:
            lines.append("note: thinking never closed (no </think>): the reasoning was scored too")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return {
            "uid": self.uid,
            "sample": self.sample,
            "source": self.source,
            "level": self.level,
            "constraint_ids": list(self.constraint_ids),
            "follow": list(self.follow),
            "details": [v.detail for v in self.verdicts],
            "hard": self.hard,
            "soft": self.soft,
            "correct": self.correct,
            "grade": self.grade.outcome.value,
            "extracted": self.grade.extracted,
            "reference": self.grade.reference,
            "grade_detail": self.grade.detail,
            "constrained": self.constrained,
            "think_opened": self.think_opened,
            "think_closed": self.think_closed,
            "finish_reason": self.finish_reason,
            "thinking_tokens": self.thinking_tokens,
            "answer_tokens": self.answer_tokens,
            "length_source": self.length_source,
            "intervention": None if self.intervention is None else dict(self.intervention),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseResult:
        """Rebuild a result written by :meth:`to_dict`.

        Raises:
            KeyError, ValueError: the mapping is not a :meth:`to_dict` output.
        """
        ids = tuple(data["constraint_ids"]) if data.get("constrained", True) else ()
        verdicts = tuple(
            Verdict(constraint_id=cid, followed=bool(ok), detail=str(detail))
            for cid, ok, detail in zip(ids, data["follow"], data["details"], strict=True)
        )
        grade = Grade(
            outcome=AnswerGrade(data["grade"]),
            extracted=data["extracted"],
            reference=data["reference"],
            detail=data["grade_detail"],
        )
        return cls(
            uid=data["uid"],
            sample=int(data["sample"]),
            source=data["source"],
            level=data["level"],
            constraint_ids=tuple(data["constraint_ids"]),
            verdicts=verdicts,
            grade=grade,
            constrained=bool(data.get("constrained", True)),
            think_opened=bool(data.get("think_opened", False)),
            think_closed=bool(data.get("think_closed", False)),
            finish_reason=data.get("finish_reason"),
            thinking_tokens=_count(data.get("thinking_tokens")),
            answer_tokens=_count(data.get("answer_tokens")),
            length_source=_source(data.get("length_source")),
            intervention=_mapping(data.get("intervention")),
        )


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"a token count must be a whole number >= 0 (got {value!r})")
    return value


def _source(value: Any) -> str | None:
    if value is not None and value not in LENGTH_SOURCES:
        raise ValueError(
            f"length_source must be one of {', '.join(LENGTH_SOURCES)} (got {value!r})"
        )
    return None if value is None else str(value)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    if value is not None and not isinstance(value, Mapping):
        raise ValueError(f"intervention must be an object or null (got {type(value).__name__})")
    return None if value is None else dict(value)
