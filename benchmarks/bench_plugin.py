"""The pytest plugin's overhead: a 420-case replay run through pytest vs `mathif score` on the
same responses, and `-n 2` vs no xdist, all measured in this run (wall time of whole processes).

Run: .venv/bin/python benchmarks/bench_plugin.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import DATA, responses

from mathif_pytest.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    samples = list(load_dataset(DATA).samples)
    work = Path(tempfile.mkdtemp(prefix="mathif-bench-"))
    replay = work / "responses.jsonl"
    with replay.open("w", encoding="utf-8") as handle:
        for sample, text in responses(samples, len(samples)):
            handle.write(json.dumps({"uid": sample.uid, "response": text}) + "\n")
    score = [str(BIN / "mathif"), "score", "--data", str(DATA), "--responses", str(replay)]
    # The store is filled once first, so the pytest runs measure scoring, not store writes.
    pytest = [
        str(BIN / "pytest"),
        str(REPO / "suites" / "full.yaml"),
        "--model",
        str(replay),
        f"--mathif-data={DATA}",
        f"--mathif-store={work / 'store.sqlite'}",
        "-q",
        "-p",
        "no:cacheprovider",
        "--mathif-gate=correctness>=0",
        f"--rootdir={work}",
    ]
    _timed(pytest, work)
    runs: dict[str, list[float]] = {"mathif score": [], "pytest": [], "pytest -n 2": []}
    for _ in range(args.repeat):  # interleaved, so machine noise hits every variant alike
        runs["mathif score"].append(_timed(score, work))
        runs["pytest"].append(_timed(pytest, work))
        runs["pytest -n 2"].append(_timed([*pytest, "-n", "2"], work))
    best = {name: min(times) for name, times in runs.items()}
    print(f"{len(samples)} replayed responses, best of {args.repeat} (median in brackets):")
    for name, times in runs.items():
        print(f"  {name:<13} {best[name]:6.2f} s  [{statistics.median(times):.2f} s]")
    print(f"plugin overhead: pytest / mathif score = {best['pytest'] / best['mathif score']:.2f}x")
    print(f"xdist:           pytest -n 2 / pytest  = {best['pytest -n 2'] / best['pytest']:.2f}x")


if __name__ == "__main__":
    main()
