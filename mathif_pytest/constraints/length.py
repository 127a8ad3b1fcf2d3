"""Length checker: ``length_constraint_checkers:number_words`` (an IFEval id, renamed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from mathif_pytest.constraints._args import MIN
from mathif_pytest.constraints._base import Relation, Verdict
from mathif_pytest.constraints._text import count_words, plural

__all__ = ["WordCount"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WordCount:
    r"""The response must have fewer than / at least N words, a word being a run of ``\w``.

    MathIF spells the id ``length_constraint_checkers:`` where IFEval says ``length_constraints:``;
    the registry keeps the data's spelling and accepts IFEval's as an alias.
    """

    constraint_id: ClassVar[str] = "length_constraint_checkers:number_words"
    num_words: int = field(metadata={MIN: 1})
    relation: Relation

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        words = count_words(response)
        followed = self.relation.holds(words, self.num_words)
        detail = f"counted {plural(words, 'word')}; needs {self.relation.need(self.num_words)}"
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)
