"""Grade (response, reference) pairs with the official ``prime_math.compute_score``, unmodified.

Runs INSIDE the official evaluator's scratch venv, from ``benchmarks/agreement.py``:

    python _official_grade.py CODE_DIR PAIRS.jsonl OUT.json

Each input line is ``{"response": ..., "reference": ...}``; OUT.json is the list of
``compute_score(response, reference)[0]`` values, in order.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    code, pairs, out = sys.argv[1:4]
    sys.path.insert(0, code)
    from prime_math import compute_score

    with open(pairs, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    decisions = [bool(compute_score(r["response"], r["reference"])[0]) for r in rows]
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(decisions, handle)


if __name__ == "__main__":
    main()
