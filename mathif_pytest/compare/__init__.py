"""Paired comparison of runs: baseline gating (``delta.*`` thresholds) and checkpoint sweeps.

``compare_runs`` pairs two runs' results by prompt and reports per-metric deltas with exact paired
tests (McNemar / sign-flip) and seeded paired-bootstrap intervals, plus the flipped samples.
``evaluate_gate_with_baseline`` judges a gate whose thresholds may be relative to the baseline.
numpy is imported only when a comparison runs; matplotlib only when plots are drawn.
"""

from __future__ import annotations

from mathif_pytest.compare.bootstrap import Bounds, bootstrap_means, percentile_bounds
from mathif_pytest.compare.delta_gate import (
    evaluate_delta,
    evaluate_delta_gate,
    evaluate_gate_with_baseline,
    significant_shortfall,
)
from mathif_pytest.compare.exact import PairedTest, mcnemar_test, paired_test, sign_flip_test
from mathif_pytest.compare.flips import FLIP_KINDS, Flip
from mathif_pytest.compare.paired import (
    CompareOptions,
    ComparisonReport,
    MetricDelta,
    compare_runs,
)
from mathif_pytest.compare.power import describe_power, format_mde, paired_mde, unpaired_mde

__all__ = [
    "FLIP_KINDS",
    "Bounds",
    "CompareOptions",
    "ComparisonReport",
    "Flip",
    "MetricDelta",
    "PairedTest",
    "bootstrap_means",
    "compare_runs",
    "describe_power",
    "evaluate_delta",
    "evaluate_delta_gate",
    "evaluate_gate_with_baseline",
    "format_mde",
    "mcnemar_test",
    "paired_mde",
    "paired_test",
    "percentile_bounds",
    "sign_flip_test",
    "significant_shortfall",
    "unpaired_mde",
]
