"""HTTP for served models: JSON and server-sent events that can be aborted, and dispatch.

Standard library only (``http.client``). Every connection in flight is registered with an
:class:`Aborter`, so that Ctrl-C or SIGTERM closes them all at once: a blocked read returns at
once, and closing a stream makes vLLM abort that request. Errors are split by what is safe to do
next: :class:`Unreachable` (no answer began; retrying cannot duplicate work),
:class:`HTTPStatusError` (an error status; 429 and 5xx are worth retrying) and
:class:`BrokenAnswer` (an answer began and broke off, or timed out: retrying a long generation
blindly would double its cost, so it is not).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = [
    "Aborter",
    "BrokenAnswer",
    "Dispatcher",
    "Endpoint",
    "HTTPStatusError",
    "Unreachable",
]

#: Bytes of an error body kept for the message.
_ERROR_BYTES = 4096
_RETRY_AFTER_CAP = 300.0


class Unreachable(Exception):
    """No answer began: refused, reset, DNS, connect timeout, or dropped before the status line."""


class HTTPStatusError(Exception):
    """The server answered with an error status.

    Attributes:
        status: the HTTP status.
        message: the server's message (``error.message`` of vLLM's JSON), key removed.
        retry_after: the ``Retry-After`` header in seconds, when given.
    """

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """429 (rate limited) and 5xx (server trouble) are worth another try."""
        return self.status == 429 or self.status >= 500


class BrokenAnswer(Exception):
    """An answer began but did not finish: dropped, malformed, or past its idle or overall limit.

    Attributes:
        began: whether the answer had begun (for a stream: whether text had arrived).
        timed_out: whether it broke on a time limit (never retried: the generation may be long).
    """

    def __init__(self, message: str, *, began: bool, timed_out: bool = False) -> None:
        super().__init__(message)
        self.began = began
        self.timed_out = timed_out


class Aborter:
    """The connections in flight; :meth:`abort` closes them all and refuses new ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self.aborted = threading.Event()

    def add(self, connection: http.client.HTTPConnection) -> None:
        """Track ``connection``.

        Raises:
            Unreachable: :meth:`abort` was called (the run is being cancelled).
        """
        with self._lock:
            if self.aborted.is_set():
                raise Unreachable("cancelled")
            self._open.add(connection)

    def discard(self, connection: http.client.HTTPConnection) -> None:
        """Stop tracking ``connection`` (it is closed by its owner)."""
        with self._lock:
            self._open.discard(connection)

    def abort(self) -> None:
        """Shut every tracked socket down (a blocked read returns) and refuse new connections."""
        with self._lock:
            self.aborted.set()
            connections, self._open = list(self._open), set()
        for connection in connections:
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed by its reader
                    sock.shutdown(socket.SHUT_RDWR)


class Endpoint:
    """One server's base URL (``http://host:8000/v1``), with the API key and an aborter.

    Every error text it raises has the API key removed (servers may echo request headers).
    """

    def __init__(
        self, base_url: str, api_key: str | None, aborter: Aborter, connect_timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path
        #: the server's root: vLLM serves ``/tokenize`` beside ``/v1``, not under it
        self.root_path = self._path.removesuffix("/v1")
        self._api_key = api_key
        self._aborter = aborter
        self._connect_timeout = connect_timeout

    def __repr__(self) -> str:
        return f"Endpoint({self.base_url!r})"

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced by ``***``."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def get_json(self, path: str, timeout: float) -> Any:
        """``GET base + path`` and return the parsed JSON answer.

        Raises:
            Unreachable, HTTPStatusError, BrokenAnswer: see the module docstring.
        """
        return self._json("GET", self._path + path, None, timeout)

    def post_json(
        self, path: str, body: Mapping[str, Any], timeout: float, *, root: bool = False
    ) -> Any:
        """``POST`` ``body`` to ``base + path`` (``root``: to the server root + path).

        ``timeout`` bounds the wait for the whole answer (a non-streamed generation).

        Raises:
            Unreachable, HTTPStatusError, BrokenAnswer: see the module docstring.
        """
        return self._json("POST", (self.root_path if root else self._path) + path, body, timeout)

    def post_stream(
        self, path: str, body: Mapping[str, Any], idle: float, deadline: float
    ) -> Generator[Any, None, None]:
        """``POST`` ``body`` and yield each server-sent event's JSON until ``data: [DONE]``.

        Args:
            path: under the base URL.
            body: the request (with ``"stream": true``).
            idle: seconds allowed between two reads.
            deadline: ``time.monotonic()`` value past which the answer is abandoned.

        Raises:
            Unreachable, HTTPStatusError, BrokenAnswer: see the module docstring. Closing the
            generator early closes the connection (vLLM then aborts the request).
        """
        connection, response = self._open(
            "POST", self._path + path, body, min(idle, _left(deadline))
        )
        began = False
        try:
            for data in _events(response, connection, idle, deadline):
                if data == "[DONE]":
                    return
                began = True
                yield _parse(data, began=True)
            if self._aborter.aborted.is_set():
                raise BrokenAnswer("cancelled", began=began)
            raise BrokenAnswer("the stream ended without data: [DONE]", began=began)
        except (OSError, http.client.HTTPException) as exc:
            raise self._broken(exc, began) from None
        finally:
            self._close(connection)

    def _json(self, method: str, path: str, body: Mapping[str, Any] | None, timeout: float) -> Any:
        connection, response = self._open(method, path, body, timeout)
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._broken(exc, began=True) from None
        finally:
            self._close(connection)
        return _parse(raw.decode("utf-8", "replace"), began=True)

    def _open(
        self, method: str, path: str, body: Mapping[str, Any] | None, timeout: float
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Connect, send, and read the status line; an error status is raised."""
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=min(timeout, self._connect_timeout))
        self._aborter.add(connection)
        try:
            response = self._send(connection, method, path, body, timeout)
        except BaseException:
            self._close(connection)
            raise
        if response.status >= 400:
            self._close_after(connection, response)
        return connection, response

    def _send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        timeout: float,
    ) -> http.client.HTTPResponse:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json, text/event-stream"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            connection.connect()
            if self._aborter.aborted.is_set():
                raise Unreachable("cancelled")
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.request(method, path or "/", body=data, headers=headers)
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(self.redact(f"{type(exc).__name__}: {exc}")) from None
        try:
            return connection.getresponse()
        except TimeoutError:
            raise BrokenAnswer(
                "no answer within the time limit", began=False, timed_out=True
            ) from None
        except (OSError, http.client.HTTPException) as exc:  # dropped before the status line
            raise Unreachable(self.redact(f"{type(exc).__name__}: {exc}")) from None

    def _close_after(
        self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse
    ) -> None:
        """Read an error answer's message, close, and raise it."""
        try:
            text = response.read(_ERROR_BYTES).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            text = ""
        finally:
            self._close(connection)
        raise HTTPStatusError(
            response.status,
            self.redact(_error_message(text) or response.reason),
            _retry_after(response.getheader("Retry-After")),
        )

    def _close(self, connection: http.client.HTTPConnection) -> None:
        self._aborter.discard(connection)
        connection.close()

    def _broken(self, exc: BaseException, began: bool) -> BrokenAnswer:
        if self._aborter.aborted.is_set():
            return BrokenAnswer("cancelled", began=began)
        if isinstance(exc, TimeoutError):
            return BrokenAnswer("no data within the time limit", began=began, timed_out=True)
        return BrokenAnswer(
            self.redact(f"the connection broke ({type(exc).__name__}: {exc})"), began=began
        )


def _events(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    idle: float,
    deadline: float,
) -> Iterator[str]:
    """The ``data`` of each server-sent event (its ``data:`` lines joined), in order."""
    lines: list[str] = []
    while True:
        left = _left(deadline)
        if left <= 0:
            raise TimeoutError("past the overall time limit")
        if connection.sock is not None:
            connection.sock.settimeout(min(idle, left))
        raw = response.readline()
        if not raw:
            if lines:
                yield "\n".join(lines)
            return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
        elif not line and lines:
            yield "\n".join(lines)
            lines = []


def _parse(text: str, *, began: bool) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise BrokenAnswer(f"the answer is not JSON ({text[:80]!r})", began=began) from None


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


def _error_message(text: str) -> str:
    """The message in vLLM's ``{"error": {"message": ...}}``, ``{"message": ...}``, or text."""
    try:
        payload = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message") or error)
        return str(error)
    return text.strip()[:300]


def _retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header given in seconds (the HTTP-date form is ignored), capped."""
    try:
        return min(float(value), _RETRY_AFTER_CAP) if value is not None else None
    except ValueError:
        return None


class Dispatcher:
    """Least-outstanding-requests dispatch over servers (ties: the one sent the fewest)."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.endpoints = tuple(endpoints)
        self._lock = threading.Lock()
        self._outstanding = [0] * len(self.endpoints)
        self._sent = [0] * len(self.endpoints)

    @contextmanager
    def lease(self, *, counted: bool = True) -> Iterator[Endpoint]:
        """The server with the fewest requests in flight, for the duration of one request.

        ``counted=False``: a side request (``/tokenize``) left out of :meth:`sent`.
        """
        with self._lock:
            index = min(
                range(len(self.endpoints)), key=lambda i: (self._outstanding[i], self._sent[i], i)
            )
            self._outstanding[index] += 1
            self._sent[index] += counted
        try:
            yield self.endpoints[index]
        finally:
            with self._lock:
                self._outstanding[index] -= 1

    def sent(self) -> dict[str, int]:
        """Chat requests sent to each server so far (retries included), by base URL."""
        with self._lock:
            return {e.base_url: n for e, n in zip(self.endpoints, self._sent, strict=True)}
