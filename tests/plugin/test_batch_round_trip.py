"""Batch engines through files: export, a stand-in `vllm run-batch`, import, rescore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _vllm_stand_in import StandIn, run_batch, serving

Suite = Callable[..., Path]


def mathif(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "mathif_pytest.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_export_batch_import_and_rescore_give_the_results_of_generating_directly(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite()
    checkpoint = pytester.path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"model_type": "llama"}')
    model = str(checkpoint)  # `vllm serve` and `vllm run-batch` serve a model under this name
    direct = pytester.path / "direct.json"
    with serving(model=model) as server:
        pytester.runpytest(
            f"--model={server.url}",
            f"--mathif-store={pytester.path / 'direct.sqlite'}",
            f"--mathif-results={direct}",
        )

    store = pytester.path / "batch.sqlite"
    exported = mathif(
        pytester.path, "export-requests", "smoke.yaml", "--model", model, "--store", str(store)
    )
    assert exported.returncode == 0, exported.stderr
    assert "15 requests written to requests.jsonl for 15 cases" in exported.stdout
    run_batch(StandIn(model=model), pytester.path / "requests.jsonl", pytester.path / "out.jsonl")
    imported = mathif(pytester.path, "import-responses", "out.jsonl", "--store", str(store))
    assert imported.returncode == 0, imported.stderr
    assert "15 responses stored" in imported.stdout
    again = mathif(
        pytester.path, "export-requests", "smoke.yaml", "--model", model, "--store", str(store)
    )
    assert "0 requests written to requests.jsonl for 15 cases (15 already stored)" in again.stdout

    batch = pytester.path / "batch.json"
    rescore = exported.stdout.splitlines()[-1].removeprefix("then: pytest ").split()
    assert rescore[-1] == "--mathif-rescore" and "--mathif-backend=vllm" in rescore
    pytester.runpytest(*rescore, f"--mathif-results={batch}")
    a, b = json.loads(direct.read_text()), json.loads(batch.read_text())
    assert len(b["cases"]) == 15 and b["suites"]["smoke"]["errors"] == []
    for key in ("summary", "cases", "suites", "exit_status"):
        assert a[key] == b[key], key


def test_an_export_that_selects_nothing_is_an_error(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite()
    result = mathif(
        pytester.path,
        "export-requests",
        "smoke.yaml",
        "--model",
        "org/model",
        "--",
        "-k",
        "nothing",
    )
    assert result.returncode == 2
    assert "no MathIF cases were selected" in result.stderr


def test_a_broken_suite_is_reported_by_the_export(pytester: pytest.Pytester, suite: Suite) -> None:
    suite(body="select:\n    sources: [gsm9k]\n")
    result = mathif(pytester.path, "export-requests", "smoke.yaml", "--model", "org/model")
    assert result.returncode == 2
    assert "select.sources: 'gsm9k' is not in the data" in result.stderr
