"""The size of the single-file Allure report of a full-suite run with realistic thinking traces.

The scenario of issue 10: all 420 samples, every response with a ~23 KB ``<think>`` trace, a
candidate with planted regressions compared against a baseline (``--mathif-baseline``, a failing
``delta.*`` gate), then ``npx allure generate`` with the checkout's ``allurerc.mjs``. With
``--against DIR`` (another checkout, e.g. ``git archive main | tar -x -C DIR`` with
``node_modules`` linked in) the same inputs are reported by both and the ratio is printed.

Run: .venv/bin/python benchmarks/bench_allure_size.py [--against /tmp/base] [--thinking 23000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import DATA, responses

from mathif_pytest.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
#: How many candidate responses are turned into regressions (the issue's planted regression).
PLANTED = 24
_WORDS = [
    "we",
    "compute",
    "the",
    "sum",
    "then",
    "check",
    "each",
    "case",
    "and",
    "the",
    "remainder",
    "again",
    "carefully",
]


def _thinking(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def write_replays(work: Path, size: int) -> tuple[Path, Path]:
    """A baseline and a candidate replay file; the candidate breaks PLANTED right answers."""
    samples = list(load_dataset(DATA).samples)
    rng = random.Random(0)
    base, cand = work / "baseline.jsonl", work / "candidate.jsonl"
    planted = set(rng.sample([s.uid for s in samples], PLANTED))
    with base.open("w", encoding="utf-8") as b, cand.open("w", encoding="utf-8") as c:
        for sample, text in responses(samples, len(samples)):
            answer = text.split("</think>")[-1]
            good = f"<think>{_thinking(rng, size)}</think>{answer} \\boxed{{{sample.answer}}}"
            bad = f"<think>{_thinking(rng, size)}</think>Well, FIRST, the answer: \\boxed{{0}}."
            b.write(json.dumps({"uid": sample.uid, "response": good}) + "\n")
            line = bad if sample.uid in planted else good
            c.write(json.dumps({"uid": sample.uid, "response": line}) + "\n")
    return base, cand


def _pytest(code: Path, work: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(code)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "full.yaml",
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        str(work / "pytest.ini"),
        f"--rootdir={work}",
        f"--mathif-data={DATA}",
        *args,
    ]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"pytest exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr}")


def report_size(code: Path, base: Path, cand: Path, root: Path) -> dict[str, float]:
    """Run baseline and candidate with ``code`` on the path; generate; measure the report."""
    work = root / code.name
    work.mkdir()
    (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    shutil.copyfile(REPO / "suites" / "full.yaml", work / "full.yaml")
    store = f"--mathif-store={work / 'store.sqlite'}"
    baseline = work / "baseline.json"
    _pytest(code, work, "--model", str(base), store, f"--mathif-results={baseline}")
    results = work / "allure-results"
    started = time.perf_counter()
    _pytest(
        code,
        work,
        "--model",
        str(cand),
        store,
        f"--mathif-baseline={baseline}",
        "--mathif-gate=delta.hard_accuracy>=-0.02",
        "--mathif-gate=delta.correctness>=-0.02",
        f"--alluredir={results}",
    )
    run = time.perf_counter() - started
    env = {
        **os.environ,
        "MATHIF_ALLURE_RESULTS": str(results),
        "MATHIF_ALLURE_HISTORY": str(work / "history.jsonl"),
    }
    started = time.perf_counter()
    out = work / "allure-report"
    subprocess.run(
        ["npx", "--no-install", "allure", "generate", str(results), "-o", str(out)],
        cwd=code,
        env=env,
        capture_output=True,
        check=True,
    )
    generate = time.perf_counter() - started
    files = [p for p in results.iterdir() if p.is_file()]
    return {
        "html_mb": (out / "index.html").stat().st_size / 1e6,
        "results_mb": sum(p.stat().st_size for p in files) / 1e6,
        "result_files": len(files),
        "pytest_s": run,
        "generate_s": generate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout to measure alike")
    parser.add_argument("--thinking", type=int, default=23_000, help="bytes of thinking")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mathif-allure-size-"))
    base, cand = write_replays(root, args.thinking)
    responses_mb = cand.stat().st_size / 1e6
    print(f"420 responses, {responses_mb:.1f} MB of replay text ({PLANTED} planted regressions)")
    rows = {"this checkout": report_size(REPO, base, cand, root)}
    if args.against is not None:
        rows[str(args.against)] = report_size(args.against.resolve(), base, cand, root)
    for name, row in rows.items():
        print(
            f"{name:<28} index.html {row['html_mb']:6.1f} MB  results {row['results_mb']:6.1f} MB "
            f"in {row['result_files']:4.0f} files  pytest {row['pytest_s']:5.1f} s  "
            f"generate {row['generate_s']:5.1f} s"
        )
    if args.against is not None:
        mine, other = rows["this checkout"], rows[str(args.against)]
        print(f"ratio (this / {args.against}): {mine['html_mb'] / other['html_mb']:.2f}")


if __name__ == "__main__":
    main()
