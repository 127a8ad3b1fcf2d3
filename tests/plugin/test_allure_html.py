"""The HTML the Allure report shows: marked responses, folded thinking, the run summary tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.dataset import Sample, load_dataset
from mathif_pytest.grading import split_response
from mathif_pytest.reporting.allure_html import (
    highlight,
    offending_terms,
    regression_html,
    response_html,
)
from mathif_pytest.reporting.folding import fold
from mathif_pytest.reporting.run_html import group_deltas
from mathif_pytest.results import CaseResult
from mathif_pytest.scoring import ScoringConfig, ScoringItem, score_items


@pytest.fixture(scope="module")
def samples(data_dir: Path) -> dict[str, Sample]:
    return load_dataset(data_dir).by_uid()


def _score(sample: Sample, text: str) -> CaseResult:
    return score_items([ScoringItem(sample=sample, index=0, text=text)], ScoringConfig())[0]


@pytest.mark.parametrize(
    ("uid", "text", "marked"),
    [
        ("gsm8k_single-14", "So, first, 18", "So<mark>,</mark> first<mark>,</mark> 18"),
        ("aime_single-2", "By the Theorem: 907", "By the <mark>Theorem</mark>: 907"),
        (
            "gsm8k_single-13",
            "the Answer is 45000",
            "the <mark>Answer</mark> is 45000",
        ),
        ("aime_single-1", "less than that than", "less <mark>than</mark> that <mark>than</mark>"),
    ],
    ids=["comma", "forbidden-word-any-case", "capital-word", "too-frequent-keyword"],
)
def test_the_span_that_broke_a_real_constraint_is_marked(
    samples: dict[str, Sample], uid: str, text: str, marked: str
) -> None:
    result = _score(samples[uid], text)
    assert result.hard is False
    assert highlight(text, offending_terms(result.verdicts)) == marked


def test_constraints_that_name_no_span_mark_nothing() -> None:
    verdicts = (
        Verdict(constraint_id="language:response_language", followed=False, detail="'de'; 'en'"),
        Verdict(constraint_id="keywords:existence", followed=False, detail="missing 'simply'"),
        Verdict(constraint_id="keywords:frequency", followed=True, detail="'x' appears 2 times"),
    )
    assert offending_terms(verdicts) == []


def test_model_output_is_escaped_never_interpreted() -> None:
    text = "<script>alert(1)</script>, & <b>"
    assert highlight(text, [(",", False)]) == (
        "&lt;script&gt;alert(1)&lt;/script&gt;<mark>,</mark> &amp; &lt;b&gt;"
    )


def test_long_text_keeps_its_beginning_and_end() -> None:
    text = "a" * 3000 + "b" * 5000 + "c" * 3000
    folded, cut = fold(text, 4000)
    assert cut == 7000
    assert folded.startswith("a" * 2000) and folded.endswith("c" * 2000)
    assert "[… 7,000 characters not shown …]" in folded
    assert fold("short", 4000) == ("short", 0)


def test_the_response_page_shows_verdicts_grade_marked_answer_and_folded_thinking(
    samples: dict[str, Sample],
) -> None:
    sample = samples["gsm8k_single-14"]
    text = "<think>" + "x" * 10_000 + "</think>So, the answer is \\boxed{18}"
    page = response_html(split_response(text), _score(sample, text), ["No commas."])
    assert "<td>No commas.</td>" in page and "violated</span>: contains 1 comma" in page
    assert "answer correct</span>: extracted &#x27;18&#x27;" in page
    assert "<pre>So<mark>,</mark> the answer is \\boxed{18}</pre>" in page
    assert "Thinking (10,000 characters; the middle 6,000 not shown" in page
    assert page.count("x") < 4100


def test_the_regression_page_puts_the_baseline_beside_this_run(
    samples: dict[str, Sample],
) -> None:
    sample = samples["gsm8k_single-14"]
    before, now = _score(sample, "the answer is 18"), _score(sample, "So, 18")
    page = regression_html(before, "the answer is 18", now, "So, 18")
    assert "<th>baseline</th><th>this run</th>" in page
    assert "followed</span>: contains no comma</td>" in page
    assert "<pre>the answer is 18</pre></td><td><pre>So<mark>,</mark> 18</pre>" in page
    missing = regression_html(before, None, now, "So, 18")
    assert "the baseline results document holds no response text" in missing


def test_group_deltas_compare_the_runs_on_the_prompts_they_share(
    samples: dict[str, Sample],
) -> None:
    a, b = samples["gsm8k_single-14"], samples["aime_single-14"]
    baseline = [_score(a, "the answer is 18"), _score(b, "70")]
    candidate = [_score(a, "So, 18")]  # aime_single-14 is not in this run
    before, now = group_deltas(baseline, candidate)
    assert before.overall.prompts == now.overall.prompts == 1
    hard = now.by_constraint["punctuation:no_comma"].metric("hard_accuracy")
    old = before.by_constraint["punctuation:no_comma"].metric("hard_accuracy")
    assert hard is not None and old is not None and (old.value, hard.value) == (1.0, 0.0)
