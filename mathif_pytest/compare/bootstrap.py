"""The seeded paired bootstrap: resample prompts with replacement, vectorised with numpy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BLOCK_ROWS",
    "Bounds",
    "bootstrap_means",
    "percentile_bounds",
    "resample_counts",
    "resample_indices",
]

#: Resamples drawn per block: bounds memory (BLOCK_ROWS x prompts counts) for large runs. Fixed,
#: so that a seed gives the same draws whatever the number of prompts.
BLOCK_ROWS = 2_000
#: Up to this many distinct columns, resampled sums are gathered; past it, a count matrix is used.
_GATHER_COLUMNS = 8


def resample_indices(units: int, rows: int, rng: np.random.Generator) -> NDArray[np.int32]:
    """A ``(rows, units)`` matrix of prompt indices drawn with replacement (one resample a row)."""
    import numpy as np

    return rng.integers(0, units, size=(rows, units), dtype=np.int32)


def resample_counts(picks: NDArray[np.int32]) -> NDArray[np.float64]:
    """How often each prompt is drawn in each resample: ``(rows, units)`` multinomial counts."""
    import numpy as np

    rows, units = picks.shape
    flat = (picks + units * np.arange(rows, dtype=np.int64)[:, None]).ravel()
    counts = np.bincount(flat, minlength=rows * units).reshape(rows, units)
    return counts.astype(np.float64)


def _block_sums(picks: NDArray[np.int32], columns: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    if columns.shape[1] <= _GATHER_COLUMNS:
        # A few columns (one comparison's metrics): gathering is cheaper than the count matrix.
        return np.stack([columns[:, j][picks].sum(axis=1) for j in range(columns.shape[1])], 1)
    return resample_counts(picks) @ columns


def bootstrap_means(
    values: ArrayLike, weights: ArrayLike | None = None, *, resamples: int = 10_000, seed: int = 0
) -> NDArray[np.float64]:
    """Weighted means of per-prompt values over bootstrap resamples of the prompts.

    The same resamples serve every column, so columns computed together stay paired (the three
    metrics of one comparison, or many simulated replicates in a calibration test), and a seed
    gives the same resamples for any number of columns.

    Args:
        values: ``(prompts,)`` or ``(prompts, columns)`` per-prompt values (e.g. differences
            candidate - baseline).
        weights: same shape; 1 where a prompt counts towards that column, 0 where it does not
            (hard accuracy of an unconstrained prompt). Default: every prompt counts.
        resamples: number of bootstrap resamples.
        seed: seeds ``numpy.random.default_rng``.

    Returns:
        A ``(resamples, columns)`` array (``(resamples,)`` for 1-D input) of resampled means;
        NaN where a resample drew no prompt that counts towards a column.
    """
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    flat = v.ndim == 1
    v = v.reshape(len(v), -1)
    w = np.ones_like(v) if weights is None else np.asarray(weights, np.float64).reshape(v.shape)
    # Gather each distinct column once: the weights are usually all ones (norm = prompts).
    distinct, inverse = np.unique(np.hstack([v * w, w]), axis=1, return_inverse=True)
    rng = np.random.default_rng(seed)
    blocks = []
    for start in range(0, resamples, BLOCK_ROWS):
        picks = resample_indices(len(v), min(BLOCK_ROWS, resamples - start), rng)
        blocks.append(_block_sums(picks, distinct))
    sums = np.concatenate(blocks)[:, np.ravel(inverse)]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums[:, : v.shape[1]] / sums[:, v.shape[1] :]
    return means[:, 0] if flat else means


@dataclass(frozen=True, slots=True, kw_only=True)
class Bounds:
    """Percentile bounds of bootstrap draws at level ``1 - alpha``.

    Attributes:
        low: the ``alpha/2`` quantile (two-sided interval, lower end).
        high: the ``1 - alpha/2`` quantile (two-sided interval, upper end).
        lower: the ``alpha`` quantile (one-sided lower bound).
        upper: the ``1 - alpha`` quantile (one-sided upper bound).
    """

    low: float
    high: float
    lower: float
    upper: float


def percentile_bounds(draws: ArrayLike, alpha: float) -> Bounds:
    """The two-sided ``1 - alpha`` percentile interval and the one-sided bounds of 1-D draws."""
    import numpy as np

    values = np.asarray(draws, np.float64)
    levels = [alpha / 2, 1 - alpha / 2, alpha, 1 - alpha]
    q = np.nanquantile(values, levels) if np.isnan(values).any() else np.quantile(values, levels)
    return Bounds(low=float(q[0]), high=float(q[1]), lower=float(q[2]), upper=float(q[3]))
