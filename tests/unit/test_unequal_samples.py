"""A baseline recorded with 1 sample per prompt, a candidate with 8: pairing and false alarms.

Comparing a 0/1 outcome with the mean of 8 samples makes the per-prompt differences skewed,
and the sign-flip test, exact only when both values of a prompt are exchangeable, runs liberal.
The comparison therefore pairs the sample indices both runs share; the false-alarm rate is
measured here on 45 prompts, both ways, for a metric most prompts pass (success probabilities
from Beta(9, 1), mean 0.9, like correctness on an easy source), where the skew is strongest.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
from _factories import case
from _gate_replicates import gate_fails

from mathif_pytest.compare import compare_runs, evaluate_gate_with_baseline, sign_flip_test
from mathif_pytest.compare.bootstrap import bootstrap_means
from mathif_pytest.compare.power_exact import BinaryRule, binary_power
from mathif_pytest.gate import parse_threshold
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import summarize

ALPHA = 0.05
PROMPTS = 45
REPLICATES = 4_000


def _run(outcomes: np.ndarray) -> list[CaseResult]:
    """``outcomes[i, s]``: prompt i's sample s followed its constraint."""
    return [
        case(f"p-{i}", (bool(x),), sample=s)
        for i, row in enumerate(outcomes)
        for s, x in enumerate(row)
    ]


def _probabilities() -> np.ndarray:
    return np.random.default_rng(3).beta(9, 1, PROMPTS)


def test_unequal_sample_counts_are_compared_on_the_shared_sample_indices() -> None:
    rng = np.random.default_rng(0)
    p = _probabilities()
    one = rng.random((PROMPTS, 1)) < p[:, None]
    eight = rng.random((PROMPTS, 8)) < p[:, None]
    report = compare_runs(_run(one), _run(eight))
    assert report.pairing.mode == "shared sample indices"
    assert (report.pairing.prompts_trimmed, report.pairing.candidate_left_out) == (45, 7 * 45)
    same = compare_runs(_run(one), _run(eight[:, :1]))
    assert same.pairing.mode == "all samples"
    assert report.to_dict()["metrics"] == same.to_dict()["metrics"]
    hard = report.metric("hard_accuracy")
    assert hard is not None and hard.test.method == "mcnemar-exact"
    (row,) = evaluate_gate_with_baseline(
        summarize(_run(eight)), _run(eight), _run(one), [parse_threshold("delta.hard_accuracy>=0")]
    ).rows
    assert "paired on the sample indices both runs share (45 prompts" in row.reason
    assert row.test is not None and row.test.pairing == "shared sample indices"


def test_prompts_without_a_shared_sample_index_are_left_out_and_counted() -> None:
    base = [case("a-0", sample=0), case("a-1", sample=1)]
    cand = [case("a-0", sample=0), case("a-1", sample=0)]
    report = compare_runs(base, cand)
    assert report.shared == 1 and report.pairing.prompts_without_shared_index == 1
    assert "1 prompts without a shared index" in report.pairing.sentence()


def test_identical_sample_indices_pair_every_sample() -> None:
    base = [replace(case("a-0"), sample=s) for s in range(4)]
    report = compare_runs(base, base)
    assert report.pairing.mode == "all samples" and report.pairing.sentence() == ""


def _false_alarms(all_samples: bool) -> float:
    """Reruns of one checkpoint, 1 sample against 8, gate ``delta.hard_accuracy>=0``."""
    rng = np.random.default_rng(17)
    p = _probabilities()
    base = (rng.random((REPLICATES, PROMPTS)) < p).astype(np.int64)
    cand8 = rng.binomial(8, p, size=(REPLICATES, PROMPTS))
    if not all_samples:  # what the comparison does: sample 0 of the candidate
        cand0 = (rng.random((REPLICATES, PROMPTS)) < p).astype(np.int64)
        return float(gate_fails(base, cand0, np.ones(PROMPTS, np.int64), 0.0, ALPHA).mean())
    # What it did before: the 0/1 baseline against the candidate's mean of 8.
    diffs = cand8 / 8 - base
    draws = bootstrap_means(diffs.T, resamples=10_000, seed=0)
    bootstrap_p = np.mean(draws >= -1e-9, axis=0)
    fails = 0
    for r in range(REPLICATES):
        if diffs[r].mean() < 0 and bootstrap_p[r] < ALPHA:
            d = [Fraction(int(c), 8) - int(b) for b, c in zip(base[r], cand8[r], strict=True)]
            fails += sign_flip_test(d).p_regression < ALPHA
    return fails / REPLICATES


def test_false_alarms_with_unequal_sample_counts_stay_below_alpha() -> None:
    paired = _false_alarms(all_samples=False)
    p = _probabilities()
    exact = binary_power(
        BinaryRule.build(PROMPTS, 0.0, ALPHA), float(np.mean(2 * p * (1 - p))), p.mean(), 0.0
    )
    print(f"1 vs 8 samples, 45 prompts: paired on shared indices {paired:.4f} (engine {exact:.4f})")
    assert paired <= ALPHA and exact <= ALPHA


def test_comparing_all_samples_of_unequal_runs_would_raise_false_alarms() -> None:
    """Why the pairing exists: the measured rate of the old comparison is above alpha."""
    unpaired = _false_alarms(all_samples=True)
    se = math.sqrt(ALPHA * (1 - ALPHA) / REPLICATES)
    print(f"1 vs 8 samples, 45 prompts, every sample compared: {unpaired:.4f}")
    assert unpaired > ALPHA + 3 * se
