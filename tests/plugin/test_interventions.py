"""Interventions from a suite or the command line, end to end on the tiny model (transformers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Suite = Callable[..., Path]
UIDS = "select:\n  uids: [gsm8k_double-0, aime_single-3, math500_triple-2]\n"


def _run(pytester: pytest.Pytester, model: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--model",
        str(model),
        "--mathif-backend=transformers",
        "--mathif-engine-arg=threads=1",
        "--mathif-max-tokens=10",
        f"--mathif-store={pytester.path / 's.sqlite'}",
        "--mathif-gate=correctness>=0",
        *args,
    )


def test_a_suites_thinking_budget_runs_in_stored_stages_and_each_case_records_them(
    pytester: pytest.Pytester, suite: Suite, tiny_thinking_model_dir: Path
) -> None:
    suite("budget", UIDS + "intervention:\n  thinking_budget: 3\n")
    out = pytester.path / "r.json"
    first = _run(pytester, tiny_thinking_model_dir, f"--mathif-results={out}")
    first.stdout.fnmatch_lines(
        [
            "*mathif intervention: thinking_budget=3 (in stages; each stage is stored)*",
            "*mathif intervention thinking_budget=3: 3 responses go on to their next stage*",
            "*intervention thinking_budget=3: text inserted into * of 3 responses*",
        ]
    )
    document = json.loads(out.read_text())
    assert document["meta"]["generation"]["intervention"] == {
        "kind": "thinking_budget",
        "value": 3,
        "label": "thinking_budget=3",
    }
    for case in document["cases"]:
        record = case["intervention"]
        assert record["label"] == "thinking_budget=3"
        assert record["stages"][0]["max_tokens"] == 3
        assert case["length_source"] == "tokenizer"
        assert case["thinking_tokens"] == record["stages"][0]["tokens"]
    second = _run(pytester, tiny_thinking_model_dir)
    second.stdout.fnmatch_lines(["*0 responses generated*3 reused*"])


def test_the_command_line_intervention_replaces_the_suites(
    pytester: pytest.Pytester, suite: Suite, tiny_thinking_model_dir: Path
) -> None:
    suite("budget", UIDS + "intervention:\n  thinking_budget: 3\n")
    out = pytester.path / "r.json"
    result = _run(
        pytester,
        tiny_thinking_model_dir,
        "--mathif-intervention=budget_forcing=2",
        f"--mathif-results={out}",
    )
    result.stdout.fnmatch_lines(["*mathif reproduce:*--mathif-intervention budget_forcing=2*"])
    cases = json.loads(out.read_text())["cases"]
    assert {c["intervention"]["label"] for c in cases} == {"budget_forcing=2"}


def test_suites_asking_for_different_interventions_are_a_usage_error(
    pytester: pytest.Pytester, suite: Suite, tiny_thinking_model_dir: Path
) -> None:
    suite("one", UIDS + "intervention: repeat_constraints\n")
    suite("two", UIDS + "intervention:\n  budget_forcing: 2\n")
    result = _run(pytester, tiny_thinking_model_dir)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ask for different interventions (budget_forcing=2, repeat_constraints)*"]
    )


def test_repeat_constraints_on_prompts_without_constraints_is_refused(
    pytester: pytest.Pytester, suite: Suite, tiny_thinking_model_dir: Path
) -> None:
    suite("both", UIDS + "constraints: both\nintervention: repeat_constraints\n")
    result = _run(pytester, tiny_thinking_model_dir)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*repeat_constraints repeats the constraints*constraints: both*"])


def test_the_replay_backend_cannot_run_an_intervention(
    pytester: pytest.Pytester, suite: Suite, write_replay: Callable[..., Path]
) -> None:
    suite("budget", UIDS)
    result = pytester.runpytest(
        "--model",
        str(write_replay()),
        "--mathif-intervention=thinking_budget=64",
        f"--mathif-store={pytester.path / 's.sqlite'}",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the replay backend only reads a file*--mathif-rescore*"])


def test_a_misspelt_intervention_on_the_command_line_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest("--mathif-intervention=thinking_budgt=5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*did you mean 'thinking_budget'?*"])


def test_an_intervention_cannot_be_exported_to_a_batch_file(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite("budget", UIDS + "intervention:\n  budget_forcing: 2\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "mathif_pytest.cli", "export-requests", "budget.yaml"]
    result = subprocess.run(
        [*command, "--model", "org/model", "--store", str(pytester.path / "s.sqlite")],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "intervention budget_forcing=2 generates in stages" in result.stderr
