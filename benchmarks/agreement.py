"""Answer-grading agreement with the official grader on generated pairs, quoted literals included.

Run: MATHIF_OFFICIAL_DIR=/tmp/mathif-official .venv/bin/python benchmarks/agreement.py

For every distinct reference of the MathIF data, answers are written in several forms (the
reference itself, equivalent and wrong variants) and placed on every extraction path of the
official ``match_answer`` cascade (``\\boxed{}``, ``\\fbox{}``, "answer is", "Answer:",
"is the answer", the tail markers, bare text), each plain and wrapped in quotation marks the ways
models write them under ``startend:quotation`` (double, single, around the box, inside the box,
implicit concatenation). Both graders decide every pair; the script prints the agreement per
path and per quoting, and the first disagreements.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _corpus import DATA
from official import HERE, official_dir

from mathif_pytest.dataset import load_dataset
from mathif_pytest.grading import Grader

PATHS = {
    "boxed": "So we have it: \\boxed{{{}}}",
    "boxed-in-math": "The final answer is $\\boxed{{{}}}$.",
    "fbox": "\\fbox{{{}}}",
    "answer-is": "The answer is {}",
    "answer-is-period": "The answer is {}.",
    "answer-colon": "Answer: {}",
    "is-the-answer": "{} is the answer",
    "equals-tail": "Hence x = {}",
    "be-tail": "It must be {}",
    "get-tail": "so we get {}",
    "bare": "{}",
}
QUOTES = {
    "plain": "{}",
    "double": '"{}"',
    "single": "'{}'",
    "concatenated": '"{}" ""',
    "parenthesised": '("{}")',
}


def _forms(reference: str) -> list[str]:
    wrong = reference + "1" if reference[-1:].isdigit() else reference + "+1"
    return [reference, wrong, f"{reference}.0", f"\\text{{{reference}}}", f"${reference}$"]


def pairs(references: list[str]) -> list[tuple[str, str, str, str]]:
    """(path, quoting, response, reference) for every reference, form, path and quoting."""
    out = []
    for reference in references:
        for form in _forms(reference):
            for quoting, quote in QUOTES.items():
                answer = quote.format(form)
                for path, template in PATHS.items():
                    out.append((path, quoting, template.format(answer), reference))
                out.append(("quoted-box", quoting, quote.format(f"\\boxed{{{form}}}"), reference))
    return out


def official(root: Path, rows: list[tuple[str, str, str, str]], work: Path) -> list[bool]:
    source = work / "pairs.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for _, _, response, reference in rows:
            handle.write(json.dumps({"response": response, "reference": reference}) + "\n")
    out = work / "official.json"
    command = [str(root / "bin" / "python"), str(HERE / "_official_grade.py"), str(root / "code")]
    subprocess.run([*command, str(source), str(out)], check=True, cwd=root / "code")
    return list(json.loads(out.read_text(encoding="utf-8")))


def main() -> None:
    root = official_dir()
    if root is None:
        raise SystemExit("set MATHIF_OFFICIAL_DIR to a scratch installation (README, Performance)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=0, help="use every k-th reference")
    args = parser.parse_args()
    references = sorted({s.answer for s in load_dataset(DATA).samples})
    if args.references:
        references = references[:: max(1, len(references) // args.references)]
    rows = pairs(references)
    with Grader(jobs=2) as grader:
        ours = [g.correct for g in grader.grade_many([(ref, resp) for _, _, resp, ref in rows])]
    theirs = official(root, rows, Path(tempfile.mkdtemp(prefix="mathif-agree-")))
    total, agree = Counter[str](), Counter[str]()
    for (path, quoting, _, _), mine, their in zip(rows, ours, theirs, strict=True):
        for key in (f"path {path}", f"quoting {quoting}"):
            total[key] += 1
            agree[key] += mine == their
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    print(f"{same} / {len(rows)} pairs agree ({len(references)} references)")
    for key in sorted(total):
        print(f"  {key:<26} {agree[key]:>6} / {total[key]}")
    shown = [(r, a, b) for r, a, b in zip(rows, ours, theirs, strict=True) if a != b][:15]
    for (path, quoting, response, reference), mine, their in shown:
        print(
            f"  differs: {response!r} vs {reference!r} ({path}, {quoting}): ours {mine}, "
            f"official {their}"
        )
    sys.exit(0 if same == len(rows) else 1)


if __name__ == "__main__":
    main()
