"""What the gate's statistics cost at the end of a run, against the comparison alone.

Run: .venv/bin/python benchmarks/bench_gate_statistics.py [--samples 1] [--repeat 3]

Baseline (measured in the same run): `compare_runs` of two synthetic MathIF-shaped runs (420
prompts), once per group a gate names: the paired tests and bootstraps the gate always needed.
Ours: `evaluate_gate_with_baseline` on the same runs, which adds Holm across the rows and each
row's power (exact for one 0/1 outcome per prompt, simulated for soft accuracy and several
samples). Gates: the three overall metrics (3 rows), and 3 metrics x 24 groups (72 rows).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))

from _synthetic_runs import SOURCES, TYPES, synthetic_run

from mathif_pytest.compare import compare_runs, evaluate_gate_with_baseline
from mathif_pytest.gate import DELTA_METRICS, parse_threshold
from mathif_pytest.stats import summarize


def _gate(groups: list[str | None]) -> list:
    return [
        parse_threshold(f"delta.{m}{f'[{g}]' if g else ''}>=-0.02")
        for g in groups
        for m in DELTA_METRICS
    ]


def _best(seconds: list[float]) -> float:
    return min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base, cand = synthetic_run(0, samples=args.samples), synthetic_run(1, samples=args.samples)
    summary = summarize(cand)
    everything = [None, *(s for s, _ in SOURCES), "single", "double", "triple", *TYPES]
    for name, groups in (("3 rows", [None]), ("72 rows", everything)):
        thresholds = _gate(groups)
        compare, gate = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            for group in groups:
                compare_runs(base, cand, group=group)
            compare.append(time.perf_counter() - started)
            started = time.perf_counter()
            evaluate_gate_with_baseline(summary, cand, base, thresholds)
            gate.append(time.perf_counter() - started)
        print(
            f"{name:>8}, {args.samples} sample(s) per prompt: comparisons alone "
            f"{_best(compare):.2f} s, the whole gate {_best(gate):.2f} s "
            f"({_best(gate) / _best(compare):.1f}x)"
        )


if __name__ == "__main__":
    main()
