"""Tests for the bullet-list, highlighted-section and multiple-sections checkers."""

from __future__ import annotations

import pytest

from mathif_pytest.protocol import Deviations

BULLETS = [
    pytest.param(3, "* a\n* b\n* c", True, id="three-star-bullets"),
    pytest.param(3, "- a\n- b", False, id="too-few"),
    pytest.param(1, "* a\n* b", False, id="too-many-exact-count"),
    pytest.param(3, "* a\n- b\n  * c", True, id="stars-dashes-and-indent-add-up"),
    pytest.param(1, "**Step 1:** add\n* a", True, id="bold-line-is-not-a-bullet"),
    pytest.param(2, "---\n-3 is negative", True, id="rule-and-negative-number-are-bullets"),
    pytest.param(1, "*\n* a", True, id="lone-star-swallows-next-line"),
    pytest.param(2, "*\nfoo\n* a", True, id="lone-star-then-text-then-bullet"),
    pytest.param(1, "\n\n  \n* a", True, id="leading-blank-lines"),
    pytest.param(0, "• a\n+ b\n1. c", True, id="other-markers-do-not-count"),
    pytest.param(1, "x * y", False, id="star-inside-a-line"),
]


@pytest.mark.parametrize(("num_bullets", "response", "followed"), BULLETS)
def test_bullet_lists_count_star_and_dash_lines_exactly(judge, num_bullets, response, followed):
    args = {"num_bullets": num_bullets}
    verdict = judge("detectable_format:number_bullet_lists", args, response)
    assert verdict.followed is followed, verdict.detail


def test_bullet_lists_detail_gives_found_and_needed(judge):
    verdict = judge("detectable_format:number_bullet_lists", {"num_bullets": 3}, "* a\n* b")
    assert verdict.detail == "found 2 bullet points; needs exactly 3"


HIGHLIGHTS = [
    pytest.param(2, "*a* and *b*", True, id="two-single-star-spans"),
    pytest.param(1, "**bold**", True, id="bold-counts"),
    pytest.param(2, "**bold**", False, id="bold-counts-once"),
    pytest.param(1, "$x*y*z$", True, id="multiplication-stars-count"),
    pytest.param(1, "* *", False, id="blank-span"),
    pytest.param(1, "*a\nb*", False, id="span-cannot-cross-a-line"),
    pytest.param(2, "***x***", True, id="triple-stars-count-as-single-and-double"),
    pytest.param(3, "***x***", False, id="triple-stars-count-twice-only"),
]


@pytest.mark.parametrize(("num_highlights", "response", "followed"), HIGHLIGHTS)
def test_highlighted_sections_count_at_least_n_spans(judge, num_highlights, response, followed):
    args = {"num_highlights": num_highlights}
    verdict = judge("detectable_format:number_highlighted_sections", args, response)
    assert verdict.followed is followed, verdict.detail


def test_highlighted_sections_detail_gives_found_and_needed(judge):
    args = {"num_highlights": 2}
    verdict = judge("detectable_format:number_highlighted_sections", args, "a *key* b")
    assert verdict.detail == "found 1 highlighted section (first '*key*'); needs at least 2"


SECTIONS = [
    pytest.param(2, "SECTION", "SECTION 1\nfoo\nSECTION 2\nbar", True, id="two-sections"),
    pytest.param(2, "SECTION", "Section 1\nfoo\nSection 2\nbar", False, id="case-sensitive"),
    pytest.param(2, "SECTION", "SECTION 1 a SECTION 2 b SECTION 3", True, id="more-is-enough"),
    pytest.param(1, "SECTION", "SECTION1 a", True, id="space-is-optional"),
    pytest.param(1, "SECTION", "SECTION  1 a", False, id="two-spaces-do-not-match"),
    pytest.param(1, "SECTION", "SECTION X a", False, id="needs-a-number"),
    pytest.param(1, "Section", "SubSection 12 a", True, id="splitter-inside-a-word-counts"),
    pytest.param(1, " Section ", "Section 1 a", True, id="splitter-is-stripped"),
]


@pytest.mark.parametrize(("num_sections", "spliter", "response", "followed"), SECTIONS)
def test_multiple_sections_count_at_least_n_markers(
    judge, num_sections, spliter, response, followed
):
    args = {"num_sections": num_sections, "section_spliter": spliter}
    verdict = judge("detectable_format:multiple_sections", args, response)
    assert verdict.followed is followed, verdict.detail


@pytest.mark.parametrize(
    ("response", "followed"),
    [
        pytest.param("SECTION 1 a SECTION 2 b", True, id="exactly-n"),
        pytest.param("SECTION 1 a SECTION 2 b SECTION 3 c", False, id="more-than-n"),
        pytest.param("SECTION 1 a", False, id="fewer-than-n"),
    ],
)
def test_multiple_sections_need_exactly_n_under_the_deviation(judge, response, followed):
    args = {"num_sections": 2, "section_spliter": "SECTION"}
    verdict = judge(
        "detectable_format:multiple_sections", args, response, Deviations(sections_exact=True)
    )
    assert verdict.followed is followed, verdict.detail


def test_multiple_sections_detail_gives_marker_found_and_needed(judge):
    args = {"num_sections": 3, "section_spliter": "SECTION"}
    verdict = judge("detectable_format:multiple_sections", args, "SECTION 1 a")
    assert verdict.detail == "found 1 section marked 'SECTION <n>'; needs at least 3"
