"""The samples whose outcome changed between two runs: followed <-> violated, correct <-> wrong."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mathif_pytest.results import CaseResult

__all__ = ["FLIP_KINDS", "Flip", "count_flips", "find_flips", "flips_by_constraint"]

#: The flip kinds, in display order.
FLIP_KINDS = (
    "followed_to_violated",
    "violated_to_followed",
    "correct_to_wrong",
    "wrong_to_correct",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flip:
    """One sample whose hard verdict or correctness differs between baseline and candidate.

    Attributes:
        uid: the prompt.
        sample: the sample index (samples are paired by index: with several samples per prompt a
            flip says that draw ``sample`` changed, not that the prompt's rate did).
        source: the prompt's source.
        level: ``single`` / ``double`` / ``triple``.
        kind: one of :data:`FLIP_KINDS`.
        constraint_ids: the prompt's constraint types.
        changed: for constraint flips, the constraint types whose verdict changed in that
            direction (the ones the candidate broke, or newly follows); empty for answer flips.
        detail: a sentence, e.g. the candidate's reason for the violation or the two answers.
    """

    uid: str
    sample: int
    source: str
    level: str
    kind: str
    constraint_ids: tuple[str, ...]
    changed: tuple[str, ...]
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return {
            "uid": self.uid,
            "sample": self.sample,
            "source": self.source,
            "level": self.level,
            "kind": self.kind,
            "constraint_ids": list(self.constraint_ids),
            "changed": list(self.changed),
            "detail": self.detail,
        }


def find_flips(pairs: Iterable[tuple[CaseResult, CaseResult]]) -> tuple[Flip, ...]:
    """Every flip among (baseline, candidate) pairs of the same sample, constraint flips first."""
    flips: list[Flip] = []
    for base, cand in pairs:
        if base.constrained and cand.constrained and base.hard != cand.hard:
            flips.append(_constraint_flip(base, cand))
        if base.correct != cand.correct:
            flips.append(_answer_flip(base, cand))
    return tuple(sorted(flips, key=lambda f: (FLIP_KINDS.index(f.kind), f.uid, f.sample)))


def _constraint_flip(base: CaseResult, cand: CaseResult) -> Flip:
    broke = bool(base.hard)
    pairs = list(zip(base.verdicts, cand.verdicts, strict=False))
    moved = [(b, c) for b, c in pairs if b.followed == broke and c.followed != broke]
    changed = tuple(dict.fromkeys(c.constraint_id for _, c in moved))
    detail = "; ".join(f"{c.constraint_id}: {(c if broke else b).detail}" for b, c in moved)
    return _flip(cand, "followed_to_violated" if broke else "violated_to_followed", changed, detail)


def _answer_flip(base: CaseResult, cand: CaseResult) -> Flip:
    kind = "correct_to_wrong" if base.correct else "wrong_to_correct"
    detail = (
        f"extracted {base.grade.extracted!r} -> {cand.grade.extracted!r} "
        f"(reference {cand.grade.reference!r})"
    )
    return _flip(cand, kind, (), detail)


def _flip(case: CaseResult, kind: str, changed: tuple[str, ...], detail: str) -> Flip:
    return Flip(
        uid=case.uid,
        sample=case.sample,
        source=case.source,
        level=case.level,
        kind=kind,
        constraint_ids=case.constraint_ids,
        changed=changed,
        detail=detail,
    )


def count_flips(flips: Iterable[Flip]) -> dict[str, int]:
    """The number of flips of each kind (every kind present, 0 when none)."""
    counts = Counter(f.kind for f in flips)
    return {kind: counts[kind] for kind in FLIP_KINDS}


def flips_by_constraint(flips: Iterable[Flip]) -> dict[str, dict[str, int]]:
    """Per constraint type: how many samples broke it (followed_to_violated) or newly follow it."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for flip in flips:
        for cid in flip.changed:
            table[cid][flip.kind] += 1
    return {cid: {kind: table[cid][kind] for kind in FLIP_KINDS[:2]} for cid in sorted(table)}
