"""The real path on CPU: the shipped smoke suite, a tiny random model, the transformers backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def project(pytester: pytest.Pytester, data_dir: Path) -> Path:
    return pytester.path


def test_the_smoke_suite_runs_a_tiny_model_under_xdist_and_gates_on_pass_rates(
    pytester: pytest.Pytester, project: Path, tiny_model_dir: Path, data_dir: Path
) -> None:
    common = [
        "--mathif-suite=smoke",
        "--model",
        str(tiny_model_dir),
        f"--mathif-data={data_dir}",
        f"--mathif-store={project / 's.sqlite'}",
        "-p",
        "no:cacheprovider",
    ]
    first = pytester.runpytest_subprocess(
        *common,
        "-n",
        "2",
        "--mathif-gate",
        "hard_accuracy>=0.0",
        f"--mathif-results={project / 'r.json'}",
    )
    first.stdout.fnmatch_lines(
        [
            "*mathif reproduce: pytest * --model*",
            "*mathif summary*",
            "*45 responses generated*",
            "suite smoke:",
            "*45 prompts, 45 responses*",
            "*hard_accuracy*>= 0.00% *PASS*",
            "*mathif: PASSED (exit status 0)*",
        ]
    )
    assert first.ret == pytest.ExitCode.OK
    document = json.loads((project / "r.json").read_text())
    assert document["meta"]["generation"]["backend"] == "transformers"
    assert len(document["cases"]) == 45
    assert {c["finish_reason"] for c in document["cases"]} <= {"stop", "length"}

    impossible = pytester.runpytest_subprocess(*common, "--mathif-gate", "hard_accuracy>1")
    impossible.stdout.fnmatch_lines(["*0 responses generated*45 reused*", "*hard_accuracy*FAIL*"])
    assert impossible.ret == pytest.ExitCode.TESTS_FAILED
