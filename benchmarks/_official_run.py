"""Run the official MathIF evaluator, unmodified, and keep its per-response results.

Runs INSIDE the official evaluator's scratch venv (never ours), from ``benchmarks/official.py``:

    python _official_run.py CODE_DIR HYPOTHESIS.jsonl DATA.jsonl OUT.json

``eval_if.py`` is executed as it is (``runpy``, with its own command line); afterwards its module
globals hold one entry per response in ``strict`` (all constraints followed), ``loose`` (share
followed) and ``correct``, which are written to OUT.json with the wall time of the run.
"""

from __future__ import annotations

import json
import runpy
import sys
import time


def main() -> None:
    code, hypothesis, data, out = sys.argv[1:5]
    sys.path.insert(0, code)
    sys.argv = ["eval_if.py", "--hypothesis_path", hypothesis, "--data_path", data]
    started = time.perf_counter()
    scope = runpy.run_path(f"{code}/eval_if.py", run_name="__main__")
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "strict": [bool(x) for x in scope["strict"]],
        "loose": scope["loose"],
        "correct": [bool(x) for x in scope["correct"]],
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
