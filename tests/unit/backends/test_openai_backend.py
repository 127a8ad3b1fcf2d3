"""The openai backend against a local fake OpenAI-compatible server (stdlib, in a thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.backends.openai import OpenAIBackend
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.errors import BackendUnavailableError

MakeRequests = Callable[..., list[GenerationRequest]]
#: (status, JSON body, extra headers) for a chat request, given its prompt and attempt number
Reply = tuple[int, dict[str, Any], dict[str, str]]
SECRET = "sk-test-5f2a9c0e"


def echo(prompt: str, attempt: int) -> Reply:
    return (
        200,
        {
            "choices": [
                {
                    "message": {"role": "assistant", "content": f"echo: {prompt}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 3},
        },
        {},
    )


class FakeServer:
    """Records every request; answers chat completions with ``reply`` (echo by default)."""

    def __init__(self) -> None:
        self.models = ["tiny-chat"]
        self.reply: Callable[[str, int], Reply] = echo
        self.delay: Callable[[str], float] = lambda prompt: 0.0
        self.chats: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.attempts: dict[str, int] = {}
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.headers.append(dict(self.headers))
                data = [{"id": name, "object": "model"} for name in server.models]
                self._send(200, {"object": "list", "data": data}, {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.headers.append(dict(self.headers))
                self._send(*server.chat(body, dict(self.headers)))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        return Handler

    def chat(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        prompt = body["messages"][0]["content"]
        with self.lock:
            self.chats.append(body)
            attempt = self.attempts[prompt] = self.attempts.get(prompt, 0) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay(prompt))
            return self.reply(prompt, attempt)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    fake = FakeServer()
    thread = threading.Thread(target=fake.httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


def openai_backend(url: str, sampling: SamplingSettings, **options: object) -> OpenAIBackend:
    options.setdefault("backoff", 0.01)
    config = BackendConfig(name="auto", model=url, sampling=sampling, options=options)
    backend = make_backend(config)
    assert isinstance(backend, OpenAIBackend)
    return backend


def by_key(results: Iterator[Generation] | list[Generation]) -> dict[str, Generation]:
    return {result.key: result for result in results}


def test_chat_requests_carry_the_protocol_settings_and_answers_keep_usage(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    requests = make_requests(4)
    results = by_key(openai_backend(server.url, sampling).generate(requests))
    for request in requests:
        assert results[request.key] == Generation(
            key=request.key,
            text=f"echo: {request.prompt}",
            finish_reason="stop",
            prompt_tokens=len(request.prompt.split()),
            completion_tokens=3,
            seconds=results[request.key].seconds,
        )
    sent = {chat["seed"]: chat for chat in server.chats}
    assert sorted(sent) == sorted(request.seed for request in requests)
    assert sent[requests[0].seed] == {
        "model": "tiny-chat",
        "messages": [{"role": "user", "content": requests[0].prompt}],
        "temperature": 1.0,
        "top_p": 0.95,
        "max_tokens": 16,
        "n": 1,
        "seed": requests[0].seed,
    }


def test_the_served_model_option_is_used_as_given(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.models = ["a", "b"]
    list(openai_backend(server.url, sampling, served_model="b").generate(make_requests(1)))
    assert server.chats[0]["model"] == "b"


def test_several_served_models_without_the_option_is_an_error_listing_them(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.models = ["qwen-7b", "llama-8b"]
    with pytest.raises(BackendUnavailableError, match=r"serves 2 models \(qwen-7b, llama-8b\)"):
        list(openai_backend(server.url, sampling).generate(make_requests(1)))


def test_no_more_than_concurrency_requests_are_in_flight(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.delay = lambda prompt: 0.05
    results = list(openai_backend(server.url, sampling, concurrency=3).generate(make_requests(12)))
    assert len(results) == 12
    assert server.max_in_flight == 3


def test_results_are_yielded_as_each_request_completes(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    requests = make_requests(3)
    server.delay = lambda prompt: 0.5 if prompt == requests[0].prompt else 0.0
    order = [g.key for g in openai_backend(server.url, sampling).generate(requests)]
    assert order[-1] == requests[0].key


def test_server_errors_and_rate_limits_are_retried_until_success(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    def flaky(prompt: str, attempt: int) -> Reply:
        if attempt == 1:
            return 500, {"error": "boom"}, {}
        if attempt == 2:
            return 429, {"error": "slow down"}, {"Retry-After": "0"}
        return echo(prompt, attempt)

    server.reply = flaky
    results = list(openai_backend(server.url, sampling).generate(make_requests(2)))
    assert [result.error for result in results] == [None, None]
    assert sorted(server.attempts.values()) == [3, 3]


@pytest.mark.parametrize(
    ("status", "attempts"), [(503, 3), (400, 1)], ids=["retried-5xx", "client-error-not-retried"]
)
def test_a_request_that_keeps_failing_is_an_error_item(
    server: FakeServer,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    status: int,
    attempts: int,
) -> None:
    requests = make_requests(2)
    doomed = requests[1].prompt
    server.reply = lambda p, a: (status, {"error": "nope"}, {}) if p == doomed else echo(p, a)
    results = by_key(openai_backend(server.url, sampling, max_retries=2).generate(requests))
    assert results[requests[0].key].error is None
    error = results[requests[1].key].error
    assert error is not None
    assert error.startswith(f"{server.url}/chat/completions: HTTP {status}")
    assert results[requests[1].key].text == ""
    assert server.attempts[doomed] == attempts


def test_server_down_at_start_is_unavailable_with_how_to_start_it(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    for options in ({}, {"served_model": "m"}):
        backend = openai_backend(url, sampling, **options)
        with pytest.raises(BackendUnavailableError) as info:
            list(backend.generate(make_requests(1)))
        assert str(info.value).startswith(f"{url}: cannot reach the server")
        assert "is the server running? start it with `vllm serve MODEL`" in str(info.value)


def test_api_key_is_sent_but_never_shown(
    server: FakeServer,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLUSTER_KEY", SECRET)
    monkeypatch.delenv("OPENAI_API_KEY")
    # a careless server that echoes the request headers into its error message
    server.reply = lambda prompt, attempt: (400, {"error": str(server.headers[-1])}, {})
    backend = openai_backend(server.url, sampling, api_key_env="CLUSTER_KEY", max_retries=0)
    (result,) = backend.generate(make_requests(1))
    assert server.headers[-1]["Authorization"] == f"Bearer {SECRET}"
    assert result.error is not None and "Authorization" in result.error
    shown = [result.error, repr(backend), repr(backend.describe()), str(backend.__dict__)]
    assert not [text for text in shown if SECRET in text]
    assert backend.describe()["api_key_set"] is True


def test_unauthorised_model_listing_says_which_variable_to_set(
    server: FakeServer, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.httpd.RequestHandlerClass.do_GET = lambda self: self._send(  # type: ignore[attr-defined]
        401, {"error": f"bad key {self.headers['Authorization']}"}, {}
    )
    with pytest.raises(BackendUnavailableError, match=r"HTTP 401.*set \$OPENAI_API_KEY") as info:
        list(openai_backend(server.url, sampling).generate(make_requests(1)))
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"content": "42", "reasoning_content": "think"}, "think</think>42"),
        ({"content": None, "reasoning": "still thinking"}, "still thinking"),
        ({"content": None}, ""),
    ],
    ids=["reasoning-split-out", "cut-off-while-thinking", "empty"],
)
def test_reasoning_split_out_by_the_server_is_put_back_before_the_answer(
    server: FakeServer,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    message: dict[str, Any],
    expected: str,
) -> None:
    server.reply = lambda p, a: (
        200,
        {"choices": [{"message": message, "finish_reason": "length"}]},
        {},
    )
    (result,) = openai_backend(server.url, sampling).generate(make_requests(1))
    assert (result.text, result.finish_reason, result.prompt_tokens) == (expected, "length", None)
