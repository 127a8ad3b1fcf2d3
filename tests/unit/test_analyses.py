"""Edges of the analyses: several samples per prompt, unpaired prompts, unknown lengths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from _factories import case

from mathif_pytest.analyses import constraint_cost, error_sets, length_bins
from mathif_pytest.results import CaseResult
from mathif_pytest.token_counts import TokenCounts, approximate_tokens, response_lengths


def _without(result: CaseResult) -> CaseResult:
    return replace(result, constrained=False, verdicts=())


def test_several_samples_per_prompt_use_the_sign_flip_test_and_a_normal_interval() -> None:
    # x-0: without 2/2, with 1/2 (diff 1/2); x-1: without 1/2, with 0/2 (1/2); x-2: 0 vs 0.
    right = {"x-0": ((1, 1), (1, 0)), "x-1": ((1, 0), (0, 0)), "x-2": ((0, 0), (0, 0))}
    results = []
    for uid, (without, with_) in right.items():
        for sample in range(2):
            results.append(case(uid, correct=bool(with_[sample]), sample=sample))
            results.append(_without(case(uid, correct=bool(without[sample]), sample=sample)))
    cost = constraint_cost(results)
    assert cost is not None
    row = cost.overall
    assert row.interval == "normal" and row.test.method == "sign-flip-exact"
    assert (row.without_constraints, row.with_constraints) == (
        pytest.approx(0.5),
        pytest.approx(1 / 6),
    )
    # differences 1/2, 1/2, 0: mean 1/3, sd sqrt(1/12), half-width 1.959964 * sqrt(1/36)
    assert row.drop == pytest.approx(1 / 3)
    assert (row.low, row.high) == pytest.approx((1 / 3 - 0.326661, 1 / 3 + 0.326661), abs=1e-6)
    # signs of (1/2, 1/2) flipped: P(sum <= -1) = 1/4 each side, two-sided 1/2
    assert row.test.p_two_sided == pytest.approx(0.5)


def test_prompts_asked_one_way_only_are_counted_and_left_out() -> None:
    results = [case("x-0"), _without(case("x-0", correct=False)), case("x-1")]
    cost = constraint_cost(results)
    assert cost is not None
    assert (cost.overall.prompts, cost.unpaired) == (1, 1)
    assert constraint_cost([case("x-0"), case("x-1")]) is None


def test_the_relative_drop_is_undefined_when_nothing_was_right_without_constraints() -> None:
    cost = constraint_cost([case("x-0"), _without(case("x-0", correct=False))])
    assert cost is not None
    assert cost.overall.relative_drop is None and cost.overall.paper_diff is None
    assert cost.overall.drop == -1.0


def test_error_sets_and_length_bins_need_their_inputs() -> None:
    assert error_sets([_without(case("x-0"))]) is None
    assert length_bins([case("x-0")]) is None  # no token counts recorded


def test_length_bins_of_an_unconstrained_run_report_correctness_only() -> None:
    results = [
        replace(_without(case(f"x-{i}", correct=i > 1)), thinking_tokens=i, length_source="server")
        for i in range(4)
    ]
    bins = length_bins(results, bins=2)
    assert bins is not None
    assert bins.edges == (0.0, 1.5, 3.0)
    assert [(b.responses, b.correctness.value, b.hard_accuracy) for b in bins.bins] == [
        (2, 0.0, None),
        (2, 1.0, None),
    ]
    assert bins.hard is None and bins.sources == {"server": 4}


def test_counted_lengths_are_used_when_the_backend_knew_both_numbers() -> None:
    counted = response_lengths(
        TokenCounts(thinking=40, completion=55, source="tokenizer"), "a", "b"
    )
    assert (counted.thinking_tokens, counted.answer_tokens, counted.source) == (40, 15, "tokenizer")
    partial = response_lengths(
        TokenCounts(thinking=None, completion=55, source="server"), "a b", "c"
    )
    assert (partial.thinking_tokens, partial.answer_tokens, partial.source) == (2, 1, "approximate")


@pytest.mark.parametrize(
    ("text", "count"),
    [("", 0), ("Let x = 12.", 5), ("\\boxed{42}", 5), ("  many   spaces  ", 2), ("don't", 3)],
)
def test_the_tokenizer_free_count_counts_words_and_other_visible_characters(
    text: str, count: int
) -> None:
    assert approximate_tokens(text) == count


def test_mathif_score_reads_the_lines_of_the_prompt_variant_it_scores(
    tmp_path: Path, data_dir: Path
) -> None:
    import json

    from mathif_pytest.dataset import load_dataset
    from mathif_pytest.responses import read_responses

    dataset = load_dataset(data_dir)
    path = tmp_path / "both.jsonl"
    lines = [
        {"uid": "aime_single-0", "constrained": True, "response": "with"},
        {"uid": "aime_single-0", "constrained": False, "response": "without"},
        {"uid": "aime_single-1", "response": "either"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with_ = read_responses(path, dataset, constrained=True)
    without = read_responses(path, dataset, constrained=False)
    assert [(r.uid, r.sample, r.text) for r in with_] == [
        ("aime_single-0", 0, "with"),
        ("aime_single-1", 0, "either"),
    ]
    assert [r.text for r in without] == ["without", "either"]
    assert len(read_responses(path, dataset)) == 3  # unfiltered: as before
