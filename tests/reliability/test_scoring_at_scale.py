"""420 prompts x 16 samples (6,720 responses) through pytest under -n 2, within stated bounds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _reliability import Record, pytest_command

REPO = Path(__file__).resolve().parents[2]
SAMPLES = 16
#: The bounds the README states (2-core CI machine): whole run, and largest process.
MAX_SECONDS = 150.0
MAX_RSS_MB = 1024
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"seconds": time.perf_counter() - started, "code": done.returncode,
                  "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "tail": done.stdout[-1500:]}))
"""


def test_6720_responses_are_scored_under_xdist_within_time_and_memory(
    pytester: pytest.Pytester, data_dir: Path, record: Record
) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from _corpus import realistic
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    from mathif_pytest.dataset import load_dataset

    samples = list(load_dataset(data_dir).samples)
    replay = pytester.path / "responses.jsonl"
    with replay.open("w", encoding="utf-8") as handle:
        for sample, text in realistic(samples, len(samples) * SAMPLES, 0):
            handle.write(json.dumps({"uid": sample.uid, "response": text}) + "\n")
    shutil.copytree(REPO / "suites", pytester.path / "suites")
    results = pytester.path / "results.json"
    command = pytest_command(
        "suites/full.yaml", "--model", str(replay), f"--mathif-data={data_dir}",
        f"--mathif-store={pytester.path / 's.sqlite'}", "--mathif-samples", str(SAMPLES),
        "-n", "2", "--mathif-gate=correctness>=0", f"--mathif-results={results}",
    )  # fmt: skip
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        cwd=pytester.path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    run = json.loads(measured.stdout)
    cases = json.loads(results.read_text())["cases"]
    record(responses=len(cases), seconds=round(run["seconds"], 1), max_rss_mb=round(run["rss_mb"]))
    assert run["code"] == 0, run["tail"]
    assert len(cases) == len(samples) * SAMPLES
    assert run["seconds"] < MAX_SECONDS
    assert run["rss_mb"] < MAX_RSS_MB
