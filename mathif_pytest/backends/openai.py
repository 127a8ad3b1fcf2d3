"""The openai backend: any OpenAI-compatible chat server (``vllm serve``, a load-balanced cluster).

Standard library only (``urllib`` plus a thread pool). The API key is read from the environment,
sent as a Bearer header, and never appears in ``describe()``, ``repr()``, errors or logs.

Reasoning servers: when the server splits the thinking out (``reasoning_content`` or
``reasoning``, vLLM's ``--reasoning-parser``), the text is rebuilt as ``reasoning</think>content``
so that the MathIF post-processing sees what the raw output would have been; a response cut off
inside its thinking (no content) is the reasoning alone, as it would be raw.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.backends._options import at_least, read_options
from mathif_pytest.errors import BackendUnavailableError
from mathif_pytest.prompts import chat_messages

__all__ = ["OpenAIBackend", "OpenAIOptions", "served_model_name"]

_START_HINT = "is the server running? start it with `vllm serve MODEL`"
_MAX_DELAY = 60.0
#: seconds to wait for ``GET /models`` when checking that the server is up
_PROBE_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIOptions:
    """Settings read from ``BackendConfig.options``.

    Attributes:
        served_model: the model name the server serves (default: its only one, from ``/models``).
        concurrency: requests in flight at once.
        max_retries: retries of one request after a connection error, 429 or 5xx.
        timeout: seconds for one HTTP request.
        api_key_env: the environment variable that holds the API key.
        backoff: seconds before the first retry; doubled each retry (at most 60 s), with jitter.
    """

    served_model: str | None = None
    concurrency: int = at_least(1, default=16)
    max_retries: int = at_least(0, default=5)
    timeout: float = 600.0
    api_key_env: str = "OPENAI_API_KEY"
    backoff: float = 1.0


class _Unreachable(Exception):
    """No HTTP answer at all: refused, reset, timed out. Worth retrying."""


class _HTTPStatus(Exception):
    """An HTTP error status; 429 and 5xx are worth retrying."""

    def __init__(self, status: int, message: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


class _Client:
    """JSON over HTTP to one base URL; every error text it raises has the API key removed."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"_Client({self.base_url!r})"

    def call(self, path: str, body: Mapping[str, Any] | None = None, timeout: float = 0) -> Any:
        """GET ``path`` (or POST ``body`` to it) and return the parsed JSON answer.

        ``timeout`` overrides the client's own (0: keep it).
        """
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self._timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read()[:300].decode("utf-8", "replace").strip()
            raise _HTTPStatus(exc.code, self.redact(text), _seconds(exc.headers)) from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            reason = getattr(exc, "reason", None) or exc
            raise _Unreachable(self.redact(f"{type(exc).__name__}: {reason}")) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise _HTTPStatus(200, "the answer is not JSON", None) from None

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced (servers may echo request headers)."""
        return text.replace(self._api_key, "***") if self._api_key else text


def served_model_name(config: BackendConfig) -> str:
    """The ``served_model`` option, else the one model the server lists at ``GET {base}/models``.

    Raises:
        BackendUnavailableError: the server cannot be reached, or serves several models (the
            message lists them) or none.
    """
    options = read_options(OpenAIOptions, "openai", config.options)
    if options.served_model:
        return options.served_model
    client = _Client(config.model, os.environ.get(options.api_key_env), options.timeout)
    return _discover(client, options.api_key_env)


class OpenAIBackend:
    """Chat completions from a server; requests run concurrently and are yielded as they finish."""

    name = "openai"

    def __init__(self, config: BackendConfig) -> None:
        """Keep the settings and read the API key; the server is first contacted by ``generate``.

        Raises:
            BackendUnavailableError: an option has the wrong type, or a count is below 1.
        """
        self._config = config
        self._options = read_options(OpenAIOptions, self.name, config.options)
        api_key = os.environ.get(self._options.api_key_env)
        self._client = _Client(config.model, api_key, self._options.timeout)
        self._served: str | None = self._options.served_model
        self._jitter = random.Random()

    def __repr__(self) -> str:
        return f"OpenAIBackend({self._client.base_url!r}, served_model={self._served!r})"

    def describe(self) -> Mapping[str, Any]:
        """URL, served model, concurrency, retries; whether a key is set (never the key)."""
        return {
            "backend": self.name,
            "model": self._client.base_url,
            "served_model": self._served,
            "concurrency": self._options.concurrency,
            "max_retries": self._options.max_retries,
            "timeout": self._options.timeout,
            "api_key_env": self._options.api_key_env,
            "api_key_set": self._options.api_key_env in os.environ,
        }

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Send every request (``concurrency`` at a time), yielding each one as it completes.

        A request that still fails after its retries is a :class:`Generation` with ``error``.

        Raises:
            BackendUnavailableError: the server cannot be reached at all when generation starts.
        """
        items = list(requests)
        if not items:
            return
        model = self._connect()
        pool = ThreadPoolExecutor(self._options.concurrency, thread_name_prefix="mathif-openai")
        try:
            futures: list[Future[Generation]] = [
                pool.submit(self._complete, request, model) for request in items
            ]
            for future in as_completed(futures):
                yield future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Nothing is held between calls (each request opens its own connection)."""

    def _connect(self) -> str:
        if self._served is None:
            self._served = _discover(self._client, self._options.api_key_env)
            return self._served
        try:
            self._client.call("/models", timeout=_PROBE_TIMEOUT)
        except _Unreachable as exc:
            raise BackendUnavailableError(
                f"{self._client.base_url}: cannot reach the server ({exc}); {_START_HINT}"
            ) from None
        except _HTTPStatus:  # some servers have no /models; the served name is known anyway
            pass
        return self._served

    def _complete(self, request: GenerationRequest, model: str) -> Generation:
        body = {
            "model": model,
            "messages": chat_messages(request.prompt),
            "temperature": self._config.sampling.temperature,
            "top_p": self._config.sampling.top_p,
            "max_tokens": self._config.sampling.max_tokens,
            "n": 1,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        started = time.perf_counter()
        try:
            payload = self._call_with_retries(body)
            return _to_generation(request, payload, time.perf_counter() - started)
        except (_Unreachable, _HTTPStatus) as exc:
            error = f"{self._client.base_url}/chat/completions: {exc}"
        except (LookupError, TypeError, AttributeError) as exc:
            error = f"{self._client.base_url}/chat/completions: unexpected answer shape ({exc!r})"
        return Generation(key=request.key, text="", error=self._client.redact(error))

    def _call_with_retries(self, body: Mapping[str, Any]) -> Any:
        attempt = 0
        while True:
            try:
                return self._client.call("/chat/completions", body)
            except (_Unreachable, _HTTPStatus) as exc:
                retryable = not isinstance(exc, _HTTPStatus) or exc.retryable
                if not retryable or attempt >= self._options.max_retries:
                    raise
                time.sleep(self._delay(attempt, getattr(exc, "retry_after", None)))
                attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = min(_MAX_DELAY, self._options.backoff * 2.0**attempt)
        delay *= self._jitter.uniform(0.5, 1.5)
        return max(delay, retry_after or 0.0)


def _to_generation(request: GenerationRequest, payload: Any, seconds: float) -> Generation:
    choice = payload["choices"][0]
    message = choice["message"]
    content = message.get("content")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:
        text = reasoning if content is None else f"{reasoning}</think>{content}"
    else:
        text = content or ""
    usage = payload.get("usage") or {}
    return Generation(
        key=request.key,
        text=text,
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        seconds=seconds,
    )


def _discover(client: _Client, api_key_env: str) -> str:
    where = f"{client.base_url}/models"
    try:
        listing = client.call("/models", timeout=_PROBE_TIMEOUT)
    except _Unreachable as exc:
        raise BackendUnavailableError(
            f"{client.base_url}: cannot reach the server ({exc}); {_START_HINT}"
        ) from None
    except _HTTPStatus as exc:
        auth = f"; set ${api_key_env} to the API key" if exc.status in (401, 403) else ""
        raise BackendUnavailableError(
            f"{where}: cannot list the served models ({exc}){auth}; or pass the served_model "
            "backend option"
        ) from None
    data = listing.get("data") if isinstance(listing, dict) else None
    names = [item.get("id") for item in data or [] if isinstance(item, dict)]
    if len(names) != 1:
        raise BackendUnavailableError(
            f"{where}: the server serves {len(names)} models ({', '.join(map(str, names))}); "
            "pass the served_model backend option to pick one"
        )
    return str(names[0])


def _seconds(headers: Any) -> float | None:
    """A ``Retry-After`` header given in seconds (the HTTP-date form is ignored)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return min(float(value), 300.0) if value is not None else None
    except ValueError:
        return None
