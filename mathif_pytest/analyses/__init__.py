"""The paper's analyses as pure functions over scored results.

The constraint cost (correctness with vs without constraints, paired), obedience against
thinking length (quantile bins and a rank correlation) and the error sets (followed x correct).
"""

from __future__ import annotations

from mathif_pytest.analyses.constraint_cost import (
    ConstraintCost,
    CostRow,
    constraint_cost,
    headline_cases,
    newcombe_paired_interval,
)
from mathif_pytest.analyses.error_sets import ErrorSet, ErrorSets, error_sets
from mathif_pytest.analyses.length_bins import (
    DEFAULT_BINS,
    Correlation,
    LengthBin,
    LengthBins,
    format_edge,
    length_bins,
    quantile_edges,
    spearman,
)

__all__ = [
    "DEFAULT_BINS",
    "ConstraintCost",
    "Correlation",
    "CostRow",
    "ErrorSet",
    "ErrorSets",
    "LengthBin",
    "LengthBins",
    "constraint_cost",
    "error_sets",
    "format_edge",
    "headline_cases",
    "length_bins",
    "newcombe_paired_interval",
    "quantile_edges",
    "spearman",
]
