"""Grading inside a scoring worker: the same decisions as :class:`Grader`, without its workers.

A scoring worker (:mod:`mathif_pytest.scoring`) is already a separate process that its parent
can kill, so it runs the sympy steps itself, each answer under the same wall-clock limit
(``SIGALRM``, on the worker's main thread; the parent's deadline backs it up for C code that
does not return to the interpreter). The steps and their order are :class:`Grader`'s:
extraction, the decision cache, the in-process fast path for short answers, then sympy.
"""

from __future__ import annotations

from mathif_pytest.grading._decide import Decision, decide
from mathif_pytest.grading._grades import (
    AnswerGrade,
    Grade,
    from_decision,
    internal_error,
    make_grade,
)
from mathif_pytest.grading._match import Extraction, extract
from mathif_pytest.grading._steps import Config, DecisionCache, quick_decision
from mathif_pytest.workers import Overrun, deadline

__all__ = ["InlineGrader"]


class InlineGrader:
    """Grades one answer at a time in this process, with a decision cache.

    Args:
        config: the deviations and the per-answer time limit of the sympy steps.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._cache = DecisionCache()
        self.overran = False

    def grade(self, reference: str, text: str) -> Grade:
        """Grade the answer segment ``text`` against ``reference``, as ``Grader.grade`` does."""
        extraction: Extraction | None = None
        try:
            extraction = extract(text, accept_hash_answer=self.config.deviations.accept_hash_answer)
            decision = self._decision(reference, extraction)
        except Overrun:
            self.overran = True
            detail = f"grading timed out after {self.config.timeout:g} s"
            return make_grade(AnswerGrade.UNGRADABLE, extraction, reference, detail)
        except Exception as error:  # a bug of ours must not crash a run
            return internal_error(error, extraction, reference)
        return from_decision(decision, extraction, reference)

    def _decision(self, reference: str, extraction: Extraction) -> Decision:
        settings = self.config.tora
        key = (reference, extraction.answer, settings)
        decision = self._cache.get(key) or quick_decision(reference, extraction.answer, settings)
        if decision is None:
            from mathif_pytest.grading._symbolic import SympyOps

            with deadline(self.config.timeout):
                decision = decide(reference, extraction.answer, settings=settings, ops=SympyOps())
        self._cache.remember(key, decision)
        return decision
