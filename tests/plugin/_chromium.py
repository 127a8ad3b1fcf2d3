"""Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4).

No extra package, no websocket, no browser download; waits on what the page shows rather than
on a fixed time. Used by the Allure report tests.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
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
#: The text of the page's first screen: every text node drawn inside the viewport.
FIRST_SCREEN = """(() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight) {
      seen.push(node.textContent.trim());
    }
  }
  return seen.filter(Boolean).join("\\n");
})()"""


class Chromium:
    """One headless browser with one page."""

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
                *FLAGS,
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

    def send(self, method: str, session: str = "", **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if (session or self._session) and not method.startswith("Target."):
            message["sessionId"] = session or self._session
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

    def open(self, url: str, width: int = 1400, height: int = 1000) -> None:
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

    def evaluate(self, expression: str, session: str = "") -> Any:
        found = self.send("Runtime.evaluate", session, returnByValue=True, expression=expression)
        return found["result"].get("value")

    def show(self, route: str, expected: str, timeout: float = 60.0) -> str:
        """Go to ``#/route`` and return the page's text once ``expected`` is in it."""
        self.evaluate(f"location.hash = {json.dumps('/' + route)}")
        return self.wait_for(expected, timeout)

    def wait_for(self, expected: str, timeout: float = 60.0) -> str:
        """The page's text once ``expected`` is in it."""
        deadline, text = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            text = str(self.evaluate("document.body ? document.body.innerText : ''"))
            if expected in text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{expected!r} never showed; the page shows:\n{text}")

    def first_screen(self) -> str:
        """The text drawn in the viewport, at the top of the page."""
        self.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
        time.sleep(0.3)
        return str(self.evaluate(FIRST_SCREEN))

    def click(self, text: str) -> None:
        """Click the innermost element whose whole text is ``text``."""
        clicked = self.evaluate(
            "(() => { const found = [...document.querySelectorAll('*')].filter(e => "
            "e.childElementCount === 0 && e.innerText && "
            f"e.innerText.trim() === {json.dumps(text)}); "
            "found.forEach(e => e.click()); return found.length; })()"
        )
        assert clicked, f"nothing to click named {text!r}"

    def frame_html(self, prefix: str, timeout: float = 30.0) -> str:
        """The HTML of the frame whose URL starts with ``prefix`` (an attachment's blob).

        The report opens from disk: its attachment frames have an opaque origin and run in
        their own process, a target of their own that DevTools attaches to.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            targets = self.send("Target.getTargets")["targetInfos"]
            frame = next((t for t in targets if t["url"].startswith(prefix)), None)
            if frame is not None:
                session = self.send(
                    "Target.attachToTarget", targetId=frame["targetId"], flatten=True
                )
                html = self.evaluate("document.documentElement.outerHTML", session["sessionId"])
                if html and "<body></body>" not in html:
                    return str(html)
            time.sleep(0.2)
        raise AssertionError(f"no frame {prefix}… showed")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.send("Browser.close")
        self.process.wait(timeout=30)
        os.close(self._writer)
        os.close(self._reader)
        self._profile.cleanup()
