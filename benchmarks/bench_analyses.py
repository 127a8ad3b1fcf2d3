"""What the paper's analyses add to a run's summary, against the summary without them.

Run: .venv/bin/python benchmarks/bench_analyses.py [--samples 1] [--repeat 5]

Baseline (measured in the same run): the summary's metrics and breakdowns alone (``summarize``
less its analyses: the per-prompt pooling of overall, source, level and constraint type). Ours:
``summarize`` as it is (plus length bins and error sets), and the constraint cost of the same run
asked both ways (840 prompts). Synthetic MathIF-shaped runs of 420 prompts with thinking lengths.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

from _synthetic_runs import synthetic_run

from mathif_pytest import stats
from mathif_pytest.analyses import constraint_cost
from mathif_pytest.results import CaseResult


def _with_lengths(cases: list[CaseResult]) -> list[CaseResult]:
    rng = random.Random(0)
    return [
        replace(
            c, thinking_tokens=rng.randint(50, 8000), answer_tokens=200, length_source="tokenizer"
        )
        for c in cases
    ]


def _without_analyses(cases: list[CaseResult]) -> None:
    """The summary's own work: pool per prompt, then every breakdown (as ``summarize`` does)."""
    by_prompt: dict[tuple[str, bool], list[CaseResult]] = {}
    for case in cases:
        by_prompt.setdefault((case.uid, case.constrained), []).append(case)
    prompts = list(by_prompt.values())
    stats._group_stats(prompts)
    stats._grouped(prompts, lambda r: [r.source])
    stats._grouped(prompts, lambda r: [r.level])
    stats._grouped(prompts, lambda r: list(dict.fromkeys(r.constraint_ids)), True)


def _best(action: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Print the times and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases = _with_lengths(synthetic_run(1, samples=args.samples))
    both = cases + [replace(c, constrained=False, verdicts=()) for c in cases]
    base = _best(lambda: _without_analyses(cases), args.repeat)
    full = _best(lambda: stats.summarize(cases), args.repeat)
    cost = _best(lambda: constraint_cost(both), args.repeat)
    print(f"{len(cases)} responses ({args.samples} per prompt), best of {args.repeat}")
    print(f"summary without analyses: {1000 * base:.1f} ms (baseline)")
    print(f"summary with length bins and error sets: {1000 * full:.1f} ms ({full / base:.2f}x)")
    print(f"constraint cost of the run asked both ways: {1000 * cost:.1f} ms ({cost / base:.2f}x)")


if __name__ == "__main__":
    main()
