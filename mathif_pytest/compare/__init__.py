"""Paired comparison of runs: baseline gating (``delta.*`` thresholds) and checkpoint sweeps.

``compare_runs`` pairs two runs' results by prompt and reports per-metric deltas with exact paired
tests (McNemar / sign-flip) and seeded paired-bootstrap intervals, plus the flipped samples.
``evaluate_gate_with_baseline`` judges a gate whose thresholds may be relative to the baseline:
Holm across its tested rows, and each "no worse than" row's power at its own margin.
numpy is imported only when a comparison runs; matplotlib only when plots are drawn.
"""

from __future__ import annotations

from mathif_pytest.compare.bootstrap import Bounds, bootstrap_means, percentile_bounds
from mathif_pytest.compare.delta_gate import no_worse_fails
from mathif_pytest.compare.exact import PairedTest, mcnemar_test, paired_test, sign_flip_test
from mathif_pytest.compare.family import holm
from mathif_pytest.compare.flips import FLIP_KINDS, Flip
from mathif_pytest.compare.gate_eval import (
    GateOptions,
    evaluate_delta,
    evaluate_gate_with_baseline,
    judge_rows,
)
from mathif_pytest.compare.paired import (
    CompareOptions,
    ComparisonReport,
    MetricDelta,
    compare_runs,
)
from mathif_pytest.compare.pairing import Pairing
from mathif_pytest.compare.power import describe_power, format_mde, unpaired_mde
from mathif_pytest.compare.power_model import PowerModel, row_power

__all__ = [
    "FLIP_KINDS",
    "Bounds",
    "CompareOptions",
    "ComparisonReport",
    "Flip",
    "GateOptions",
    "MetricDelta",
    "PairedTest",
    "Pairing",
    "PowerModel",
    "bootstrap_means",
    "compare_runs",
    "describe_power",
    "evaluate_delta",
    "evaluate_gate_with_baseline",
    "format_mde",
    "holm",
    "judge_rows",
    "mcnemar_test",
    "no_worse_fails",
    "paired_test",
    "percentile_bounds",
    "row_power",
    "sign_flip_test",
    "unpaired_mde",
]
