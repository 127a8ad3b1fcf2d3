"""The GitHub workflows: schema-valid (check-jsonschema's bundled schema) and with the key steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mathif_pytest.gate import parse_threshold

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
CI, GATE = WORKFLOWS / "ci.yml", WORKFLOWS / "mathif-gate.example.yml"


def _load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    return triggers


def _steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps = workflow["jobs"][job]["steps"]
    assert isinstance(steps, list)
    return steps


def _run_text(steps: list[dict[str, Any]]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps)


def test_both_workflows_match_the_github_workflow_schema() -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.exists():
        pytest.skip(f"check-jsonschema is not installed beside {sys.executable}")
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", str(CI), str(GATE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 and "Schema validation errors" not in output:
        pytest.skip(f"check-jsonschema could not load its bundled schema: {output.strip()[-300:]}")
    assert result.returncode == 0, output


def test_ci_runs_the_ci_script_on_three_pythons_with_the_data_beside_the_checkout() -> None:
    workflow = _load(CI)
    assert {"push", "pull_request"} <= set(_triggers(workflow))
    job = workflow["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12"]
    runs = _run_text(_steps(workflow, "test"))
    assert "bash .ci/run" in runs
    assert "hf download TingchenFu/MathIF --repo-type dataset" in runs
    assert "--local-dir ../shared/mathif" in runs
    checkout = next(s for s in _steps(workflow, "test") if "actions/checkout" in s.get("uses", ""))
    assert checkout["with"]["path"] == job["defaults"]["run"]["working-directory"]


def test_the_gate_example_runs_on_a_gpu_runner_with_checkpoint_and_baseline_inputs() -> None:
    workflow = _load(GATE)
    inputs = _triggers(workflow)["workflow_dispatch"]["inputs"]
    assert {"checkpoint", "baseline"} <= set(inputs)
    assert workflow["jobs"]["gate"]["runs-on"] == ["self-hosted", "gpu"]


def test_the_gate_example_installs_runs_the_delta_gate_and_builds_allure() -> None:
    steps = _steps(_load(GATE), "gate")
    runs = _run_text(steps)
    assert "pip install -r requirements-dev.txt" in runs
    assert "pip install -e '.[vllm]'" in runs
    gate = next(s for s in steps if s.get("id") == "gate")["run"]
    flags = (
        "pytest suites/full.yaml",
        '--model="$CHECKPOINT"',
        '--mathif-baseline "$BASELINE"',
        "--mathif-results results.json",
        "--alluredir allure-results",
    )
    for flag in flags:
        assert flag in gate
    expression = gate.split("--mathif-gate '")[1].split("'")[0]
    assert parse_threshold(expression).relative_to_baseline
    assert "npx --yes allure awesome allure-results --single-file -o allure-report" in runs


def test_the_gate_example_uploads_artifacts_and_summarises_even_when_the_gate_fails() -> None:
    steps = _steps(_load(GATE), "gate")
    uploads = [s for s in steps if s.get("uses") == "actions/upload-artifact@v4"]
    assert {u["with"]["name"] for u in uploads} == {"allure-report", "mathif-results"}
    assert all(u.get("if") == "always()" for u in uploads)
    summary = next(s for s in steps if "mathif compare" in s.get("run", ""))
    assert summary["if"].startswith("always()")
    assert "--markdown summary.md" in summary["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]


def test_the_gate_example_generates_in_shards_and_gates_once_on_the_merged_stores() -> None:
    workflow = _load(GATE)
    generate = workflow["jobs"]["generate"]
    shards = generate["strategy"]["matrix"]["shard"]
    runs = _run_text(_steps(workflow, "generate"))
    assert f'--mathif-shard "$SHARD/{len(shards)}"' in runs
    assert shards == list(range(len(shards))) and generate["env"]["SHARD"] == "${{ matrix.shard }}"
    assert '--mathif-store "stores/shard-$SHARD.sqlite"' in runs
    gate = workflow["jobs"]["gate"]
    assert gate["needs"] == "generate"
    steps = _steps(workflow, "gate")
    download = next(s for s in steps if s.get("uses") == "actions/download-artifact@v4")
    assert download["with"] == {"pattern": "store-*", "path": "stores", "merge-multiple": True}
    assert "mathif merge-stores stores/shard-*.sqlite --out all.sqlite" in _run_text(steps)
    command = next(s for s in steps if s.get("id") == "gate")["run"]
    for flag in ("--mathif-backend vllm", "--mathif-store all.sqlite", "--mathif-rescore"):
        assert flag in command
    assert "--mathif-backend vllm" in runs  # the same store keys as the rescore
