"""Generation progress that shows under pytest's capture and under xdist, for every backend.

:class:`ProgressLine` counts finished responses and formats one line (finished/total,
responses/s, tokens/s, ETA). On a terminal it rewrites that line in place at most every
``interval`` seconds; elsewhere (CI logs, captured output) it prints a line each time another
tenth of the responses is done. :func:`terminal_progress` binds it to where pytest shows it:
the terminal reporter, with capture suspended around each write (``capman``'s
``global_and_fixture_disabled``); in an xdist worker, whose stdout is the channel to the
controller, the worker's stderr, which is the controller's.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from mathif_pytest.backends import Generation

__all__ = ["ProgressLine", "ProgressOutput", "terminal_progress"]


class ProgressOutput(Protocol):
    """Where progress goes: whole lines, or one line rewritten in place."""

    in_place: bool

    def line(self, text: str) -> None:
        """Write ``text`` as a line of its own (after ending a line being rewritten)."""
        ...

    def rewrite(self, text: str) -> None:
        """Replace the current line with ``text`` (terminals only)."""
        ...


class ProgressLine:
    """Counts generations and reports them on a :class:`ProgressOutput`, throttled.

    Implements ``pytest_plugin.generation.GenerationProgress``.
    """

    def __init__(
        self,
        output: ProgressOutput,
        *,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Nothing is written before :meth:`start`."""
        self._output = output
        self._interval = interval
        self._clock = clock
        self._total = self._done = self._failed = self._tokens = self._tenth = 0
        self._started = self._shown = 0.0

    def start(self, total: int, lines: list[str]) -> None:
        """Begin counting ``total`` responses; print ``lines`` (what is generated, and how)."""
        self._total, self._started = total, self._clock()
        self._shown = self._started
        for text in lines:
            self._output.line(text)

    def note(self, text: str) -> None:
        """Print one line between progress updates (e.g. the engine's settings once it is up)."""
        self._output.line(text)

    def advance(self, generation: Generation) -> None:
        """Count one finished response (failed ones too) and report when it is time."""
        self._done += 1
        self._failed += generation.error is not None
        self._tokens += generation.completion_tokens or 0
        now = self._clock()
        tenth = 10 * self._done // max(1, self._total)
        if self._output.in_place and (now - self._shown >= self._interval):
            self._shown = now
            self._output.rewrite(self.text(now))
        elif not self._output.in_place and tenth > self._tenth and self._done < self._total:
            self._tenth = tenth
            self._output.line(self.text(now))

    def finish(self) -> None:
        """Print the final line (always, as a line of its own)."""
        self._output.line(self.text(self._clock(), final=True))

    def text(self, now: float, *, final: bool = False) -> str:
        """The progress line at time ``now``."""
        elapsed = max(now - self._started, 1e-9)
        rate = self._done / elapsed
        parts = [
            f"mathif generate: {self._done}/{self._total} responses "
            f"({100 * self._done // max(1, self._total)}%)",
            f"{rate:.2f} responses/s",
            f"{self._tokens / elapsed:,.0f} tokens/s",
        ]
        if self._failed:
            parts.append(f"{self._failed} failed")
        if final:
            parts.append(f"in {_duration(elapsed)}")
        elif rate > 0:
            parts.append(f"ETA {_duration((self._total - self._done) / rate)}")
        return ", ".join(parts)


def _duration(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class _TerminalOutput:
    """The controller's (or a plain run's) terminal reporter, with capture suspended."""

    def __init__(self, reporter: Any, capman: Any) -> None:
        self._reporter = reporter
        self._capman = capman
        self.in_place = bool(reporter.isatty())
        self._rewriting = False

    def line(self, text: str) -> None:
        with _uncaptured(self._capman):
            if self._rewriting:
                self._reporter.write("\n")
                self._rewriting = False
            self._reporter.ensure_newline()
            self._reporter.write_line(text)

    def rewrite(self, text: str) -> None:
        with _uncaptured(self._capman):
            self._reporter.ensure_newline()
            self._reporter.rewrite(text)
            self._rewriting = True
            self._reporter.flush()


class _StreamOutput:
    """A text stream (an xdist worker's stderr), with capture suspended around each write."""

    def __init__(self, capman: Any) -> None:
        self._capman = capman
        with _uncaptured(capman):
            self.in_place = bool(sys.stderr.isatty())
        self._rewriting = False

    def line(self, text: str) -> None:
        with _uncaptured(self._capman):
            sys.stderr.write(("\n" if self._rewriting else "") + text + "\n")
            sys.stderr.flush()
        self._rewriting = False

    def rewrite(self, text: str) -> None:
        with _uncaptured(self._capman):
            sys.stderr.write("\r" + text + "\x1b[K")
            sys.stderr.flush()
        self._rewriting = True


def _uncaptured(capman: Any) -> contextlib.AbstractContextManager[None]:
    if capman is None:
        return contextlib.nullcontext()
    manager: contextlib.AbstractContextManager[None] = capman.global_and_fixture_disabled()
    return manager


def terminal_progress(config: pytest.Config) -> ProgressLine:
    """A :class:`ProgressLine` that writes where this process's output reaches the user."""
    capman = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if hasattr(config, "workerinput") or reporter is None:
        return ProgressLine(_StreamOutput(capman))
    return ProgressLine(_TerminalOutput(reporter, capman))
