"""Write examples/responses_both.jsonl: every MathIF prompt answered with and without constraints.

The README's "paper's analyses" example replays this file with ``constraints: both``. Synthetic
and deterministic, built like ``make_responses.py`` and shaped like the paper's findings, to show
what the reports look like (it measures no model):

* the answer to the prompt without constraints is right more often than with them (the price of
  constraints: about 12 points, a little less on the hard sources);
* the longer the thinking, the less often the constraints are followed (obedience falls with
  thinking length);
* correctness does not depend on obedience.

Run: .venv/bin/python examples/make_both_responses.py [--data ../shared/mathif] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_responses import CORRECT, answer_text, thinking, wrong_answer  # noqa: E402

from mathif_pytest.dataset import Sample, load_dataset  # noqa: E402

#: Extra chance of a right answer without constraints, by source.
COST = {"gsm8k": 0.08, "math500": 0.14, "minerva": 0.15, "olympiad": 0.14, "aime": 0.1}
LONGEST = 36


def lines(sample: Sample) -> list[dict[str, object]]:
    """The two lines of ``sample``: with its constraints, then without them."""
    rng = random.Random(f"mathif-analyses:{sample.uid}")
    think = thinking(rng, sample.source)
    sentences = think.count(".") + think.count("?")
    scale = 1.3 - 1.1 * min(sentences, LONGEST) / LONGEST  # long thinking, less obedience
    draw = rng.random()
    right_with = draw < CORRECT[sample.source]
    right_without = draw + rng.uniform(-0.08, 0.08) < CORRECT[sample.source] + COST[sample.source]
    out = []
    for constrained, right in ((True, right_with), (False, right_without)):
        final = sample.answer if right else wrong_answer(sample.answer, rng)
        if constrained:
            body = answer_text(sample, rng, final, scale)
        else:
            body = f"Adding up the steps.\nSo the final answer is \\boxed{{{final}}}."
        text = f"<think>\n{think}\n</think>\n\n{body}"
        out.append({"uid": sample.uid, "constrained": constrained, "response": text})
    return out


def main() -> None:
    """Write the responses file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "mathif"))
    parser.add_argument("--out", default=str(HERE / "responses_both.jsonl"))
    args = parser.parse_args()
    samples = load_dataset(args.data).samples
    with open(args.out, "w", encoding="utf-8") as handle:
        for sample in samples:
            for line in lines(sample):
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {2 * len(samples)} responses to {args.out}")


if __name__ == "__main__":
    main()
