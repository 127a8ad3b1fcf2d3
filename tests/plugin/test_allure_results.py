"""Allure results of MathIF runs: per-case labels, parameters, steps, attachments; run-level files.

Each scenario runs pytest once in a subprocess (allure-pytest keeps process-wide state, and a
parent run under ``--alluredir`` must not receive the child's labels), and the tests read the
result files it wrote.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("allure_pytest")

from mathif_pytest.reporting.allure_categories import (
    EMPTY_RESPONSE,
    FAILURE_LABEL,
    GENERATION_ERROR,
    RUN_SUMMARY,
    TRUNCATED,
    UNCLOSED_THINKING,
    WRONG_ANSWER,
)

THINKING = "Let me think. " * 1000  # 14,000 characters: folded in the report
RIGHT = "<think>" + THINKING + "</think>The final answer is \\boxed{{{}}}"
WRONG = "I do not know"
#: uid -> replay lines ({"response", "finish_reason"}); a uid without lines has no response.
SCENARIO: dict[str, list[dict[str, str]]] = {
    "gsm8k_single-14": [{"response": RIGHT.format(18)}],  # no_comma followed, answer right
    "gsm8k_single-1": [{"response": WRONG}],  # keywords:frequency violated, answer wrong
    "gsm8k_single-29": [{"response": RIGHT.format(7)}],  # no_comma followed, answer wrong
    "gsm8k_double-0": [{"response": "<think>Let me think about", "finish_reason": "length"}],
    "gsm8k_triple-0": [{"response": "   "}],
    "math500_single-14": [],  # missing from the replay file: an errored case
}


@dataclass
class AllureRun:
    """One pytest run in a subprocess and the Allure results it wrote."""

    ret: int
    output: str
    results_dir: Path
    results: dict[str, dict[str, Any]]

    def labels(self, uid: str, name: str) -> list[str]:
        return [lab["value"] for lab in self.results[uid]["labels"] if lab["name"] == name]

    def parameters(self, uid: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.results[uid].get("parameters", [])}

    def attachments(self, item: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {a["name"]: a for a in item.get("attachments", [])}

    def read(self, attachment: dict[str, Any]) -> bytes:
        return (self.results_dir / attachment["source"]).read_bytes()

    def globals(self) -> dict[str, dict[str, Any]]:
        found = [json.loads(p.read_text()) for p in self.results_dir.glob("*-globals.json")]
        return {a["name"]: a for g in found for a in g.get("attachments", [])}

    def count(self, pattern: str) -> int:
        return len(list(self.results_dir.glob(pattern)))


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in ``directory``, without the parent run's xdist/pytest variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"))
    }
    # The hypothesis plugin costs a second at exit and has nothing to do here.
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        *args,
    ]
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def write_project(
    directory: Path,
    data_dir: Path,
    scenario: dict[str, list[dict[str, str]]],
    model: str = "replay.jsonl",
) -> None:
    """A ``smoke.yaml`` suite selecting the scenario's uids, and the replay file ``model``."""
    directory.mkdir(parents=True, exist_ok=True)
    uids = ", ".join(scenario)
    (directory / "smoke.yaml").write_text(
        f"mathif:\n  name: smoke\n  data: {data_dir}\n  select:\n    uids: [{uids}]\n"
        "  gate:\n    - correctness>=0.0\n",
        encoding="utf-8",
    )
    with (directory / model).open("w", encoding="utf-8") as handle:
        for uid, lines in scenario.items():
            for line in lines:
                handle.write(json.dumps({"uid": uid, **line}) + "\n")


def allure_run(directory: Path, *args: str, model: str = "replay.jsonl") -> AllureRun:
    results_dir = directory / "allure-results"
    done = run_pytest(
        directory,
        "smoke.yaml",
        "--model",
        model,
        "--mathif-store=store.sqlite",
        f"--alluredir={results_dir}",
        *args,
    )
    results = {}
    for path in results_dir.glob("*-result.json"):
        item = json.loads(path.read_text(encoding="utf-8"))
        results[item["fullName"].rsplit("#", 1)[-1]] = item
    return AllureRun(done.returncode, done.stdout + done.stderr, results_dir, results)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Callable[..., Path]:
    def make(
        name: str, scenario: dict[str, list[dict[str, str]]] = SCENARIO, model: str = "replay.jsonl"
    ) -> Path:
        directory = tmp_path_factory.mktemp(name)
        write_project(directory, data_dir, scenario, model)
        return directory

    return make


BROKEN_CONFTEST = """
def pytest_mathif_case_scored(item, case):
    object.__setattr__(case, "parts", ())  # the reporter's input no longer matches the results
"""
IMPORT_PROBE = """
import json, sys, pytest
args = ["smoke.yaml", "--model", "replay.jsonl", "--mathif-store=store.sqlite", "-q",
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
first = pytest.main([*args, "-p", "no:allure_pytest"])
bare = sorted(m for m in sys.modules if "allure" in m or m.startswith("matplotlib"))
second = pytest.main(args)
ours = [m for m in sys.modules if m.startswith(("mathif_pytest.reporting.allure", "matplotlib"))]
print("PROBE" + json.dumps({"rets": [int(first), int(second)], "bare": bare, "ours": ours}))
"""
PASSING = {"gsm8k_single-14": [{"response": RIGHT.format(18)}]}


def _probe(directory: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "PROBE" in done.stdout, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout.rsplit("PROBE", 1)[-1])
    return result


@pytest.fixture(scope="module")
def runs(project: Callable[..., Path]) -> dict[str, Any]:
    """Every scenario of this module, run at once in parallel subprocesses (they are slow)."""
    broken = project("allure-broken", {**PASSING, "gsm8k_single-1": [{"response": WRONG}]})
    (broken / "conftest.py").write_text(BROKEN_CONFTEST, encoding="utf-8")
    (broken / "allure-results" / "environment.properties").mkdir(parents=True)
    # Another "model" under -n 2: gsm8k_single-1 now answers right (history must survive).
    other = {**SCENARIO, "gsm8k_single-1": [{"response": RIGHT.format(5)}]}
    jobs: dict[str, Callable[[], Any]] = {
        "main": partial(allure_run, project("allure-run")),
        "samples": partial(
            allure_run,
            project(
                "allure-samples",
                {"gsm8k_single-14": [{"response": RIGHT.format(18)}, {"response": WRONG}]},
            ),
            "--mathif-samples=2",
        ),
        "broken": partial(allure_run, broken),
        "commas": partial(
            allure_run,
            project(
                "allure-commas", {"gsm8k_single-14": [{"response": "So, first, the answer is 18"}]}
            ),
        ),
        "probe": partial(_probe, project("allure-off", PASSING)),
    }
    if importlib.util.find_spec("xdist") is not None:
        jobs["xdist"] = partial(
            allure_run,
            project("allure-xdist", other, "checkpoint-b.jsonl"),
            "-n",
            "2",
            model="checkpoint-b.jsonl",
        )
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def run(runs: dict[str, Any]) -> AllureRun:
    main: AllureRun = runs["main"]
    return main


@pytest.fixture(scope="module")
def xdist_run(runs: dict[str, Any]) -> AllureRun:
    if "xdist" not in runs:
        pytest.skip("pytest-xdist is not installed")
    result: AllureRun = runs["xdist"]
    return result


def _steps(item: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in item.get("steps", [])}


def test_run_reports_every_case_and_keeps_the_gate_exit_status(run: AllureRun) -> None:
    assert sorted(run.results) == sorted(SCENARIO)
    assert run.ret == 1, run.output  # the errored case always fails the run
    assert "mathif allure:" not in run.output


def test_case_is_titled_by_uid_and_question(run: AllureRun) -> None:
    title = run.results["gsm8k_single-1"]["name"]
    assert re.fullmatch(r"gsm8k_single-1 · Jordan has 2 children who wear diapers\. .*…", title)
    assert "Jordan's wife changes half" in run.results["gsm8k_single-1"]["description"]


@pytest.mark.parametrize(
    ("uid", "suite", "sub_suite"),
    [
        ("gsm8k_single-1", "gsm8k", "single"),
        ("gsm8k_double-0", "gsm8k", "double"),
        ("gsm8k_triple-0", "gsm8k", "triple"),
    ],
)
def test_case_is_filed_under_mathif_source_and_level(
    run: AllureRun, uid: str, suite: str, sub_suite: str
) -> None:
    assert run.labels(uid, "parentSuite") == ["MathIF"]
    assert run.labels(uid, "suite") == [suite]
    assert run.labels(uid, "subSuite") == [sub_suite]


def test_only_labels_that_help_are_kept(run: AllureRun) -> None:
    assert run.labels("gsm8k_single-1", "feature") == ["keywords:frequency"]
    names = {label["name"] for item in run.results.values() for label in item["labels"]}
    # host, thread, framework, language, package, marker tags and severity are gone
    assert names == {"parentSuite", "suite", "subSuite", "feature", FAILURE_LABEL}


def test_uid_is_a_parameter_and_model_an_excluded_one(run: AllureRun) -> None:
    params = run.parameters("gsm8k_single-1")
    assert set(params) == {"uid", "suite", "model"}
    assert params["uid"]["value"] == "'gsm8k_single-1'" and not params["uid"].get("excluded")
    assert params["model"]["excluded"] is True


def test_each_constraint_check_and_the_grading_are_steps_named_by_their_verdict(
    run: AllureRun,
) -> None:
    failed = _steps(run.results["gsm8k_single-1"])
    assert (
        failed["keywords:frequency — violated: 'total' appears 0 times; needs at least 2"]
        == "failed"
    )
    assert [s for n, s in failed.items() if n.startswith("answer — incorrect: ")] == ["failed"]
    passed = _steps(run.results["gsm8k_single-14"])
    assert next(iter(passed)) == "punctuation:no_comma — followed: contains no comma"
    assert any(n.startswith("answer — correct: extracted '18'") for n in passed)
    assert run.results["gsm8k_single-14"]["status"] == "passed"


def test_a_violated_step_says_what_the_prompt_asked(run: AllureRun) -> None:
    step = next(s for s in run.results["gsm8k_single-1"]["steps"] if s["status"] == "failed")
    message = step["statusDetails"]["message"]
    assert message.startswith('Failed: the prompt asked: In your response, the word "total"')


def test_the_response_is_one_html_attachment_with_the_thinking_folded(run: AllureRun) -> None:
    attachments = run.attachments(run.results["gsm8k_single-14"])
    assert set(attachments) == {"response"}
    assert attachments["response"]["type"] == "text/html"
    page = run.read(attachments["response"]).decode()
    size, cut = f"{len(THINKING):,}", f"{len(THINKING) - 4000:,}"
    assert f"<details><summary>Thinking ({size} characters; the middle {cut} not shown" in page
    assert page.count("Let me think.") < 400  # 4,000 of 13,000 characters are kept
    assert "The final answer is \\boxed{18}" in page
    assert "followed</span>: contains no comma" in page


def test_the_response_marks_the_span_that_broke_a_constraint(
    runs: dict[str, Any],
) -> None:
    result: AllureRun = runs["commas"]
    page = result.read(result.attachments(result.results["gsm8k_single-14"])["response"])
    assert "So<mark>,</mark> first<mark>,</mark> the answer" in page.decode()


def test_the_failure_message_starts_with_the_constraint_type(run: AllureRun) -> None:
    details = run.results["gsm8k_single-1"]["statusDetails"]
    assert details["message"].startswith(
        "keywords:frequency: 'total' appears 0 times; needs at least 2\nanswer incorrect:"
    )
    assert "trace" not in details  # it would repeat the message after the uid


@pytest.mark.parametrize(
    ("uid", "first"),
    [
        ("gsm8k_double-0", TRUNCATED),
        ("gsm8k_triple-0", EMPTY_RESPONSE),
        ("gsm8k_single-29", WRONG_ANSWER),
        ("gsm8k_single-1", "Constraint violated: keywords:frequency"),
    ],
)
def test_failed_case_is_labelled_with_its_reasons_root_cause_first(
    run: AllureRun, uid: str, first: str
) -> None:
    assert run.labels(uid, FAILURE_LABEL)[0] == first


def test_truncated_generation_and_unclosed_thinking_show_as_failed_steps(run: AllureRun) -> None:
    item = run.results["gsm8k_double-0"]
    steps = _steps(item)
    assert steps["generation — truncated at the token limit (finish_reason 'length')"] == "failed"
    assert steps["thinking — thinking never closed: <think> without </think>"] == "failed"
    assert UNCLOSED_THINKING in run.labels("gsm8k_double-0", FAILURE_LABEL)


def test_errored_case_is_still_filed_and_titled(run: AllureRun) -> None:
    item = run.results["math500_single-14"]
    assert item["statusDetails"]["message"].startswith("Failed: math500_single-14: ")
    assert run.labels("math500_single-14", "suite") == ["math500"]
    assert item["name"].startswith("math500_single-14 · ")


def test_passed_case_has_no_failure_label(run: AllureRun) -> None:
    assert run.labels("gsm8k_single-14", FAILURE_LABEL) == []


def test_no_fixture_set_up_or_tear_down_rows_remain(run: AllureRun, xdist_run: AllureRun) -> None:
    assert run.count("*-container.json") == 0
    assert xdist_run.count("*-container.json") == 0


def test_environment_properties_open_with_the_verdict_and_the_metrics(run: AllureRun) -> None:
    props = (run.results_dir / "environment.properties").read_text(encoding="utf-8")
    keys = [line.split("=", 1)[0] for line in props.splitlines()]
    assert keys[:5] == ["verdict", "gate", "HAcc", "SAcc", "Correct"]
    assert "verdict=FAILED (exit status 1)\\: 1 MathIF error" in props
    assert re.search(r"^HAcc=\d+\.\d\d% \[\d+\.\d, \d+\.\d\]$", props, re.MULTILINE)


def test_run_level_files_are_written_once(run: AllureRun) -> None:
    assert run.count("environment.properties") == 1 and run.count("categories.json") == 1
    props = (run.results_dir / "environment.properties").read_text(encoding="utf-8")
    for key in (
        "model",
        "model.fingerprint",
        "backend",
        "sampling.temperature",
        "suites",
        "dataset",
        "mathif-pytest",
        "pytest",
    ):
        assert re.search(rf"^{re.escape(key)}=\S", props, re.MULTILINE), key
    assert re.search(r"^dataset=.*@[0-9a-f]{16}$", props, re.MULTILINE)
    names = [c["name"] for c in json.loads((run.results_dir / "categories.json").read_text())]
    assert names[0] == "Regressed: change_case:capital_word_frequency"
    assert GENERATION_ERROR in names and names[-1] == WRONG_ANSWER


def test_the_report_file_gives_allurerc_the_verdict_and_one_row_per_threshold(
    run: AllureRun,
) -> None:
    report = json.loads((run.results_dir / "mathif-report.json").read_text())
    assert report["suites"] == ["smoke"] and report["exitStatus"] == 1
    assert report["passed"] is False
    assert report["gate"] == [
        {
            "rule": "smoke: correctness",
            "expected": ">= 0.00%",
            "actual": report["gate"][0]["actual"],
            "success": True,
            "message": f"correctness >= 0.00%: observed {report['gate'][0]['actual']}",
            "testResults": [],
        }
    ]
    assert re.fullmatch(r"\d+\.\d\d% \[\d+\.\d\d, \d+\.\d\d\]", report["gate"][0]["actual"])


def test_the_run_summary_is_listed_first_then_charts_and_results(run: AllureRun) -> None:
    attachments = run.globals()
    assert list(attachments) == [
        RUN_SUMMARY,
        "compliance per constraint type",
        "metrics per source",
        "metrics per level",
        "obedience vs thinking length",
        "error sets",
        "mathif results",
    ]
    assert run.count("*-globals.json") == 1
    summary = run.read(attachments[RUN_SUMMARY]).decode()
    assert attachments[RUN_SUMMARY]["type"] == "text/html"
    assert "<h2>Suite smoke</h2>" in summary and "<h3>Gate</h3>" in summary
    chart = attachments["metrics per level"]
    assert chart["type"] == "image/png" and run.read(chart).startswith(b"\x89PNG")


def test_several_responses_are_each_stepped_and_attached(runs: dict[str, Any]) -> None:
    result: AllureRun = runs["samples"]
    item = result.results["gsm8k_single-14"]
    outer = {s["name"]: s for s in item["steps"]}
    assert outer["response 1 of 2 — passed"]["status"] == "passed"
    second = outer["response 2 of 2 — failed"]
    assert second["status"] == "failed"
    assert "response (2 of 2)" in result.attachments(second)
    assert item["statusDetails"]["message"].startswith("response 2: answer incorrect: ")


def test_run_level_files_are_written_once_under_xdist(xdist_run: AllureRun) -> None:
    assert sorted(xdist_run.results) == sorted(SCENARIO), xdist_run.output
    assert xdist_run.count("environment.properties") == 1
    assert xdist_run.count("categories.json") == 1
    assert xdist_run.count("*-globals.json") == 1
    props = (xdist_run.results_dir / "environment.properties").read_text(encoding="utf-8")
    assert re.search(r"^dataset=.*@[0-9a-f]{16}$", props, re.MULTILINE)
    assert "model=checkpoint-b.jsonl" in props


def test_history_id_survives_a_new_model_and_new_responses(
    run: AllureRun, xdist_run: AllureRun
) -> None:
    before, after = run.results["gsm8k_single-1"], xdist_run.results["gsm8k_single-1"]
    assert before["historyId"] == after["historyId"]
    assert before["statusDetails"] != after["statusDetails"]
    assert (
        run.parameters("gsm8k_single-1")["model"] != xdist_run.parameters("gsm8k_single-1")["model"]
    )


def test_a_run_without_alluredir_imports_no_allure_module(runs: dict[str, Any]) -> None:
    assert runs["probe"] == {"rets": [0, 0], "bare": [], "ours": []}


def test_broken_reporter_input_does_not_change_the_exit_status(runs: dict[str, Any]) -> None:
    result: AllureRun = runs["broken"]
    assert result.ret == 0, result.output  # the gate passes; failed samples are forgiven
    assert "mathif allure: could not write evidence of smoke.yaml::gsm8k_single-1" in result.output
    assert "mathif allure: could not write environment.properties" in result.output
    assert result.count("categories.json") == 1 and RUN_SUMMARY in result.globals()


@pytest.fixture(scope="module")
def regressed_run(project: Callable[..., Path]) -> AllureRun:
    """A baseline that follows gsm8k_single-14's no-comma constraint; a candidate that breaks it."""
    directory = project("allure-regressed", {"gsm8k_single-14": [{"response": "so \\boxed{18}"}]})
    done = run_pytest(
        directory, "smoke.yaml", "--model", "replay.jsonl", "--mathif-store=store.sqlite",
        "--mathif-results=baseline.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    line = {"uid": "gsm8k_single-14", "response": "So, \\boxed{18}"}
    (directory / "worse.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    return allure_run(
        directory,
        "--mathif-baseline=baseline.json",
        "--mathif-gate=delta.hard_accuracy>=-0.02",
        model="worse.jsonl",
    )


def test_a_regressed_case_carries_the_baseline_answer_beside_its_own(
    regressed_run: AllureRun,
) -> None:
    item = regressed_run.results["gsm8k_single-14"]
    assert regressed_run.labels("gsm8k_single-14", FAILURE_LABEL)[0] == (
        "Regressed: punctuation:no_comma"
    )
    assert item["statusDetails"]["message"] == (
        "punctuation:no_comma: contains 1 comma (first in 'So,') "
        "(regressed: followed in the baseline)"
    )
    attachments = regressed_run.attachments(item)
    assert list(attachments) == ["baseline vs this run", "response"]
    page = regressed_run.read(attachments["baseline vs this run"]).decode()
    assert (
        "<td><pre>so \\boxed{18}</pre></td><td><pre>So<mark>,</mark> \\boxed{18}</pre></td>" in page
    )


def test_the_quality_gate_row_of_a_delta_threshold_links_the_regressed_cases(
    regressed_run: AllureRun,
) -> None:
    report = json.loads((regressed_run.results_dir / "mathif-report.json").read_text())
    (row,) = report["gate"]
    assert row["rule"] == "smoke: delta.hard_accuracy" and row["expected"] == ">= -2.00 pts"
    uuid = regressed_run.results["gsm8k_single-14"]["uuid"]
    assert row["testResults"] == [hashlib.md5(uuid.encode()).hexdigest()]  # Allure 3's result id
    summary = regressed_run.read(regressed_run.globals()[RUN_SUMMARY]).decode()
    assert "<h3>Flipped samples (1)</h3>" in summary and "gsm8k_single-14" in summary
