"""The openai backend: OpenAI-compatible chat servers (``vllm serve``), one or several replicas.

Standard library only. What it does for a run against ``vllm serve`` (docs/serving-and-batch.md):

* **Streaming** (``stream: true`` with usage) by default: an idle limit between chunks
  (``idle_timeout``) and an overall one per request (``timeout``); ``stream=false`` for servers
  without it. Retries only where they cannot repeat work (see ``_openai_run``).
* **The server's context**: ``max_model_len`` from ``GET /models``; each request's ``max_tokens``
  clamped to fit beside its prompt (counted by the server's ``/tokenize``), and vLLM's
  "maximum context length" 400 answered by one retry with less. A clamp is recorded per response
  (``Generation.extra``) and counted in :meth:`OpenAIBackend.describe`.
* **Several servers**: ``--model http://a:8000/v1,http://b:8000/v1``, least outstanding requests
  first; a server down at start is skipped and reported, all down is an error.
* **One sampling definition**: every sampling field is sent (see ``_openai_chat``) unless
  ``generation_config=model`` leaves them to the server, which is then recorded.
* **Cancel means stop**: Ctrl-C closes every stream in flight within a fraction of a second.

The API key is read from the environment, sent as a Bearer header, and never appears in
``describe()``, ``repr()``, errors or logs. LoRA adapters: serve them with ``vllm serve BASE
--enable-lora --lora-modules NAME=PATH`` and pass ``--mathif-engine-arg served_model=NAME``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.backends._http import Aborter, Endpoint
from mathif_pytest.backends._openai_chat import sampling_fields
from mathif_pytest.backends._openai_run import ServedRun
from mathif_pytest.backends._options import at_least, read_options
from mathif_pytest.backends._servers import Fleet, connect, server_urls
from mathif_pytest.errors import BackendUnavailableError

__all__ = ["PER_SERVER_CONCURRENCY", "OpenAIBackend", "OpenAIOptions", "served_model_name"]

#: Requests in flight per live server when ``concurrency`` is not set: vLLM's default
#: ``max_num_seqs`` is 256 (1,024 on the largest GPUs), so the server's batch stays full.
PER_SERVER_CONCURRENCY = 256
#: ``generation_config`` values: ours (every field sent), or the served model's own.
_GENERATION_CONFIGS = ("mathif", "model")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAIOptions:
    """Settings read from ``BackendConfig.options`` (``--mathif-engine-arg KEY=VALUE``).

    Attributes:
        served_model: the model name the servers serve (default: their only one, from
            ``/models``); a LoRA adapter's ``--lora-modules`` name.
        concurrency: requests in flight at once over all servers (default: 256 per live server).
        max_retries: retries of one request after a connection error, 429 or 5xx.
        timeout: seconds one request may take, start to end.
        idle_timeout: seconds a streamed answer may pause between two chunks.
        connect_timeout: seconds to connect, and to wait for ``/models`` and ``/tokenize``.
        stream: stream answers (``false``: one JSON answer per request).
        api_key_env: the environment variable that holds the API key.
        backoff: seconds before the first retry; doubled each retry (at most 60 s), with jitter.
        generation_config: ``mathif`` sends every sampling field; ``model`` leaves temperature,
            top-p, top-k, min-p and the repetition penalty to the served model's generation config.
    """

    served_model: str | None = None
    concurrency: int | None = field(default=None, metadata={"minimum": 1})
    max_retries: int = at_least(0, default=5)
    timeout: float = 7200.0
    idle_timeout: float = 600.0
    connect_timeout: float = 30.0
    stream: bool = True
    api_key_env: str = "OPENAI_API_KEY"
    backoff: float = 1.0
    generation_config: str = "mathif"


def read_openai_options(config: BackendConfig) -> OpenAIOptions:
    """The openai options of ``config``, checked.

    Raises:
        BackendUnavailableError: a value of the wrong type or out of range.
    """
    options = read_options(OpenAIOptions, "openai", config.options)
    for name in ("timeout", "idle_timeout", "connect_timeout"):
        if getattr(options, name) <= 0:
            raise BackendUnavailableError(
                f"openai backend option {name}={getattr(options, name)!r} is invalid, because it "
                "must be a positive number of seconds; fix the value"
            )
    if options.generation_config not in _GENERATION_CONFIGS:
        raise BackendUnavailableError(
            f"openai backend option generation_config={options.generation_config!r} is invalid; "
            "use 'model' (the served model's generation config decides) or leave it out (every "
            "sampling setting is sent)"
        )
    return options


def served_model_name(config: BackendConfig) -> str:
    """The ``served_model`` option, else the one model the servers list at ``GET {base}/models``.

    This name is the served model's identity in the store (see ``backends.fingerprint``): the
    server URLs are not, so replicas, ports and hosts can change between runs.

    Raises:
        BackendUnavailableError: no server can be reached, or they serve several models (the
            message lists them) or none.
    """
    options = read_openai_options(config)
    if options.served_model:
        return options.served_model
    return _connect(config, options, Aborter()).served


def _connect(config: BackendConfig, options: OpenAIOptions, aborter: Aborter) -> Fleet:
    api_key = os.environ.get(options.api_key_env)
    endpoints = [
        Endpoint(url, api_key, aborter, options.connect_timeout)
        for url in server_urls(config.model)
    ]
    return connect(endpoints, options.served_model, options.connect_timeout, options.api_key_env)


class OpenAIBackend:
    """Chat completions from one or several servers, yielded as they finish."""

    name = "openai"

    def __init__(self, config: BackendConfig) -> None:
        """Keep the settings; the servers are first contacted by ``generate``.

        Raises:
            BackendUnavailableError: an option has the wrong type or is out of range, or
                ``--model`` is not a list of server URLs.
        """
        self._config = config
        self._options = read_openai_options(config)
        self._urls = server_urls(config.model)
        explicit = self._options.generation_config == "mathif"
        self._sampling = sampling_fields(config.sampling, explicit=explicit)
        self._fleet: Fleet | None = None
        self._run: ServedRun | None = None

    def __repr__(self) -> str:
        served = self._fleet.served if self._fleet else self._options.served_model
        return f"OpenAIBackend({','.join(self._urls)!r}, served_model={served!r})"

    def describe(self) -> Mapping[str, Any]:
        """Servers, served model, context, sampling sent, clamps; whether a key is set (not it)."""
        options = self._options
        info: dict[str, Any] = {
            "backend": self.name,
            "servers": list(self._urls),
            "served_model": self._fleet.served if self._fleet else options.served_model,
            "stream": options.stream,
            "concurrency": options.concurrency or "256 per live server",
            "max_retries": options.max_retries,
            "timeout": options.timeout,
            "idle_timeout": options.idle_timeout,
            "api_key_env": options.api_key_env,
            "api_key_set": options.api_key_env in os.environ,
            "sampling_decided_by": "mathif" if options.generation_config == "mathif" else "server",
            "sampling_sent": dict(self._sampling),
        }
        info.update(self._run_info())
        return info

    def _run_info(self) -> dict[str, Any]:
        if self._fleet is None:
            return {}
        info: dict[str, Any] = {"dead_servers": list(self._fleet.dead)}
        notes = [f"{dead}; skipped" for dead in self._fleet.dead]
        if self._run is not None:
            limit = self._run.max_model_len()
            info.update(
                max_model_len=limit,
                max_tokens_clamped=self._run.clamped,
                requests_per_server=self._run.dispatcher.sent(),
            )
            if self._run.clamped:
                notes.append(
                    f"max_tokens {self._config.sampling.max_tokens} clamped to fit the served "
                    f"max_model_len {limit} in {self._run.clamped} requests (recorded per response)"
                )
        if self._options.generation_config == "model":
            notes.append("sampling decided by the served model's generation config")
        info["notes"] = notes
        return info

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Send every request, yielding each one as it completes.

        A request that still fails after its retries is a :class:`Generation` with ``error``.

        Raises:
            BackendUnavailableError: no server can be reached, or they do not serve one model.
        """
        items = list(requests)
        if not items:
            return
        self.close()
        aborter = Aborter()
        self._fleet = _connect(self._config, self._options, aborter)
        max_tokens = self._config.sampling.max_tokens
        run = ServedRun(self._fleet, self._options, self._sampling, max_tokens, aborter)
        self._run = run
        workers = self._options.concurrency or PER_SERVER_CONCURRENCY * len(self._fleet.live)
        yield from run.generate(items, workers)

    def close(self) -> None:
        """Abandon any request still in flight (closing its connection). Safe to call twice."""
        if self._run is not None:
            self._run.aborter.abort()
