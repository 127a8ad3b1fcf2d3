"""PNG plots of a sweep: the trade-off, compliance per constraint type, obedience vs length."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mathif_pytest.compare.sweep import Sweep
from mathif_pytest.errors import MathIFError

__all__ = ["plot_by_length", "plot_constraint_heatmap", "plot_tradeoff", "write_plots"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MathIFError(
            "plots need matplotlib; install mathif-pytest[allure] for plots "
            "(pip install 'mathif-pytest[allure]'), or leave out --out-dir"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(sweep: Sweep, out_dir: Path) -> list[Path]:
    """Write ``tradeoff.png``, ``constraints.png`` and ``by_length.png`` (those with data).

    Raises:
        MathIFError: matplotlib is not installed.
    """
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [plot_tradeoff(sweep, out_dir / "tradeoff.png", plt)]
    if any(c.summary.by_constraint for c in sweep.checkpoints):
        paths.append(plot_constraint_heatmap(sweep, out_dir / "constraints.png", plt))
    if any(c.summary.by_length is not None for c in sweep.checkpoints):
        paths.append(plot_by_length(sweep, out_dir / "by_length.png", plt))
    return paths


def plot_by_length(sweep: Sweep, path: Path, plt: Any) -> Path:
    """HAcc per quantile bin of thinking length, one line per checkpoint (x: bin middles)."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=150)
    for c in sweep.checkpoints:
        bins = c.summary.by_length
        if bins is None:
            continue
        points = [((b.low + b.high) / 2, b.hard_accuracy or b.correctness) for b in bins.bins]
        xs = [x for x, _ in points]
        ys = [100 * rate.value for _, rate in points]
        low = [y - 100 * rate.low for y, (_, rate) in zip(ys, points, strict=True)]
        high = [100 * rate.high - y for y, (_, rate) in zip(ys, points, strict=True)]
        ax.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=c.label, alpha=0.85)
    ax.set_xlabel("thinking tokens (middle of each quantile bin)", fontsize=11)
    ax.set_ylabel("hard accuracy % (95% Wilson interval)", fontsize=11)
    ax.set_title("Obedience vs thinking length", fontsize=12)
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _points(sweep: Sweep) -> list[tuple[str, Any, Any]]:
    out = []
    for c in sweep.checkpoints:
        hard, correct = c.summary.overall.hard_accuracy, c.summary.overall.correctness
        if hard is not None and hard.n:
            out.append((c.label, hard, correct))
    return out


def plot_tradeoff(sweep: Sweep, path: Path, plt: Any) -> Path:
    """Hard accuracy (x) against correctness (y), 95% intervals as error bars, arrows in order."""
    fig, ax = plt.subplots(figsize=(7, 5.5), dpi=150)
    points = _points(sweep)
    xs = [100 * h.value for _, h, _ in points]
    ys = [100 * c.value for _, _, c in points]
    for (label, h, c), x, y in zip(points, xs, ys, strict=True):
        ax.errorbar(
            x,
            y,
            xerr=[[x - 100 * h.low], [100 * h.high - x]],
            yerr=[[y - 100 * c.low], [100 * c.high - y]],
            fmt="o",
            ms=7,
            capsize=4,
            color="#1f5fa8",
            ecolor="#7a9cc6",
            zorder=3,
        )
        ax.annotate(
            label, (x, y), xytext=(8, 8), textcoords="offset points", fontsize=11, fontweight="bold"
        )
    for i in range(1, len(xs)):
        (x0, y0), (x1, y1) = (xs[i - 1], ys[i - 1]), (xs[i], ys[i])
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            zorder=2,
            arrowprops={
                "arrowstyle": "-|>",
                "color": "#d0621d",
                "lw": 2,
                "shrinkA": 8,
                "shrinkB": 8,
            },
        )
    ax.set_xlabel("hard accuracy % (all constraints followed)", fontsize=11)
    ax.set_ylabel("correctness % (final answer right)", fontsize=11)
    ax.set_title("Reasoning vs obedience across checkpoints (95% intervals)", fontsize=12)
    ax.grid(True, alpha=0.3)
    ax.margins(0.15)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_constraint_heatmap(sweep: Sweep, path: Path, plt: Any) -> Path:
    """Share of each constraint type's instances followed, per checkpoint, as an annotated grid."""
    tables = [c.summary.by_constraint for c in sweep.checkpoints]
    types = sorted({t for table in tables for t in table})
    grid = [[_compliance(table, t) for table in tables] for t in types]
    width = 3.2 + 1.3 * len(tables)
    fig, ax = plt.subplots(figsize=(width, 0.42 * len(types) + 1.6), dpi=150)
    image = ax.imshow(
        [[v if v is not None else float("nan") for v in row] for row in grid],
        cmap="viridis",
        vmin=0,
        vmax=100,
        aspect="auto",
    )
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            text = "-" if value is None else f"{value:.0f}"
            dark = value is not None and value < 60
            ax.text(
                j, i, text, ha="center", va="center", fontsize=9, color="white" if dark else "black"
            )
    ax.set_xticks(range(len(tables)), [c.label for c in sweep.checkpoints], fontsize=9)
    ax.set_yticks(range(len(types)), types, fontsize=9)
    ax.set_title("Constraint instances followed, % per checkpoint", fontsize=11)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="% followed")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _compliance(table: dict[str, Any], key: str) -> float | None:
    stats = table.get(key)
    rate = stats.compliance if stats is not None else None
    return None if rate is None or rate.n == 0 else 100 * rate.value
