"""The MathIF failure taxonomy as Allure categories (``categories.json`` and the failure label).

Pure data and functions: no allure import, so tests and other reporters can use it freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mathif_pytest.case import MathIFCase
from mathif_pytest.compare.flips import Flip, find_flips
from mathif_pytest.constraints import EMPTY_RESPONSE_DETAIL, REGISTRY
from mathif_pytest.grading import AnswerGrade

__all__ = [
    "EMPTY_RESPONSE",
    "FAILURE_LABEL",
    "GENERATION_ERROR",
    "REGRESSED",
    "REGRESSED_ANSWER",
    "RUN_SUMMARY",
    "TRUNCATED",
    "UNCLOSED_THINKING",
    "UNGRADABLE",
    "WRONG_ANSWER",
    "Category",
    "categories",
    "failure_kinds",
    "regressed",
]

#: The label that names why a case failed, one per reason (its values are category names).
FAILURE_LABEL = "mathif_failure"


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """An Allure category: a failure reason and the failure messages that show it."""

    name: str
    message_regex: str
    description: str
    statuses: tuple[str, ...] = ("failed",)

    def to_json(self) -> dict[str, Any]:
        """The ``categories.json`` entry (Allure 2 keys, which Allure 3 also accepts)."""
        return {
            "name": self.name,
            "description": self.description,
            "messageRegex": self.message_regex,
            "matchedStatuses": list(self.statuses),
        }


# The regexes work both as Allure 2 reads them (a full match) and as Allure 3 does (a search):
# `[\s\S]*` spans the newlines of multi-line messages without needing a DOTALL flag.
_ANY = r"[\s\S]*"
GENERATION_ERROR = "Backend or generation error"
#: The prefix of the categories of samples that got worse since ``--mathif-baseline``.
REGRESSED = "Regressed: "
#: The category of answers that were right in the baseline and are wrong now.
REGRESSED_ANSWER = f"{REGRESSED}answer"
EMPTY_RESPONSE = "Empty response"
TRUNCATED = "Generation truncated (finish_reason length)"
UNCLOSED_THINKING = "Thinking never closed"
UNGRADABLE = "Ungradable answer"
WRONG_ANSWER = "Wrong answer"
_VIOLATED = "Constraint violated: "
#: The name of the run-level HTML attachment (the gate verdict, metrics, deltas and flips).
RUN_SUMMARY = "MathIF run summary"


def categories() -> list[Category]:
    """The failure taxonomy: regressions first, then root causes.

    Allure 3 files a failure under its first matching category.

    Messages are those :func:`~mathif_pytest.reporting.allure_case.failure_message` writes: one
    line per reason, each starting with the constraint type (``keywords:frequency: …``) or
    ``answer <outcome>: …``, a regression marked ``(regressed: …)``, and ``Failed: …`` for a case
    whose responses could not be generated. Truncation and unclosed thinking appear as ``note:``
    lines, and every reason is also a :data:`FAILURE_LABEL` label (see ``allurerc.mjs``).
    """
    empty_words = _literal(EMPTY_RESPONSE_DETAIL.split(";")[0])
    head = [
        Category(
            name=GENERATION_ERROR,
            message_regex=rf"^Failed: {_ANY}",
            description="No response to score: the backend failed or a response is missing.",
            statuses=("failed", "broken"),
        ),
        Category(
            name=EMPTY_RESPONSE,
            message_regex=f"{_ANY}{empty_words}{_ANY}",
            description="The model returned nothing (or whitespace): every constraint fails.",
        ),
        Category(
            name=TRUNCATED,
            message_regex=rf"{_ANY}finish_reason '?length'?{_ANY}",
            description="Generation stopped at --mathif-max-tokens (finish_reason length).",
        ),
        Category(
            name=UNCLOSED_THINKING,
            message_regex=rf"{_ANY}thinking never closed{_ANY}",
            description="The response opens <think> and never closes it.",
        ),
        Category(
            name=UNGRADABLE,
            message_regex=rf"{_ANY}\banswer ungradable: {_ANY}",
            description="The grader could not decide (timeout or internal error).",
        ),
    ]
    violated = [
        Category(
            name=f"{_VIOLATED}{cid}",
            message_regex=rf"{_ANY}(?:^|\s){_literal(cid)}: {_ANY}",
            description=f"The response does not follow a {cid} constraint.",
        )
        for cid in sorted(REGISTRY)
    ]
    wrong = Category(
        name=WRONG_ANSWER,
        message_regex=rf"{_ANY}\banswer incorrect: {_ANY}",
        description="Constraints aside, the final answer is not the reference.",
    )
    return [*_regressed_categories(), *head, *violated, wrong]


def _regressed_categories() -> list[Category]:
    """``Regressed: <constraint type>`` for every type, then ``Regressed: answer``."""
    regressed = [
        Category(
            name=f"{REGRESSED}{cid}",
            message_regex=rf"{_ANY}(?:^|\s){_literal(cid)}: [^\n]*\(regressed: {_ANY}",
            description=f"Followed the {cid} constraint in the --mathif-baseline run, not now.",
        )
        for cid in sorted(REGISTRY)
    ]
    answer = Category(
        name=REGRESSED_ANSWER,
        message_regex=rf"{_ANY}(?:^|\s)answer [^\n]*\(regressed: {_ANY}",
        description="Answered correctly in the --mathif-baseline run, not now.",
    )
    return [*regressed, answer]


def _literal(text: str) -> str:
    """``text`` as a regex that Python, JavaScript and Java all read as the literal text.

    ``re.escape`` also escapes spaces, which is noise in a JSON file read by other languages.
    """
    return re.sub(r"([.*+?^${}()|\[\]\\])", r"\\\1", text)


def regressed(case: MathIFCase) -> list[Flip]:
    """The flips for the worse since the baseline, responses paired by sample index.

    :func:`~mathif_pytest.compare.flips.find_flips` decides: the definition of the run's
    comparison, so the categories and the run summary count alike.
    """
    before = {r.sample: r for r in case.baseline if r.constrained == case.spec.constrained}
    pairs = [(before[r.sample], r) for r in case.results if r.sample in before]
    return [f for f in find_flips(pairs) if f.kind in ("followed_to_violated", "correct_to_wrong")]


def failure_kinds(case: MathIFCase) -> list[str]:
    """The category names of why ``case`` failed, regressions first; empty if it passed."""
    kinds: list[str] = []
    for flip in regressed(case):
        answer = flip.kind == "correct_to_wrong"
        kinds += [REGRESSED_ANSWER] if answer else [f"{REGRESSED}{cid}" for cid in flip.changed]
    for text, result in zip(case.responses, case.results, strict=True):
        if result.hard is not False and result.correct:
            continue
        kinds += [EMPTY_RESPONSE] if not text.strip() else []
        kinds += [TRUNCATED] if result.finish_reason == "length" else []
        kinds += [UNCLOSED_THINKING] if result.think_opened and not result.think_closed else []
        kinds += [UNGRADABLE] if result.grade.outcome is AnswerGrade.UNGRADABLE else []
        kinds += [f"{_VIOLATED}{v.constraint_id}" for v in result.violations]
        kinds += [WRONG_ANSWER] if result.grade.outcome is AnswerGrade.INCORRECT else []
    order = {c.name: i for i, c in enumerate(categories())}
    return sorted(dict.fromkeys(kinds), key=lambda name: order.get(name, len(order)))
