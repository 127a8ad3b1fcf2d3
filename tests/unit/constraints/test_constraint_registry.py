"""Tests for the registry, argument validation, the driver rule and the conflicts table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mathif_pytest.constraints import (
    ALIASES,
    CONFLICTS,
    EMPTY_RESPONSE_DETAIL,
    REGISTRY,
    Relation,
    Verdict,
    build_checker,
    check_response,
    conflicting_pairs,
)
from mathif_pytest.constraints.format import BulletCount
from mathif_pytest.errors import ConstraintArgsError, DatasetError, UnknownConstraintError
from mathif_pytest.protocol import Deviations

PACKAGE = Path(__file__).resolve().parents[3] / "mathif_pytest" / "constraints"


def test_registry_holds_exactly_the_constraint_ids_of_the_data(data_rows):
    data_ids = {cid for _, _, row in data_rows for cid in row["constraint_name"]}
    assert set(REGISTRY) == data_ids
    assert len(REGISTRY) == 15


@pytest.mark.parametrize("constraint_id", sorted(REGISTRY))
def test_each_checker_is_a_frozen_slotted_keyword_only_dataclass(constraint_id):
    cls = REGISTRY[constraint_id]
    assert cls.__dataclass_params__.frozen
    assert all(f.kw_only for f in dataclasses.fields(cls))
    assert "__slots__" in cls.__dict__
    assert cls.constraint_id == constraint_id


def test_every_row_of_the_data_builds_with_arguments_passed_through(data_rows):
    built = 0
    for _, _, row in data_rows:
        for cid, args in zip(row["constraint_name"], row["constraint_args"], strict=True):
            checker = build_checker(cid, args)
            for key, value in (args or {}).items():
                got = getattr(checker, key)
                expected = tuple(value) if isinstance(value, list) else value
                assert (got.value if isinstance(got, Relation) else got) == expected
            built += 1
    assert (len(data_rows), built) == (420, 840)


def test_ifeval_spelling_of_number_words_is_an_alias():
    assert ALIASES == {"length_constraints:number_words": "length_constraint_checkers:number_words"}
    checker = build_checker(
        "length_constraints:number_words", {"num_words": 5, "relation": "at least"}
    )
    assert type(checker) is REGISTRY["length_constraint_checkers:number_words"]


def test_unknown_constraint_id_suggests_the_closest_one():
    with pytest.raises(UnknownConstraintError) as info:
        build_checker("keywords:frequncy", {})
    assert str(info.value) == (
        "unknown constraint 'keywords:frequncy'; did you mean 'keywords:frequency'?"
    )
    assert isinstance(info.value, DatasetError)


def test_unrelated_unknown_id_lists_the_known_ids():
    with pytest.raises(UnknownConstraintError, match=r"known ids: change_case:capital_word"):
        build_checker("zzz", None)


BAD_ARGS = [
    pytest.param(
        "keywords:frequency",
        {"keyword": "now", "relation": "at least"},
        "missing argument 'frequency' (got keys 'keyword', 'relation')",
        id="missing-key",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "now", "frequence": 2, "relation": "at least"},
        "unexpected argument 'frequence' (got int 2); did you mean 'frequency'?",
        id="unexpected-key-with-suggestion",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "now", "frequency": "2", "relation": "at least"},
        "argument 'frequency' must be an int (got str '2')",
        id="str-for-int",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "now", "frequency": True, "relation": "at least"},
        "argument 'frequency' must be an int (got bool True)",
        id="bool-is-not-an-int",
    ),
    pytest.param(
        "length_constraint_checkers:number_words",
        {"num_words": 100.0, "relation": "at least"},
        "argument 'num_words' must be an int (got float 100.0)",
        id="float-for-int",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": 7, "frequency": 2, "relation": "at least"},
        "argument 'keyword' must be a non-empty string (got int 7)",
        id="int-for-str",
    ),
    pytest.param(
        "keywords:existence",
        {"keywords": "now"},
        "argument 'keywords' must be a non-empty list of strings (got str 'now')",
        id="str-for-list",
    ),
    pytest.param(
        "keywords:forbidden_words",
        {"forbidden_words": ["now", 3]},
        "argument 'forbidden_words' must hold only non-empty strings (got list ['now', 3])",
        id="list-with-a-non-str",
    ),
    pytest.param(
        "keywords:existence",
        {"keywords": []},
        "argument 'keywords' must be a non-empty list of strings (got list [])",
        id="empty-list",
    ),
    pytest.param(
        "startend:end_checker",
        {"end_phrase": "  "},
        "argument 'end_phrase' must be a non-empty string (got str '  ')",
        id="blank-string",
    ),
    pytest.param(
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at most"},
        "argument 'capital_relation' must be 'less than' or 'at least' (got str 'at most')",
        id="invalid-relation",
    ),
    pytest.param(
        "language:response_language",
        {"language": "zh"},
        "argument 'language' is not a language langdetect can detect (got 'zh'); "
        "did you mean 'zh-cn'?",
        id="unsupported-language-with-suggestion",
    ),
    pytest.param(
        "keywords:frequency",
        {"keyword": "now", "frequency": 0, "relation": "less than"},
        "argument 'frequency' must be at least 1 (got int 0)",
        id="zero-frequency",
    ),
    pytest.param(
        "detectable_format:number_bullet_lists",
        {"num_bullets": -1},
        "argument 'num_bullets' must be at least 0 (got int -1)",
        id="negative-count",
    ),
    pytest.param(
        "punctuation:no_comma",
        {"strict": True},
        "unexpected argument 'strict' (got bool True)",
        id="argument-for-a-parameterless-type",
    ),
    pytest.param(
        "keywords:existence",
        {"keywords": ["now"], "whole_words": True},
        "'whole_words' is set from the deviation options, not from data (got bool True)",
        id="deviation-field-in-data",
    ),
    pytest.param(
        "startend:quotation",
        ["x"],
        "arguments must be an object or null (got list ['x'])",
        id="args-not-a-mapping",
    ),
]


@pytest.mark.parametrize(("constraint_id", "args", "problem"), BAD_ARGS)
def test_bad_arguments_name_the_constraint_the_problem_and_the_accepted_fields(
    constraint_id, args, problem
):
    with pytest.raises(ConstraintArgsError) as info:
        build_checker(constraint_id, args)
    message, prefix = str(info.value), f"constraint {constraint_id!r}: {problem}"
    assert message.startswith(prefix)
    assert message[len(prefix) :].startswith(("; accepted fields: ", " Accepted fields: "))
    assert isinstance(info.value, DatasetError)


def test_accepted_fields_list_names_and_types():
    with pytest.raises(ConstraintArgsError) as info:
        build_checker("keywords:frequency", {})
    assert str(info.value).endswith(
        "accepted fields: keyword (non-empty str), frequency (int >= 1), "
        "relation ('less than' or 'at least')"
    )


def test_parameterless_types_accept_null_and_empty_args_alike():
    for constraint_id in ("punctuation:no_comma", "startend:quotation"):
        assert build_checker(constraint_id, None) == build_checker(constraint_id, {})


def test_falsy_arguments_are_passed_through_not_dropped(judge):
    checker = build_checker("detectable_format:number_bullet_lists", {"num_bullets": 0})
    assert checker == BulletCount(num_bullets=0)
    assert judge("detectable_format:number_bullet_lists", {"num_bullets": 0}, "no list").followed


@pytest.mark.parametrize(
    ("deviations", "whole_words", "exact"),
    [
        pytest.param(Deviations(), False, False, id="official"),
        pytest.param(Deviations(keyword_whole_words=True), True, False, id="whole-words"),
        pytest.param(Deviations(sections_exact=True), False, True, id="sections-exact"),
    ],
)
def test_deviations_set_the_deviation_fields_of_the_checkers(deviations, whole_words, exact):
    existence = build_checker("keywords:existence", {"keywords": ["a"]}, deviations)
    frequency = build_checker(
        "keywords:frequency", {"keyword": "a", "frequency": 1, "relation": "at least"}, deviations
    )
    sections = build_checker(
        "detectable_format:multiple_sections",
        {"num_sections": 1, "section_spliter": "SECTION"},
        deviations,
    )
    assert (existence.whole_words, frequency.whole_words, sections.exact) == (
        whole_words,
        whole_words,
        exact,
    )


@pytest.fixture(scope="module")
def one_of_each(data_rows):
    """One checker per constraint id, from the first data row that uses it."""
    checkers = {}
    for _, _, row in data_rows:
        for cid, args in zip(row["constraint_name"], row["constraint_args"], strict=True):
            checkers.setdefault(cid, build_checker(cid, args))
    return [checkers[cid] for cid in sorted(checkers)]


@pytest.mark.parametrize("response", ["", " ", "\n\t  \r\n", "\u3000"], ids=repr)
def test_empty_or_whitespace_response_fails_every_constraint(one_of_each, response):
    verdicts = check_response(one_of_each, response)
    assert [v.constraint_id for v in verdicts] == [c.constraint_id for c in one_of_each]
    assert not any(v.followed for v in verdicts)
    assert {v.detail for v in verdicts} == {EMPTY_RESPONSE_DETAIL}


def test_check_response_keeps_the_checkers_order(one_of_each):
    verdicts = check_response(one_of_each[::-1], "some text")
    assert [v.constraint_id for v in verdicts] == [c.constraint_id for c in one_of_each[::-1]]


@dataclasses.dataclass(frozen=True)
class _Broken:
    constraint_id = "keywords:existence"

    def check(self, response: str) -> Verdict:
        raise ZeroDivisionError("division by zero")


def test_a_checker_that_raises_becomes_a_failed_verdict_naming_the_exception(one_of_each):
    verdicts = check_response([_Broken(), *one_of_each[:1]], "text")
    assert verdicts[0] == Verdict(
        constraint_id="keywords:existence",
        followed=False,
        detail="checker raised ZeroDivisionError: division by zero; counted as not followed",
    )
    assert len(verdicts) == 2


def test_conflicts_table_is_symmetric_and_reflexive_over_the_registry():
    assert set(CONFLICTS) == set(REGISTRY)
    for cid, others in CONFLICTS.items():
        assert cid in others
        assert others <= set(REGISTRY)
        assert all(cid in CONFLICTS[other] for other in others)


@pytest.mark.parametrize(
    ("ids", "pairs"),
    [
        pytest.param(
            ["combination:repeat_prompt", "keywords:forbidden_words"],
            [("combination:repeat_prompt", "keywords:forbidden_words")],
            id="repeat-prompt-and-forbidden-words",
        ),
        pytest.param(
            ["keywords:forbidden_words", "combination:repeat_prompt"],
            [("keywords:forbidden_words", "combination:repeat_prompt")],
            id="either-order",
        ),
        pytest.param(
            ["combination:repeat_prompt", "keywords:existence", "punctuation:no_comma"],
            [],
            id="repeat-prompt-allows-existence-and-no-comma",
        ),
        pytest.param(
            ["keywords:frequency", "keywords:frequency"],
            [("keywords:frequency", "keywords:frequency")],
            id="same-type-twice",
        ),
        pytest.param(
            ["language:response_language", "length_constraints:number_words", "unknown:id"],
            [],
            id="alias-resolved-unknown-ignored",
        ),
    ],
)
def test_conflicting_pairs_reports_incompatible_ids_in_row_order(ids, pairs):
    assert conflicting_pairs(ids) == pairs


def test_fifty_one_rows_of_the_data_combine_conflicting_constraints(data_rows):
    flagged = [row for _, _, row in data_rows if conflicting_pairs(row["constraint_name"])]
    assert len(flagged) == 51


def test_the_constraints_package_does_not_import_pytest():
    for path in PACKAGE.glob("*.py"):
        assert "import pytest" not in path.read_text(encoding="utf-8"), path.name
