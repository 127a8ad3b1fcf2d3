"""How fast `mathif score` scores responses, against baselines measured in the same run.

Run: .venv/bin/python benchmarks/bench_score.py [--corpus realistic|long] [--responses N] [--jobs 2]

Always printed, all on the same responses:
  * naive: the official path in our safe implementation, one response at a time in this process
    (every answer through the whole grading cascade with sympy in one worker, no fast path, no
    memoisation; the constraint checks with nltk's per-call regex timeouts and nltk on every
    sentence, langdetect's own detector and profile loading);
  * ours with --jobs 1 (the serial reference) and with --jobs N: whole `mathif score` processes;
  * checks: verdicts and grades identical between naive, 1 and N workers, and the capital-word
    tokens of the fast path identical to nltk's on every answer.
With MATHIF_OFFICIAL_DIR set (a scratch installation of the official evaluator; README,
"Performance"), the official `eval_if.py` runs on the same responses, timed as a whole process,
and its per-response results (all followed, number followed, correct) are compared with ours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _clock import Timing, clock
from _corpus import CORPORA, DATA, write_jsonl
from official import official_dir, run_official

from mathif_pytest.constraints import check_response
from mathif_pytest.constraints._text import capital_words, capital_words_slow
from mathif_pytest.dataset import Sample, load_dataset
from mathif_pytest.grading import Grader, split_response

Pair = tuple[Sample, str]
Row = tuple[tuple[bool, ...], str]


@contextmanager
def reference_checks() -> Iterator[None]:
    """The constraint checks without our fast paths: nltk on every sentence, langdetect as is."""
    from langdetect.detector import Detector
    from langdetect.detector_factory import DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    from mathif_pytest.constraints import _langdetect, case, language

    factory = DetectorFactory()
    factory.seed = _langdetect.DETECTOR_SEED
    paths = sorted(p for p in _langdetect.profiles_dir().iterdir() if not p.name.startswith("."))
    factory.load_json_profile([p.read_text(encoding="utf-8") for p in paths])
    saved = case.capital_words, language._factory, language._detector_class
    case.capital_words = capital_words_slow  # type: ignore[assignment]
    language._factory = lambda: (factory, LangDetectException)  # type: ignore[assignment]
    language._detector_class = lambda: Detector  # type: ignore[assignment]
    try:
        yield
    finally:
        case.capital_words, language._factory, language._detector_class = saved


def naive(pairs: list[Pair]) -> tuple[list[Row], Timing]:
    """One at a time: the naive grader, then the reference checks (nltk's per-call timeouts)."""
    rows = []
    with (
        clock() as timing,
        reference_checks(),
        Grader(jobs=1, cache=False, fast_path=False) as grader,
    ):
        for sample, text in pairs:
            answer = split_response(text).answer
            grade = grader.grade_many([(sample.answer, answer)])[0]
            verdicts = check_response([c.checker for c in sample.constraints], answer)
            rows.append((tuple(v.followed for v in verdicts), grade.outcome.value))
    return rows, timing


def ours(responses: Path, jobs: int, work: Path) -> tuple[list[Row], list[dict], Timing]:
    """A whole `mathif score` process; its results file."""
    out = work / f"ours-{jobs}.json"
    command = [
        sys.executable,
        "-c",
        "import sys; from mathif_pytest.cli import main; sys.exit(main())",
    ]
    command += ["score", "--data", str(DATA)]
    command += ["--responses", str(responses), "--jobs", str(jobs), "--out", str(out)]
    with clock() as timing:
        subprocess.run(command, check=True, capture_output=True)
    cases = json.loads(out.read_text(encoding="utf-8"))["cases"]
    return [(tuple(c["follow"]), c["grade"]) for c in cases], cases, timing


def tokens_identical(pairs: list[Pair]) -> int:
    """How many answers' capital-word tokens differ between the fast path and nltk's own."""
    answers = (split_response(text).answer for _, text in pairs)
    return sum(list(capital_words(a)) != capital_words_slow(a) for a in answers)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _ratio(name: str, theirs: Timing, ours: Timing) -> str:
    return (
        f"{name:<19}: {theirs.wall:6.1f} s wall, {theirs.cpu:6.1f} s CPU -> ours is "
        f"{theirs.wall / ours.wall:.1f}x faster (wall, same run), "
        f"{theirs.cpu / ours.cpu:.1f}x less CPU"
    )


def compare_official(pairs: list[Pair], cases: list[dict], timing: Timing, work: Path) -> None:
    root = official_dir()
    if root is None:
        print("official: set MATHIF_OFFICIAL_DIR to run the official evaluator side by side")
        return
    run = run_official(root, pairs, work)
    hard = sum(bool(c["hard"]) != s for c, s in zip(cases, run.strict, strict=True))
    followed = sum(sum(c["follow"]) != f for c, f in zip(cases, run.followed, strict=True))
    correct = [
        i for i, (c, r) in enumerate(zip(cases, run.correct, strict=True)) if c["correct"] != r
    ]
    print(_ratio("official", Timing(run.seconds, run.cpu), timing))
    print(
        f"  agreement: all-followed differs on {hard}, number followed on {followed}, "
        f"correct on {len(correct)} of {len(pairs)} responses"
    )
    for index in correct[:10]:
        case = cases[index]
        print(
            f"    #{index}: extracted {case['extracted']!r} vs reference {case['reference']!r}: "
            f"official {run.correct[index]}, ours {case['correct']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="realistic")
    parser.add_argument("--responses", type=int, default=6000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (best is kept)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    args = parser.parse_args()
    samples = list(load_dataset(DATA).samples)
    pairs = CORPORA[args.corpus](samples, args.responses, 0)
    size = sum(len(text) for _, text in pairs) / len(pairs) / 1024
    print(
        f"{len(pairs)} {args.corpus} responses ({size:.1f} KB on average) to {len(samples)} "
        f"MathIF prompts; {os.cpu_count()} cores, load average {_load()}"
    )
    work = Path(tempfile.mkdtemp(prefix="mathif-bench-"))
    responses = work / "responses.jsonl"
    write_jsonl(pairs, responses)

    runs: dict[int, list[tuple[list[Row], list[dict], Timing]]] = {1: [], args.jobs: []}
    for _ in range(args.repeat):  # interleaved, so load from elsewhere hits both alike
        for jobs in runs:
            runs[jobs].append(ours(responses, jobs, work))
    serial, parallel = (min(runs[j], key=lambda run: run[2].wall) for j in (1, args.jobs))
    for jobs, (_, _, timing) in ((1, serial), (args.jobs, parallel)):
        print(
            f"ours --jobs {jobs:<6} : {timing.wall:6.1f} s wall, {timing.cpu:6.1f} s CPU "
            f"({len(pairs) / timing.wall:7.1f} responses/s; best of {args.repeat})"
        )
    print(f"--jobs {args.jobs} vs --jobs 1: {serial[2].wall / parallel[2].wall:.2f}x (wall)")
    cases, ours_time = parallel[1], parallel[2]
    identical = all(run[0] == serial[0] for results in runs.values() for run in results)
    checks = {f"1 and {args.jobs} workers give identical results": identical}
    if not args.no_naive:
        base, base_time = naive(pairs)
        print(_ratio("naive", base_time, ours_time))
        checks["identical to the naive baseline"] = base == serial[0]
    checks["capital-word tokens identical to nltk's"] = tokens_identical(pairs) == 0
    for name, ok in checks.items():
        print(f"check: {name}: {ok}")
    compare_official(pairs, cases, ours_time, work)
    print(f"load average at the end: {_load()} (other jobs on the machine inflate wall times)")
    if not all(checks.values()):
        raise SystemExit("a check failed: an optimisation changed a decision")


if __name__ == "__main__":
    main()
