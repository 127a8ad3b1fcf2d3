"""The documented HTML command on real MathIF results, opened in headless Chromium.

Needs the npm devDependency (``npm ci`` in the repository root) and ``/usr/bin/chromium``
(``apt-get install -y chromium``); skipped otherwise. ``MATHIF_UPDATE_SCREENSHOT=1`` also writes
the screenshot the documentation shows, ``docs/img/allure-report.png``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("allure_pytest")

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "img" / "allure-report.png"
RIGHT = "<think>Let me think.</think>The final answer is \\boxed{{{}}}"
#: A few cases of each kind: passed, violated constraint, wrong answer, truncated, empty, errored.
REPLAY = {
    "gsm8k_single-14": {"response": RIGHT.format(18)},
    "gsm8k_single-1": {
        "response": "<think>5 changes each, half of 10.</think>"
        "Jordan changes 4 diapers in total: \\boxed{4}"
    },
    "gsm8k_single-29": {"response": RIGHT.format(7)},
    "gsm8k_double-0": {"response": "<think>Let me think about", "finish_reason": "length"},
    "gsm8k_triple-0": {"response": ""},
    "aime_single-14": {"response": RIGHT.format(70)},
    "math500_single-14": None,
}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


@dataclass
class Report:
    """A generated single-file report and what it needs to be opened."""

    index: Path
    ids: dict[str, str]  # test result id by the case's title
    history: Path
    tmp: Path

    def url(self, route: str = "") -> str:
        return self.index.as_uri() + (f"#/{route}" if route else "")

    def case_id(self, title_start: str) -> str:
        return next(i for title, i in self.ids.items() if title.startswith(title_start))


def _require_tools() -> None:
    if shutil.which("npx") is None or not (REPO / "node_modules" / ".bin" / "allure").exists():
        pytest.skip("the Allure 3 CLI is not installed: run `npm ci` in the repository root")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium")


def _run_suite(directory: Path, data_dir: Path) -> Path:
    uids = ", ".join(REPLAY)
    (directory / "smoke.yaml").write_text(
        f"mathif:\n  name: smoke\n  data: {data_dir}\n  select:\n    uids: [{uids}]\n"
        "  gate:\n    - correctness>=0.2\n",
        encoding="utf-8",
    )
    lines = [json.dumps({"uid": uid, **line}) for uid, line in REPLAY.items() if line]
    (directory / "replay.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = directory / "allure-results"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_ADD"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "smoke.yaml",
            "--model",
            "replay.jsonl",
            "--mathif-store=store.sqlite",
            f"--alluredir={results}",
        ],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert list(results.glob("*-result.json")), done.stdout + done.stderr
    return results


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Report:
    """Run a small suite, then the documented command: ``npx allure generate allure-results``."""
    _require_tools()
    tmp = tmp_path_factory.mktemp("allure-browser")
    results = _run_suite(tmp, data_dir)
    history = tmp / "history.jsonl"
    # The repository's allurerc.mjs (read from the working directory) with this run's paths.
    env = {
        **os.environ,
        "MATHIF_ALLURE_RESULTS": str(results),
        "MATHIF_ALLURE_HISTORY": str(history),
    }
    done = subprocess.run(
        [
            "npx",
            "--no-install",
            "allure",
            "generate",
            str(results),
            "-o",
            str(tmp / "allure-report"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    index = tmp / "allure-report" / "index.html"
    assert done.returncode == 0 and index.exists(), done.stdout + done.stderr
    by_id = json.loads((tmp / "allure-report" / "test-results.json").read_text())["byId"]
    return Report(index, {v["name"]: k for k, v in by_id.items()}, history, tmp)


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4): no extra
    package, no websocket, and waits on what the page shows rather than on a fixed time."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory()
        to_chrome, self._writer = os.pipe()
        self._reader, from_chrome = os.pipe()

        def pipes() -> None:
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self._profile.name}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=pipes,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer, self._id, self._session = b"", 0, ""

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self._session and not method.startswith("Target."):
            message["sessionId"] = self._session
        os.write(self._writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    assert "error" not in reply, f"{method}: {reply['error']}"
                    result: dict[str, Any] = reply["result"]
                    return result
            ready = select.select([self._reader], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._reader, 1 << 20) if ready[0] else b""
            assert chunk, f"Chromium did not answer {method}"
            self._buffer += chunk

    def open(self, url: str, width: int = 1280, height: int = 1600) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Page.navigate", url=url)

    def show(self, route: str, expected: str, timeout: float = 60.0) -> str:
        """Go to ``#/route`` and return the page's text once ``expected`` is in it."""
        self.send("Runtime.evaluate", expression=f"location.hash = {json.dumps('/' + route)}")
        deadline, text = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            found = self.send(
                "Runtime.evaluate",
                returnByValue=True,
                expression="document.body ? document.body.innerText : ''",
            )
            text = str(found["result"].get("value", ""))
            if expected in text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{expected!r} never showed on #/{route}; the page shows:\n{text}")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.send("Browser.close")
        self.process.wait(timeout=30)
        os.close(self._writer)
        os.close(self._reader)
        self._profile.cleanup()


@pytest.fixture(scope="module")
def browser(report: Report) -> Iterator[Chromium]:
    chromium = Chromium()
    try:
        chromium.open(report.url())
        yield chromium
    finally:
        chromium.close()


JORDAN = "gsm8k · single · Jordan has 2 children"


def test_overview_lists_the_mathif_cases_by_source_and_level(browser: Chromium) -> None:
    text = browser.show("", JORDAN)
    for expected in ("MathIF", "gsm8k", "single", "aime", "model", "sampling.temperature"):
        assert expected in text, expected


def test_case_page_shows_the_failed_constraint_its_reason_and_attachments(
    browser: Chromium, report: Report
) -> None:
    text = browser.show(report.case_id(JORDAN), "— violated")
    assert re.search(
        r"keywords:frequency — violated: 'total' appears 1 time .*; needs at least 2", text
    )
    assert 'asked: In your response, the word "total" should appear at least 2 times.' in text
    assert "Category: Constraint violated: keywords:frequency" in text
    for attachment in ("prompt", "response", "verdicts", "answer vs reference"):
        assert re.search(rf"^{re.escape(attachment)}$", text, re.MULTILINE), attachment


def test_categories_page_files_failures_by_mathif_reason(browser: Chromium) -> None:
    text = browser.show("categories", "Wrong answer")
    for expected in (
        "Backend or generation error",
        "Empty response",
        "Generation truncated (finish_reason length)",
        "Constraint violated: keywords:frequency",
    ):
        assert expected in text, expected


def test_run_summary_and_charts_are_global_attachments(browser: Chromium) -> None:
    text = browser.show("globalAttachments", "MathIF run summary")
    for expected in ("compliance per constraint type", "metrics per source", "metrics per level"):
        assert expected in text, expected


def test_generate_appends_one_history_entry(report: Report) -> None:
    assert len(report.history.read_text(encoding="utf-8").splitlines()) == 1


def test_screenshot_of_a_failed_case(browser: Chromium, report: Report) -> None:
    browser.show(report.case_id(JORDAN), "— violated")
    shot = report.tmp / "allure-report.png"
    shot.write_bytes(browser.screenshot())
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("MATHIF_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
