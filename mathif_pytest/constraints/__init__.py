"""The 15 MathIF constraint checkers: registry, argument validation, the driver rule, conflicts.

Importing this package is cheap: langdetect and nltk are imported by the first check needing them.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from mathif_pytest.constraints._args import construct
from mathif_pytest.constraints._base import Checker, Relation, Verdict
from mathif_pytest.constraints.case import CapitalWordFrequency, EnglishCapital, EnglishLowercase
from mathif_pytest.constraints.combination import RepeatPrompt
from mathif_pytest.constraints.format import BulletCount, HighlightCount, SectionCount
from mathif_pytest.constraints.keywords import ForbiddenWords, KeywordExistence, KeywordFrequency
from mathif_pytest.constraints.language import ResponseLanguage
from mathif_pytest.constraints.length import WordCount
from mathif_pytest.constraints.punctuation import NoComma
from mathif_pytest.constraints.startend import EndPhrase, Quotation
from mathif_pytest.errors import UnknownConstraintError
from mathif_pytest.protocol import Deviations

__all__ = [
    "ALIASES",
    "CONFLICTS",
    "EMPTY_RESPONSE_DETAIL",
    "REGISTRY",
    "Checker",
    "Relation",
    "Verdict",
    "build_checker",
    "canonical_id",
    "check_response",
    "conflicting_pairs",
]

_CHECKERS: tuple[type[Checker], ...] = (
    KeywordExistence,
    KeywordFrequency,
    ForbiddenWords,
    ResponseLanguage,
    WordCount,
    BulletCount,
    HighlightCount,
    SectionCount,
    RepeatPrompt,
    EndPhrase,
    Quotation,
    CapitalWordFrequency,
    EnglishCapital,
    EnglishLowercase,
    NoComma,
)

#: Checker classes by the exact constraint ids of the data (``constraint_name``).
REGISTRY: Mapping[str, type[Checker]] = MappingProxyType({c.constraint_id: c for c in _CHECKERS})

#: Other spellings accepted by :func:`build_checker`. MathIF renamed IFEval's prefix
#: ``length_constraints:`` to ``length_constraint_checkers:``; the data uses the latter.
ALIASES: Mapping[str, str] = MappingProxyType(
    {"length_constraints:number_words": WordCount.constraint_id}
)

#: The detail of every verdict on an empty or whitespace-only response.
EMPTY_RESPONSE_DETAIL = (
    "the response is empty or whitespace only; the official scorer fails every constraint on it"
)

_OFFICIAL = Deviations()


def canonical_id(constraint_id: str) -> str:
    """The registry id for ``constraint_id`` (itself, or the target of an alias).

    Raises:
        UnknownConstraintError: not a registry id nor an alias; the message suggests the closest id.
    """
    if not isinstance(constraint_id, str):
        got = f"{type(constraint_id).__name__} {constraint_id!r}"
        raise UnknownConstraintError(f"constraint id must be a string (got {got})")
    if constraint_id in REGISTRY:
        return constraint_id
    if constraint_id in ALIASES:
        return ALIASES[constraint_id]
    hint = difflib.get_close_matches(constraint_id, [*REGISTRY, *ALIASES], n=1, cutoff=0.5)
    fix = f"did you mean {hint[0]!r}?" if hint else "known ids: " + ", ".join(sorted(REGISTRY))
    raise UnknownConstraintError(f"unknown constraint {constraint_id!r}; {fix}")


def build_checker(
    constraint_id: str, args: Mapping[str, object] | None, deviations: Deviations = _OFFICIAL
) -> Checker:
    """Validate one constraint of a data row and build its checker.

    Arguments are passed through as given (no dropping of falsy values, unlike the official driver);
    lists become tuples and relation strings become :class:`Relation` members.

    Args:
        constraint_id: an id from ``constraint_name`` (or an alias, see :data:`ALIASES`).
        args: the matching ``constraint_args`` entry; null (None) means no arguments.
        deviations: opt-in fixes; ``keyword_whole_words`` and ``sections_exact`` apply here.

    Returns:
        The checker, ready to ``check`` responses.

    Raises:
        UnknownConstraintError: the id is unknown (the message suggests the closest one).
        ConstraintArgsError: an argument is missing, unexpected, of the wrong type or out of range.
            Messages name the id and the accepted fields; the caller adds the file and line.
    """
    cls = REGISTRY[canonical_id(constraint_id)]
    return construct(cls, constraint_id, args, deviations)


def _check_safely(checker: Checker, response: str) -> Verdict:
    try:
        return checker.check(response)
    except Exception as exc:  # a checker bug must cost one verdict, never the run
        detail = f"checker raised {type(exc).__name__}: {exc}; counted as not followed"
        return Verdict(constraint_id=checker.constraint_id, followed=False, detail=detail)


def check_response(checkers: Sequence[Checker], response: str) -> tuple[Verdict, ...]:
    """Judge one response against a row's checkers, with the official driver's rules.

    An empty or whitespace-only response fails every constraint, even those that empty text would
    satisfy (no comma, forbidden words, "less than N words"). A checker that raises (a bug) yields a
    failed verdict naming the exception: nothing is skipped and nothing propagates.

    Args:
        checkers: the row's checkers, in data order.
        response: the post-thinking text.

    Returns:
        One verdict per checker, in the same order.
    """
    if not response.strip():
        return tuple(
            Verdict(constraint_id=c.constraint_id, followed=False, detail=EMPTY_RESPONSE_DETAIL)
            for c in checkers
        )
    return tuple(_check_safely(c, response) for c in checkers)


def _symmetric(declared: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    """Close a conflicts table: each id conflicts with itself, and A~B implies B~A."""
    closed: dict[str, set[str]] = {key: {key, *values} for key, values in declared.items()}
    for key, values in declared.items():
        for other in values:
            closed.setdefault(other, {other}).add(key)
    return MappingProxyType({key: frozenset(values) for key, values in sorted(closed.items())})


_ALL = frozenset(REGISTRY)
# IFEval's instruction-conflicts table as declared (one direction), limited to MathIF's 15 ids.
# IFEval's length_constraints:number_words is our length_constraint_checkers:number_words.
_DECLARED_CONFLICTS: dict[str, frozenset[str]] = {
    "language:response_language": frozenset(
        {
            "detectable_format:multiple_sections",
            "keywords:existence",
            "keywords:frequency",
            "keywords:forbidden_words",
            "startend:end_checker",
            "change_case:english_capital",
            "change_case:english_lowercase",
        }
    ),
    "detectable_format:multiple_sections": frozenset(
        {"language:response_language", "detectable_format:number_highlighted_sections"}
    ),
    # Repeating the request verbatim can break nearly any other constraint.
    "combination:repeat_prompt": _ALL - {"keywords:existence", "punctuation:no_comma"},
    "change_case:capital_word_frequency": frozenset(
        {"change_case:english_lowercase", "change_case:english_capital"}
    ),
    "change_case:english_lowercase": frozenset({"change_case:english_capital"}),
}

#: Which constraint ids IFEval considers incompatible, made symmetric (every id conflicts with
#: itself). Informational only: 51 rows of the MathIF data combine conflicting ids, and they are
#: scored like any other row.
CONFLICTS: Mapping[str, frozenset[str]] = _symmetric(
    {key: _DECLARED_CONFLICTS.get(key, frozenset()) for key in sorted(_ALL)}
)


def conflicting_pairs(ids: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs of a row's constraint ids that :data:`CONFLICTS` calls incompatible.

    Args:
        ids: a row's ``constraint_name`` list; aliases are resolved, unknown ids ignored.

    Returns:
        ``(earlier, later)`` pairs in row order; an id listed twice pairs with itself.
    """
    known = [ALIASES.get(i, i) for i in ids if i in REGISTRY or i in ALIASES]
    return [(a, b) for a, b in itertools.combinations(known, 2) if b in CONFLICTS[a]]
