"""How fast `mathif score` scores responses, against a naive baseline measured in the same run.

Run: .venv/bin/python benchmarks/bench_score.py [--responses 4200] [--jobs 2]

Naive baseline: what the official evaluator does, in our safe implementation: one response at a
time, every answer through the whole grading cascade with sympy (no in-process fast path, no
memoisation, one worker process), then the constraint checks. Ours: `score_items`, which
grades in batches with memoisation and `--jobs` worker processes. Both score the same responses;
the script checks that their verdicts are identical.
"""

from __future__ import annotations

import argparse
import time

from _corpus import DATA, responses

from mathif_pytest.constraints import check_response
from mathif_pytest.dataset import load_dataset
from mathif_pytest.grading import Grader, split_response
from mathif_pytest.scoring import ScoringConfig, ScoringItem, score_items


def naive(
    pairs: list[tuple[object, str]],
) -> tuple[list[tuple[bool, ...]], list[str], float, float]:
    follows, grades = [], []
    checking = grading = 0.0
    with Grader(jobs=1, cache=False, fast_path=False) as grader:
        for sample, text in pairs:
            answer = split_response(text).answer
            started = time.perf_counter()
            grade = grader.grade_many([(sample.answer, answer)])[0]  # type: ignore[attr-defined]
            grading += time.perf_counter() - started
            started = time.perf_counter()
            verdicts = check_response([c.checker for c in sample.constraints], answer)  # type: ignore[attr-defined]
            checking += time.perf_counter() - started
            follows.append(tuple(v.followed for v in verdicts))
            grades.append(grade.outcome.value)
    return follows, grades, grading, checking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=4200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    samples = list(load_dataset(DATA).samples)
    pairs = responses(samples, args.responses)
    print(f"{len(pairs)} responses to {len(samples)} MathIF prompts")

    started = time.perf_counter()
    base_follow, base_grades, base_grading, base_checking = naive(pairs)  # type: ignore[arg-type]
    base_total = time.perf_counter() - started

    items = [ScoringItem(sample=s, index=0, text=t) for s, t in pairs]
    started = time.perf_counter()
    results = score_items(items, ScoringConfig(jobs=args.jobs))
    ours_total = time.perf_counter() - started

    # the split of our time: constraint checks alone, measured on the same responses
    started = time.perf_counter()
    for sample, text in pairs:
        check_response([c.checker for c in sample.constraints], split_response(text).answer)
    ours_checking = time.perf_counter() - started

    same = [r.follow for r in results] == base_follow and [
        r.grade.outcome.value for r in results
    ] == base_grades
    print(f"verdicts identical to the naive baseline: {same}")
    print(
        f"naive : {len(pairs) / base_total:8.1f} responses/s ({base_total:.1f} s; grading "
        f"{base_grading:.1f} s = {base_grading / base_total:.0%}, constraint checks "
        f"{base_checking:.1f} s)"
    )
    print(
        f"ours  : {len(pairs) / ours_total:8.1f} responses/s ({ours_total:.1f} s; constraint "
        f"checks ~{ours_checking:.1f} s, grading ~{max(ours_total - ours_checking, 0):.1f} s; "
        f"jobs={args.jobs})"
    )
    print(f"ratio : {base_total / ours_total:.1f}x faster than the naive baseline")
    if not same:
        raise SystemExit("verdicts differ: the optimised path changed a decision")


if __name__ == "__main__":
    main()
