"""Property tests: no checker raises or hangs on any text, and the driver's rules always hold."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nltk.tokenize import RegexpTokenizer

from mathif_pytest.constraints import REGISTRY, Verdict, build_checker, check_response
from mathif_pytest.constraints._text import count_words
from mathif_pytest.constraints.format import count_bullets
from mathif_pytest.constraints.language import detect_language
from mathif_pytest.protocol import Deviations

WHITESPACE = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()]
# Checks take well under a millisecond; a generous deadline still catches a runaway regex.
# Derandomized and without an example database: the same examples on every run, no files written.
FAST = settings(
    max_examples=60,
    deadline=500,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WIDE = settings(FAST, max_examples=300)

EXAMPLE_ARGS = {
    "change_case:capital_word_frequency": {"capital_frequency": 3, "capital_relation": "at least"},
    "change_case:english_capital": None,
    "change_case:english_lowercase": None,
    "combination:repeat_prompt": {"prompt_to_repeat": "What is 2+2?"},
    "detectable_format:multiple_sections": {"num_sections": 2, "section_spliter": "SECTION"},
    "detectable_format:number_bullet_lists": {"num_bullets": 2},
    "detectable_format:number_highlighted_sections": {"num_highlights": 2},
    "keywords:existence": {"keywords": ["now", "side"]},
    "keywords:forbidden_words": {"forbidden_words": ["now", "side"]},
    "keywords:frequency": {"keyword": "now", "frequency": 1, "relation": "less than"},
    "language:response_language": {"language": "es"},
    "length_constraint_checkers:number_words": {"num_words": 5, "relation": "less than"},
    "punctuation:no_comma": None,
    "startend:end_checker": {"end_phrase": "Any other questions?"},
    "startend:quotation": None,
}
ALL_DEVIATIONS = Deviations(keyword_whole_words=True, sections_exact=True)


@pytest.fixture(scope="module", autouse=True)
def _warm_up_language_detection():
    detect_language("warm up")  # loads the profiles once (~0.5 s), outside any deadline


def test_example_args_cover_the_registry():
    assert set(EXAMPLE_ARGS) == set(REGISTRY)


@pytest.mark.parametrize("deviations", [Deviations(), ALL_DEVIATIONS], ids=["official", "deviated"])
@pytest.mark.parametrize("constraint_id", sorted(EXAMPLE_ARGS))
@FAST
@given(text=st.text())
def test_no_checker_raises_on_any_text(constraint_id, deviations, text):
    checker = build_checker(constraint_id, EXAMPLE_ARGS[constraint_id], deviations)
    verdict = checker.check(text)
    assert isinstance(verdict, Verdict)
    assert verdict.constraint_id == constraint_id
    assert isinstance(verdict.followed, bool)
    assert verdict.detail


@FAST
@given(keyword=st.text(min_size=1).filter(str.strip), text=st.text())
def test_keyword_checkers_accept_any_keyword_even_an_invalid_regex(keyword, text):
    checkers = [
        build_checker("keywords:existence", {"keywords": [keyword]}),
        build_checker("keywords:forbidden_words", {"forbidden_words": [keyword]}),
        build_checker(
            "keywords:frequency", {"keyword": keyword, "frequency": 2, "relation": "at least"}
        ),
        build_checker(
            "detectable_format:multiple_sections", {"num_sections": 1, "section_spliter": keyword}
        ),
    ]
    assert all(v.detail for v in check_response(checkers, text + keyword))


@WIDE
@given(text=st.text(alphabet=WHITESPACE))
def test_whitespace_only_text_fails_every_constraint(text):
    checkers = [build_checker(cid, args) for cid, args in EXAMPLE_ARGS.items()]
    assert not any(v.followed for v in check_response(checkers, text))


@pytest.mark.parametrize(
    ("constraint_id", "args"),
    [
        ("keywords:frequency", {"keyword": "a", "frequency": 2}),
        ("length_constraint_checkers:number_words", {"num_words": 3}),
        ("change_case:capital_word_frequency", {"capital_frequency": 2}),
    ],
)
@FAST
@given(text=st.text().filter(str.strip))
def test_less_than_and_at_least_are_complementary(constraint_id, args, text):
    relation_key = "capital_relation" if constraint_id.startswith("change_case") else "relation"
    below = build_checker(constraint_id, {**args, relation_key: "less than"}).check(text)
    at_least = build_checker(constraint_id, {**args, relation_key: "at least"}).check(text)
    assert below.followed is not at_least.followed


_OFFICIAL_STAR = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_OFFICIAL_DASH = re.compile(r"^\s*-.*$", re.MULTILINE)


@WIDE
@given(text=st.text(alphabet=" \t\r\n\x0b\x85\u2028\u3000*-ab"))
def test_bullet_count_equals_the_official_regexes(text):
    official = len(_OFFICIAL_STAR.findall(text)) + len(_OFFICIAL_DASH.findall(text))
    assert count_bullets(text) == official


def test_bullet_count_is_fast_on_a_long_run_of_blank_lines():
    # The official regexes are quadratic here (seconds); the linear scan must not be.
    assert count_bullets(" \n" * 50_000 + "* a") == 1


# Letters, decimal digits, letter numbers, spaces and common punctuation: the code points on which
# stdlib ``re`` and the ``regex`` engine of nltk >= 3.10.3 agree about ``\w`` (see count_words).
AGREED_CHARACTERS = st.characters(categories=("L", "Nd", "Nl", "Zs", "Po", "Pd", "Ps", "Pe", "Sm"))


@FAST
@given(text=st.text(alphabet=AGREED_CHARACTERS))
def test_word_count_equals_nltk_regexp_tokenizer(text):
    assert count_words(text) == len(RegexpTokenizer(r"\w+").tokenize(text))
