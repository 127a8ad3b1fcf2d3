"""The pytest plugin's overhead: a 420-case replay run through pytest vs `mathif score` on the
same responses, `-n 2` vs no xdist, with and without Python's bytecode cache, all measured in this
run (wall time of whole processes, interleaved, best of --repeat).

Run: .venv/bin/python benchmarks/bench_plugin.py [--repeat 3]

"bytecode cache" keeps bytecode in a private PYTHONPYCACHEPREFIX (the repository and the venv are
left alone); "no bytecode cache" is PYTHONDONTWRITEBYTECODE=1 (this project's CI): pytest then
cannot cache the assertion-rewritten code of the modules it rewrites (every module of every
installed pytest plugin's distribution), and re-reads, re-parses, rewrites and compiles them on
every start. One extra run with a probe plugin prints where that time goes, per package.

"pytest floor" runs as many empty test functions through the same pytest and plugins: what
pytest's start-up and per-test protocol cost before this plugin does anything (the part of the
overhead that no change to this plugin can remove).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import DATA, responses, write_jsonl

from mathif_pytest.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
ENTRY = "import sys; from mathif_pytest.cli import main; sys.exit(main())"


def _run(command: list[str], cwd: Path, cache: bool) -> tuple[float, str]:
    """Run; with ``cache``, bytecode (pytest's rewritten modules too) is kept under ``cwd``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if cache:  # a private cache: nothing is written into the repository or the venv
        env["PYTHONPYCACHEPREFIX"] = str(cwd / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}")
    return elapsed, done.stdout


def _commands(work: Path, replay: Path, cases: int) -> dict[str, list[str]]:
    score = [sys.executable, "-c", ENTRY, "score", "--data", str(DATA), "--responses", str(replay)]
    pytest = [sys.executable, "-m", "pytest", str(REPO / "suites" / "full.yaml")]
    pytest += ["--model", str(replay), f"--mathif-data={DATA}", "-q", "-p", "no:cacheprovider"]
    pytest += [f"--mathif-store={work / 'store.sqlite'}", "--mathif-gate=correctness>=0"]
    pytest += [f"--rootdir={work}"]
    # The dev venv's hypothesis and anyio plugins import their packages in every session, and pytest
    # rewrites those too: the last variant shows the overhead without them (a user's venv).
    alone = [*pytest, "-p", "no:hypothesispytest", "-p", "no:anyio"]
    # pytest's own floor: as many empty test functions, the same plugins loaded (mathif idle)
    floor = work / "test_floor.py"
    floor.write_text("".join(f"def test_{i}():\n    pass\n\n\n" for i in range(cases)))
    empty = [sys.executable, "-m", "pytest", str(floor), "-q", "-p", "no:cacheprovider"]
    empty += [f"--rootdir={work}", "-p", "no:hypothesispytest", "-p", "no:anyio"]
    return {
        "mathif score": score,
        "pytest": pytest,
        "pytest -n 2": [*pytest, "-n", "2"],
        "pytest, test plugins off": alone,
        "pytest floor: empty tests": empty,
    }


def _rewrite_breakdown(pytest: list[str], work: Path) -> str:
    _, out = _run([*pytest, "-s", "-p", "_rewrite_probe"], work, cache=False)
    line = next((ln for ln in out.splitlines() if ln.startswith("REWRITE ")), "REWRITE {}")
    table = json.loads(line.removeprefix("REWRITE "))
    total = sum(seconds for _, seconds in table.values())
    parts = ", ".join(f"{name} {n} modules {s:.2f} s" for name, (n, s) in table.items())
    return f"assertion rewriting without the cache: {total:.2f} s ({parts})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    samples = list(load_dataset(DATA).samples)
    work = Path(tempfile.mkdtemp(prefix="mathif-bench-"))
    replay = work / "responses.jsonl"
    write_jsonl(responses(samples, len(samples)), replay)
    commands = _commands(work, replay, len(samples))
    for cache in (True, False):  # fill the store once, and the bytecode caches
        _run(commands["pytest"], work, cache)
    runs: dict[tuple[str, bool], list[float]] = {}
    for _ in range(args.repeat):  # interleaved, so machine noise hits every variant alike
        for cache in (True, False):
            for name, command in commands.items():
                runs.setdefault((name, cache), []).append(_run(command, work, cache)[0])
    print(f"{len(samples)} replayed responses, best of {args.repeat} (median in brackets):")
    best = {key: min(times) for key, times in runs.items()}
    for (name, cache), times in runs.items():
        label = f"{name} ({'bytecode cache' if cache else 'no bytecode cache'})"
        print(f"  {label:<50} {best[name, cache]:6.2f} s  [{statistics.median(times):.2f} s]")
    for cache in (True, False):
        label = "with" if cache else "without"
        overhead = best["pytest", cache] / best["mathif score", cache]
        xdist = best["pytest -n 2", cache] / best["pytest", cache]
        alone = best["pytest, test plugins off", cache] / best["mathif score", cache]
        floor = best["pytest floor: empty tests", cache] / best["mathif score", cache]
        print(
            f"{label} the bytecode cache: pytest / mathif score = {overhead:.2f}x "
            f"({alone:.2f}x with the test plugins off), pytest -n 2 / pytest = {xdist:.2f}x; "
            f"{len(samples)} empty tests alone take {floor:.2f}x mathif score"
        )
    print(_rewrite_breakdown(commands["pytest"], work))


if __name__ == "__main__":
    main()
