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
            "mathif reproduce: pytest --model=* --mathif-suite=smoke*",
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


def smoke_args(project: Path, model: Path, data_dir: Path, *extra: str) -> list[str]:
    return [
        "--mathif-suite=smoke",
        "--model",
        str(model),
        f"--mathif-data={data_dir}",
        f"--mathif-store={project / 's.sqlite'}",
        "--mathif-gate",
        "hard_accuracy>=0.0",
        "-p",
        "no:cacheprovider",
        *extra,
    ]


def cases_by_uid(path: Path) -> dict[str, dict[str, object]]:
    return {c["uid"]: c for c in json.loads(path.read_text())["cases"]}


def test_a_lora_adapter_runs_the_smoke_suite_with_its_own_fingerprint_and_answers(
    pytester: pytest.Pytester,
    project: Path,
    tiny_model_dir: Path,
    tiny_lora_dir: Path,
    data_dir: Path,
) -> None:
    runs = {}
    for name, model in (("base", tiny_model_dir), ("lora", tiny_lora_dir)):
        out = project / f"{name}.json"
        result = pytester.runpytest_subprocess(
            *smoke_args(project, model, data_dir, f"--mathif-results={out}")
        )
        result.stdout.fnmatch_lines(["*45 responses generated*"])
        assert result.ret == pytest.ExitCode.OK
        runs[name] = json.loads(out.read_text())
    base, lora = (runs[n]["meta"]["generation"] for n in ("base", "lora"))
    assert base["fingerprint"] != lora["fingerprint"]
    assert lora["backend_info"]["base_model"] == str(tiny_model_dir)
    answers = {n: {c["uid"]: c["extracted"] for c in runs[n]["cases"]} for n in runs}
    assert answers["base"].keys() == answers["lora"].keys()
    assert answers["base"] != answers["lora"]


def test_a_template_that_prefills_think_opens_the_thinking_of_every_case(
    pytester: pytest.Pytester, project: Path, tiny_thinking_model_dir: Path, data_dir: Path
) -> None:
    out = project / "r.json"
    # also: the checkpoint's own sampling, asked for, is read into the settings and recorded
    model_sampling = ("--mathif-engine-arg", "generation_config=model")
    result = pytester.runpytest_subprocess(
        *smoke_args(
            project, tiny_thinking_model_dir, data_dir, f"--mathif-results={out}", *model_sampling
        )
    )
    assert result.ret == pytest.ExitCode.OK
    cases = cases_by_uid(out)
    assert len(cases) == 45
    assert all(c["think_opened"] for c in cases.values())
    sampling = json.loads(out.read_text())["meta"]["generation"]["sampling"]
    assert (sampling["temperature"], sampling["top_p"], sampling["top_k"]) == (1.0, 1.0, 0)


def test_a_mistyped_engine_argument_exits_4_before_generating_anything(
    pytester: pytest.Pytester, project: Path, tiny_model_dir: Path, data_dir: Path
) -> None:
    result = pytester.runpytest_subprocess(
        *smoke_args(project, tiny_model_dir, data_dir, "--mathif-engine-arg", "batch_sise=4")
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--mathif-engine-arg batch_sise: the transformers backend does not accept "
            "'batch_sise'; did you mean 'batch_size'?*"
        ]
    )
    assert "mathif generate" not in result.stdout.str() + result.stderr.str()
    assert not (project / "s.sqlite").exists()


@pytest.mark.parametrize("workers", [None, "2"], ids=["plain", "xdist"])
def test_generation_progress_shows_under_pytests_capture(
    pytester: pytest.Pytester,
    project: Path,
    tiny_model_dir: Path,
    data_dir: Path,
    workers: str | None,
) -> None:
    extra = ("-n", workers) if workers else ()
    result = pytester.runpytest_subprocess(*smoke_args(project, tiny_model_dir, data_dir, *extra))
    assert result.ret == pytest.ExitCode.OK
    output = result.stdout.lines + result.stderr.lines
    progress = [line for line in output if line.startswith("mathif generate: ")]
    assert progress[0].startswith("mathif generate: 45 responses with transformers")
    counts = [line.split()[2] for line in progress[1:]]
    # a line per tenth (not a TTY), then the final one
    assert counts == [f"{n}/45" for n in (5, 9, 14, 18, 23, 27, 32, 36, 41)] + ["45/45"]
    assert "responses/s" in progress[-1] and "tokens/s" in progress[-1]
    assert any(line.startswith("mathif sampling: temperature=1.0, top_p=0.95") for line in output)
    assert any(line.startswith("mathif engine: device=cpu") for line in output)
