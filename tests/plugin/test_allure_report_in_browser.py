"""The documented HTML command on real MathIF results, opened in headless Chromium.

A baseline run, then two candidates compared with it: one with planted regressions (five
constraints broken, one answer wrong: the ``delta.hard_accuracy`` gate fails) and one that
answers as the baseline did (the gate passes). Each candidate's results go through
``npx allure generate`` with this repository's ``allurerc.mjs``, and the reports are read as a
reviewer reads them: the first screen, the quality gate, the categories, a regressed case.

Needs the npm devDependency (``npm ci`` in the repository root) and ``/usr/bin/chromium``
(``apt-get install -y chromium``); skipped otherwise. ``MATHIF_UPDATE_SCREENSHOT=1`` also writes
the screenshots the documentation shows, ``docs/img/allure-report.png`` and
``docs/img/allure-regression.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("allure_pytest")

from _chromium import CHROMIUM, Chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "img"
THINK = "<think>" + "Let me think about it step by step. " * 200 + "</think>"
#: The baseline's answers: each follows its sample's one constraint, and is right.
BASELINE = {
    "gsm8k_single-14": "so the answer is \\boxed{18}",  # punctuation:no_comma
    "gsm8k_single-29": "the answer is \\boxed{106}",  # punctuation:no_comma
    "gsm8k_single-13": "the answer is \\boxed{45000}",  # change_case:english_lowercase
    "gsm8k_single-1": "the total is 5 and so the total is \\boxed{5}",  # keywords:frequency
    "gsm8k_single-2": "the answer is \\boxed{83}",  # keywords:forbidden_words
    "aime_single-14": "the answer is \\boxed{70}",  # punctuation:no_comma
    "aime_single-13": "the answer is \\boxed{468}",  # change_case:english_lowercase
    "gsm8k_double-0": "the answer is \\boxed{1}",
}
#: The planted regressions: a broken constraint each, and one wrong answer.
REGRESSED = {
    "gsm8k_single-14": "So, first, the answer is \\boxed{18}",
    "gsm8k_single-29": "well, the answer is \\boxed{106}",
    "gsm8k_single-13": "The Answer is \\boxed{45000}",
    "gsm8k_single-1": "the total is \\boxed{5}",
    "gsm8k_single-2": "a valid answer is \\boxed{83}",
    "aime_single-14": "the answer is \\boxed{71}",
}
GATE = ("--mathif-gate=delta.hard_accuracy>=-0.02", "--mathif-gate=correctness>=0.2")


@dataclass
class Report:
    """A generated single-file report and the ids of its cases."""

    index: Path
    ids: dict[str, str]  # test result id by the case's title

    def url(self) -> str:
        return self.index.as_uri()

    def case_id(self, uid: str) -> str:
        return next(i for title, i in self.ids.items() if title.startswith(f"{uid} · "))


def _require_tools() -> None:
    if shutil.which("npx") is None or not (REPO / "node_modules" / ".bin" / "allure").exists():
        pytest.skip("the Allure 3 CLI is not installed: run `npm ci` in the repository root")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium")


def _replay(path: Path, answers: dict[str, str], truncated: bool = False) -> Path:
    lines = [
        json.dumps({"uid": uid, "response": THINK + text})
        for uid, text in answers.items()
        if not (truncated and uid == "gsm8k_double-0")
    ]
    if truncated:
        lines.append(
            json.dumps(
                {"uid": "gsm8k_double-0", "response": "<think>Let me", "finish_reason": "length"}
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_ADD"))}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    command += ["-p", "no:hypothesispytest", "smoke.yaml", "--mathif-store=store.sqlite", *args]
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def generate(results: Path, output: Path, history: Path, **env: str) -> Report:
    """The documented command, ``npx allure generate``, with this repository's allurerc.mjs."""
    done = subprocess.run(
        ["npx", "--no-install", "allure", "generate", str(results), "-o", str(output)],
        cwd=REPO,
        env={
            **os.environ,
            "MATHIF_ALLURE_RESULTS": str(results),
            "MATHIF_ALLURE_HISTORY": str(history),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    index = output / "index.html"
    assert done.returncode == 0 and index.exists(), done.stdout + done.stderr
    by_id = json.loads((output / "test-results.json").read_text())["byId"]
    return Report(index, {v["name"]: k for k, v in by_id.items()})


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A baseline run's results document, and the Allure results of the two candidates."""
    _require_tools()
    directory = tmp_path_factory.mktemp("allure-browser")
    uids = ", ".join(BASELINE)
    (directory / "smoke.yaml").write_text(
        f"mathif:\n  name: smoke\n  data: {data_dir}\n  select:\n    uids: [{uids}]\n",
        encoding="utf-8",
    )
    base = _replay(directory / "baseline.jsonl", BASELINE)
    baseline = directory / "baseline.json"
    assert _pytest(directory, "--model", str(base), f"--mathif-results={baseline}").returncode == 0
    failing = _replay(directory / "failing.jsonl", {**BASELINE, **REGRESSED}, truncated=True)
    for name, model in (("failing", failing), ("passing", base)):
        done = _pytest(
            directory,
            "--model",
            str(model),
            f"--mathif-baseline={baseline}",
            f"--alluredir={directory / name}",
            *GATE,
        )
        assert done.returncode == (1 if name == "failing" else 0), done.stdout + done.stderr
    return directory


@pytest.fixture(scope="module")
def failing(project: Path) -> Report:
    return generate(project / "failing", project / "failing-report", project / "history.jsonl")


@pytest.fixture(scope="module")
def passing(project: Path) -> Report:
    return generate(project / "passing", project / "passing-report", project / "passing.jsonl")


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    _require_tools()
    chromium = Chromium()
    try:
        chromium.open("about:blank")
        yield chromium
    finally:
        chromium.close()


def _open(browser: Chromium, report: Report, route: str, expected: str) -> str:
    browser.send("Page.navigate", url=report.url())
    return browser.show(route, expected)


def test_first_screen_of_a_failing_comparison_shows_the_verdict_and_the_deltas(
    browser: Chromium, failing: Report
) -> None:
    _open(browser, failing, "", "HAcc delta")
    screen = browser.first_screen()
    assert "MathIF smoke: FAILED (exit status 1)" in screen
    assert re.search(r"Quality Gates\s*2", screen), screen
    assert re.search(r"verdict\s+FAILED \(exit status 1\): the gate failed", screen), screen
    assert re.search(r"regressed\s+6 samples: punctuation:no_comma 2", screen), screen
    assert re.search(r"HAcc\s+\d+\.\d\d% \[", screen), screen
    assert re.search(r"HAcc delta\s+-\d+\.\d\d pts \[-", screen), screen
    assert re.search(r"Correct delta\s+-\d+\.\d\d pts", screen), screen


def test_quality_gates_show_each_threshold_and_link_the_regressed_samples(
    browser: Chromium, failing: Report
) -> None:
    text = _open(browser, failing, "qualityGate", "smoke: delta.hard_accuracy")
    assert re.search(r"smoke: delta\.hard_accuracy\s+Error\s+delta\.hard_accuracy", text)
    assert "a significant regression beyond the margin -2.00 pts" in text
    assert "Related test results (5)" in text
    assert re.search(r"smoke: correctness\s+Success\s+correctness >= 20\.00%: observed", text)


def test_categories_list_the_regressions_by_constraint_type(
    browser: Chromium, failing: Report
) -> None:
    text = _open(browser, failing, "categories", "Regressed: answer")
    expected = [
        "Regressed: change_case:english_lowercase\n1",
        "Regressed: keywords:forbidden_words\n1",
        "Regressed: keywords:frequency\n1",
        "Regressed: punctuation:no_comma\n2",
        "Regressed: answer\n1",
        "Generation truncated (finish_reason length)\n1",
    ]
    for category in expected:
        assert category in text, category


def test_a_regressed_case_shows_the_baseline_beside_this_run(
    browser: Chromium, failing: Report
) -> None:
    text = _open(browser, failing, failing.case_id("gsm8k_single-14"), "baseline vs this run")
    assert "Category: Regressed: punctuation:no_comma" in text
    message = "punctuation:no_comma: contains 2 commas (first in 'So,') (regressed: followed"
    assert message in text and "CaseFailure" not in text
    for noise in ("tmp_path_factory", "mathif_generations", "host", "thread", "severity"):
        assert noise not in text, noise
    browser.click("baseline vs this run")
    page = browser.frame_html("blob:")
    baseline, now = re.findall(r"<pre>(.*?)</pre>", page)
    assert baseline == "so the answer is \\boxed{18}"
    assert now == "So<mark>,</mark> first<mark>,</mark> the answer is \\boxed{18}"
    assert "<th>baseline</th><th>this run</th>" in page
    assert "followed</span>: contains no comma" in page
    if os.environ.get("MATHIF_UPDATE_SCREENSHOT") == "1":
        browser.evaluate("document.querySelector('iframe[src^=\"blob:\"]').scrollIntoView()")
        (IMAGES / "allure-regression.png").write_bytes(browser.screenshot())


def test_the_run_summary_is_the_first_global_attachment(browser: Chromium, failing: Report) -> None:
    text = _open(browser, failing, "globalAttachments", "MathIF run summary")
    names = re.findall(r"^\d+\n(.+)$", text, re.MULTILINE)
    assert names[:2] == ["MathIF run summary", "compliance per constraint type"], names
    browser.click("MathIF run summary")
    page = browser.frame_html("blob:")
    for table in ("Gate", "Metrics", "By source", "By constraint type", "Flips by constraint"):
        assert f"<h3>{table}" in page, table
    assert "Flipped samples (6)" in page and "gsm8k_single-14" in page


def test_a_passing_comparison_says_passed_on_the_first_screen(
    browser: Chromium, passing: Report
) -> None:
    _open(browser, passing, "", "HAcc delta")
    screen = browser.first_screen()
    assert "MathIF smoke: passed (exit status 0)" in screen
    assert re.search(r"verdict\s+PASSED \(exit status 0\): the gate passed", screen), screen
    assert re.search(r"HAcc delta\s+\+0\.00 pts", screen), screen


def test_reports_carry_no_analytics_tag(failing: Report, passing: Report) -> None:
    for report in (failing, passing):
        html = report.index.read_text(encoding="utf-8")
        assert "googletagmanager" not in html and "gtag(" not in html
        assert "allureReportData" in html  # the report itself is intact


def test_the_history_keeps_the_configured_number_of_reports(project: Path) -> None:
    history = project / "bounded.jsonl"
    for run in range(3):
        generate(
            project / "passing",
            project / f"bounded-{run}",
            history,
            MATHIF_ALLURE_HISTORY_LIMIT="2",
        )
    assert len(history.read_text(encoding="utf-8").splitlines()) == 2


def test_screenshot_of_the_first_screen(browser: Chromium, failing: Report) -> None:
    _open(browser, failing, "", "HAcc delta")
    browser.first_screen()
    shot = browser.screenshot()
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("MATHIF_UPDATE_SCREENSHOT") == "1":
        (IMAGES / "allure-report.png").write_bytes(shot)
