"""The paper's analyses as a few terminal lines per suite: constraint cost, length bins, error sets.

Compact on purpose: the numbers with their intervals are in ``--mathif-results`` and the Allure
charts; here each analysis gets one or two lines of at most 100 columns.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from mathif_pytest.analyses import ConstraintCost, ErrorSets, LengthBins, format_edge
from mathif_pytest.analyses.length_bins import Correlation
from mathif_pytest.results import CaseResult
from mathif_pytest.stats import Rate, Summary

__all__ = ["analysis_lines", "cost_lines", "error_set_line", "intervention_line", "length_lines"]

_WIDTH = 98


def analysis_lines(
    summary: Summary, cost: ConstraintCost | None, cases: Sequence[CaseResult]
) -> list[str]:
    """Every analysis that applies: cost, thinking length, error sets, intervention."""
    lines = cost_lines(cost) if cost is not None else []
    if summary.by_length is not None:
        lines += length_lines(summary.by_length)
    if summary.error_sets is not None:
        lines += error_set_line(summary.error_sets)
    lines += intervention_line(cases)
    return lines


def cost_lines(cost: ConstraintCost) -> list[str]:
    """The drop in correctness the constraints cost, with its test; then the drop per source."""
    row = cost.overall
    diff = "" if row.paper_diff is None else f" (paper's Diff {row.paper_diff:+.2f}%)"
    text = (
        f"constraint cost ({row.prompts} prompts asked both ways): correctness "
        f"{100 * row.without_constraints:.2f}% without -> {100 * row.with_constraints:.2f}% with "
        f"constraints, drop {100 * row.drop:+.2f} pts [{100 * row.low:+.2f}, "
        f"{100 * row.high:+.2f}]{diff}, exact paired p={row.test.p_two_sided:.3g} "
        f"({row.worse} worse, {row.better} better)"
    )
    lines = textwrap.wrap(text, _WIDTH, subsequent_indent="  ")
    if len(cost.by_source) > 1:
        drops = ", ".join(f"{k} {100 * v.drop:+.1f}" for k, v in cost.by_source.items())
        lines += textwrap.wrap(
            f"drop by source (pts): {drops}", _WIDTH, initial_indent="  ", subsequent_indent="  "
        )
    return lines


def length_lines(bins: LengthBins) -> list[str]:
    """The bins and how the lengths were counted, their edges, then HAcc per bin and rho."""
    sources = ", ".join(f"{k} {v}" for k, v in bins.sources.items())
    edges = " | ".join(format_edge(edge) for edge in bins.edges)
    metric = "HAcc" if any(b.hard_accuracy is not None for b in bins.bins) else "Correct"
    cells = " ".join(_percent(b.hard_accuracy or b.correctness) for b in bins.bins)
    tail = f"{metric} % per bin: {cells}"
    if bins.hard is not None:
        tail += f"; Spearman rho(length, HAcc) {_rho(bins.hard)}"
    return [
        f"by thinking length ({len(bins.bins)} quantile bins; token counts: {sources})",
        *textwrap.wrap(f"edges: {edges}", _WIDTH, initial_indent="  ", subsequent_indent="    "),
        *textwrap.wrap(tail, _WIDTH, initial_indent="  ", subsequent_indent="    "),
    ]


def error_set_line(sets: ErrorSets) -> list[str]:
    """The 2x2 and both conditional correctness rates."""
    e = sets.overall
    text = (
        f"error sets ({e.responses} responses): followed+correct {e.followed_correct}, "
        f"followed+wrong {e.followed_wrong}, violated+correct {e.violated_correct}, "
        f"violated+wrong {e.violated_wrong}; P(correct|followed) "
        f"{_percent(e.correct_given_followed())}, P(correct|violated) "
        f"{_percent(e.correct_given_violated())}"
    )
    return textwrap.wrap(text, _WIDTH, subsequent_indent="  ")


def intervention_line(cases: Sequence[CaseResult]) -> list[str]:
    """What an intervention did: responses touched and insertions made (none without one)."""
    records = [c.intervention for c in cases if c.intervention is not None]
    if not records:
        return []
    touched = sum(bool(r.get("inserted")) for r in records)
    inserted = sum(len(r.get("inserted") or ()) for r in records)
    label = records[0].get("label", "intervention")
    text = (
        f"intervention {label}: text inserted into {touched} of {len(records)} responses "
        f"({inserted} insertions; the results file records each stage)"
    )
    return textwrap.wrap(text, _WIDTH, subsequent_indent="  ")


def _percent(rate: Rate | None) -> str:
    return "-" if rate is None or rate.n == 0 else f"{100 * rate.value:.1f}"


def _rho(corr: Correlation) -> str:
    if corr.low is None or corr.high is None:
        return f"{corr.rho:+.2f} (n={corr.n})"
    return f"{corr.rho:+.2f} [{corr.low:+.2f}, {corr.high:+.2f}] (n={corr.n})"
