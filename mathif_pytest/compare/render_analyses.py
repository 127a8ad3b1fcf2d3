"""The sweep's analysis tables: constraint cost, thinking length, error sets, interventions."""

from __future__ import annotations

from mathif_pytest.analyses import Correlation, format_edge
from mathif_pytest.compare.sweep import Sweep
from mathif_pytest.compare.table import Table
from mathif_pytest.stats import Rate

__all__ = ["analysis_tables"]

_EFFECT_METRICS = (("hard_accuracy", "HAcc"), ("correctness", "Correct"))


def analysis_tables(sweep: Sweep) -> list[Table]:
    """The tables that have data, in order: interventions, cost, thinking length, error sets."""
    tables = [
        _effects(sweep),
        _cost(sweep),
        _cost_by_source(sweep),
        _lengths(sweep),
        _error_sets(sweep),
        _error_sets_by_source(sweep),
    ]
    return [t for t in tables if t.rows]


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _pts(value: float, low: float, high: float) -> str:
    return f"{100 * value:+.2f} [{100 * low:+.2f}, {100 * high:+.2f}]"


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _effects(sweep: Sweep) -> Table:
    rows = []
    for effect in sweep.effects:
        for metric, label in _EFFECT_METRICS:
            d = effect.comparison.metric(metric)
            if d is None:
                continue
            rows.append(
                (
                    effect.plain,
                    f"{effect.intervened} ({effect.intervention})",
                    label,
                    str(d.prompts),
                    _pct(d.baseline),
                    _pct(d.candidate),
                    _pts(d.delta, d.low, d.high),
                    _p(d.test.p_two_sided),
                )
            )
    return Table(
        title="Interventions beside the plain run of the same checkpoint",
        header=(
            "plain run",
            "with intervention",
            "metric",
            "prompts",
            "plain %",
            "with %",
            "delta pts",
            "p",
        ),
        rows=tuple(rows),
        note="paired by prompt; delta = with - plain, paired-bootstrap interval; p: exact "
        "paired test",
    )


def _cost(sweep: Sweep) -> Table:
    rows = []
    for c in sweep.checkpoints:
        if c.cost is None:
            continue
        r = c.cost.overall
        rows.append(
            (
                c.label,
                str(r.prompts),
                _pct(r.without_constraints),
                _pct(r.with_constraints),
                _pts(r.drop, r.low, r.high),
                "-" if r.paper_diff is None else f"{r.paper_diff:+.2f}",
                _p(r.test.p_two_sided),
                f"{r.worse} / {r.better}",
            )
        )
    return Table(
        title="Constraint cost: correctness without vs with constraints (paired by prompt)",
        header=(
            "checkpoint",
            "prompts",
            "w/o %",
            "with %",
            "drop pts",
            "paper Diff %",
            "p",
            "worse / better",
        ),
        rows=tuple(rows),
        note="drop = without - with; 95% interval: Newcombe (paired); p: exact McNemar "
        "(sign-flip with several samples)",
    )


def _cost_by_source(sweep: Sweep) -> Table:
    costs = [(c.label, c.cost) for c in sweep.checkpoints if c.cost is not None]
    sources = sorted({s for _, cost in costs for s in cost.by_source})
    rows = tuple(
        (
            source,
            *(
                _pts(r.drop, r.low, r.high) if (r := cost.by_source.get(source)) else "-"
                for _, cost in costs
            ),
        )
        for source in sources
    )
    return Table(
        title="Constraint cost by source: drop pts",
        header=("source", *(label for label, _ in costs)),
        rows=rows if len(costs) and len(sources) > 1 else (),
        folded=True,
    )


def _lengths(sweep: Sweep) -> Table:
    rows = []
    for c in sweep.checkpoints:
        bins = c.summary.by_length
        if bins is None:
            continue
        rates: list[Rate | None] = [b.hard_accuracy or b.correctness for b in bins.bins]
        rows.append(
            (
                c.label,
                ", ".join(sorted(bins.sources)),
                " | ".join(format_edge(e) for e in bins.edges),
                " ".join("-" if r is None else f"{100 * r.value:.0f}" for r in rates),
                _rho(bins.hard),
            )
        )
    return Table(
        title="Obedience vs thinking length (quantile bins of thinking tokens)",
        header=("checkpoint", "tokens", "bin edges", "HAcc % per bin", "rho(length, HAcc)"),
        rows=tuple(rows),
        note="Spearman's rank correlation with a 95% Fisher-z interval; tokens: where the "
        "lengths came from (approximate: no tokenizer)",
    )


def _rho(corr: Correlation | None) -> str:
    if corr is None:
        return "-"
    if corr.low is None or corr.high is None:
        return f"{corr.rho:+.2f}"
    return f"{corr.rho:+.2f} [{corr.low:+.2f}, {corr.high:+.2f}]"


def _error_sets(sweep: Sweep) -> Table:
    rows = []
    for c in sweep.checkpoints:
        sets = c.summary.error_sets
        if sets is None:
            continue
        e = sets.overall
        given_f, given_v = e.correct_given_followed(), e.correct_given_violated()
        rows.append(
            (
                c.label,
                str(e.responses),
                str(e.followed_correct),
                str(e.followed_wrong),
                str(e.violated_correct),
                str(e.violated_wrong),
                "-" if given_f is None else _pct(given_f.value),
                "-" if given_v is None else _pct(given_v.value),
            )
        )
    return Table(
        title="Error sets: constraints followed x answer correct (responses with constraints)",
        header=(
            "checkpoint",
            "n",
            "followed+correct",
            "followed+wrong",
            "violated+correct",
            "violated+wrong",
            "P(correct|followed) %",
            "P(correct|violated) %",
        ),
        rows=tuple(rows),
    )


def _error_sets_by_source(sweep: Sweep) -> Table:
    rows = []
    for c in sweep.checkpoints:
        sets = c.summary.error_sets
        for source, e in (sets.by_source if sets else {}).items():
            given_f, given_v = e.correct_given_followed(), e.correct_given_violated()
            rows.append(
                (
                    f"{c.label} / {source}",
                    str(e.responses),
                    f"{e.followed_correct} / {e.followed_wrong} / {e.violated_correct} / "
                    f"{e.violated_wrong}",
                    "-" if given_f is None else _pct(given_f.value),
                    "-" if given_v is None else _pct(given_v.value),
                )
            )
    return Table(
        title="Error sets by source",
        header=(
            "checkpoint / source",
            "n",
            "FC / FW / VC / VW",
            "P(c|followed) %",
            "P(c|violated) %",
        ),
        rows=tuple(rows),
        folded=True,
    )
