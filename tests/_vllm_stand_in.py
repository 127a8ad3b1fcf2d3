"""A loopback stand-in for ``vllm serve --reasoning-parser ...`` and ``vllm run-batch``.

Shaped after vLLM 0.33's OpenAI-compatible server, read in its sources (entrypoints/openai and
entrypoints/serve): ``GET /v1/models`` with ``max_model_len`` (LoRA cards carry ``parent``
instead), ``POST /v1/chat/completions`` streamed (``chat.completion.chunk`` events, a first delta
``{"role": "assistant", "content": ""}``, thinking as ``reasoning`` deltas, usage in a last event
with no choices, ``data: [DONE]``) or not, ``POST /tokenize`` at the server root, the API key
middleware on ``/v1`` only (``{"error": "Unauthorized"}``), and vLLM's validation messages with
their ``(parameter=..., value=...)`` suffix in ``{"error": {"message", "type", "param", "code"}}``.
Context: ``max_tokens`` above ``max_model_len`` is a 400, a prompt that fills the context is a
400, and the rest is clamped silently (``context_errors="current"``, vLLM 0.12 and later); or,
as vLLM 0.9 to 0.11 did, any prompt plus ``max_tokens`` over the limit is a 400
(``context_errors="legacy"``). Fields vLLM would accept and ignore are accepted and recorded in
``ignored`` so that a test can insist on none.

The "model" is deterministic: the answer to a prompt depends on the prompt and the seed only,
``<think>`` words ``</think>`` then ``The final answer is \\boxed{N}.``; tokens are whitespace-led
words. Modes for tests: ``token_seconds`` (slow generation), ``request_seconds`` with ``capacity``
(a fixed latency per request and a batch of that many at once), and ``faults`` consumed one per
chat request (``429``, ``500``, ``drop`` before any answer, ``drop-mid`` after some text, ``stall``
after the headers, ``echo`` a 400 that repeats the request headers, as careless servers do).
Everything binds to 127.0.0.1; the server stops after ``max_requests`` requests or ``lifetime``
seconds, whichever comes first, so no test can leave it running.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_WORDS = re.findall(
    r"\w+",
    "first we read the question carefully then we add the numbers and check each step so the "
    "total is clear and the remainder is zero which means the result holds",
)
_TOKEN = re.compile(r"\s*\S+")
#: The fields of vLLM's ChatCompletionRequest that a client of ours might send.
_CHAT_FIELDS = {
    "messages", "model", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
    "max_tokens", "max_completion_tokens", "n", "presence_penalty", "response_format", "seed",
    "stop", "stream", "stream_options", "temperature", "top_p", "tools", "tool_choice",
    "reasoning_effort", "include_reasoning", "parallel_tool_calls", "user", "use_beam_search",
    "top_k", "min_p", "repetition_penalty", "length_penalty", "stop_token_ids",
    "include_stop_str_in_output", "ignore_eos", "min_tokens", "skip_special_tokens",
    "spaces_between_special_tokens", "truncate_prompt_tokens", "prompt_logprobs",
    "allowed_token_ids", "bad_words", "echo", "add_generation_prompt", "continue_final_message",
    "add_special_tokens", "documents", "chat_template", "chat_template_kwargs",
    "mm_processor_kwargs", "structured_outputs", "priority", "request_id", "return_token_ids",
}  # fmt: skip


class _Invalid(Exception):
    """A request vLLM rejects: status, message (with vLLM's suffix), error type, parameter."""

    def __init__(self, status: int, message: str, param: str | None = None, value: Any = None):
        extras = [f"parameter={param}"] if param is not None else []
        extras += [f"value={value}"] if value is not None else []
        super().__init__(f"{message} ({', '.join(extras)})" if extras else message)
        self.status = status
        self.param = param

    def payload(self) -> dict[str, Any]:
        kind = {400: "BadRequestError", 404: "NotFoundError"}.get(self.status, "BadRequestError")
        return {
            "error": {"message": str(self), "type": kind, "param": self.param, "code": self.status}
        }


def tokens(text: str) -> list[str]:
    """The stand-in's tokenizer: whitespace-led words (joining them gives the text back)."""
    return _TOKEN.findall(text)


def answer_tokens(prompt: str, seed: int | None) -> list[str]:
    """What the stand-in model says to ``prompt`` with ``seed``: thinking, then an answer."""
    digest = hashlib.sha256(json.dumps([prompt, seed]).encode()).digest()
    count, start, number = 12 + digest[0] % 40, digest[1], int.from_bytes(digest[2:4], "big") % 100
    words = [_WORDS[(start + 7 * i) % len(_WORDS)] for i in range(count)]
    return [
        "<think>",
        *tokens(" ".join(words)),
        "</think>",
        *tokens(f"The final answer is \\boxed{{{number}}}."),
    ]


@dataclass
class StandIn:
    """A stand-in vLLM server; start it with :meth:`start` (or use :func:`serving`)."""

    model: str = "stand-in/reasoner"
    max_model_len: int = 32768
    reasoning_field: str | None = "reasoning"  # "reasoning_content", "both", or None (no parser)
    context_errors: str = "current"  # or "legacy"
    tokenizer: bool = True
    report_max_model_len: bool = True
    api_key: str | None = None
    lora_modules: dict[str, str] = field(default_factory=dict)
    token_seconds: float = 0.0
    request_seconds: float = 0.0
    capacity: int | None = None
    faults: list[str] = field(default_factory=list)
    max_requests: int = 20_000
    lifetime: float = 600.0
    # what happened
    chats: list[dict[str, Any]] = field(default_factory=list)
    tokenize_calls: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    ignored: set[str] = field(default_factory=set)
    answered: int = 0
    aborted: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(self.capacity or 1_000_000)
        self._requests = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> StandIn:
        """Listen on 127.0.0.1 (a free port) in a daemon thread; ``url`` is the ``/v1`` base."""
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        timer = threading.Timer(self.lifetime, self.stop)
        timer.daemon = True
        timer.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def count_request(self) -> bool:
        """Whether this request is within ``max_requests`` (the loop is bounded)."""
        with self._lock:
            self._requests += 1
            return self._requests <= self.max_requests

    def next_fault(self) -> str | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    # --- the OpenAI protocol -----------------------------------------------------------------

    def models(self) -> dict[str, Any]:
        created = int(time.time())
        cards = [
            {"id": self.model, "object": "model", "created": created, "owned_by": "vllm",
             "root": self.model, "parent": None,
             "max_model_len": self.max_model_len if self.report_max_model_len else None,
             "permission": [{"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission"}]}
        ]  # fmt: skip
        cards += [
            {"id": name, "object": "model", "created": created, "owned_by": "vllm", "root": path,
             "parent": self.model, "max_model_len": None, "permission": []}
            for name, path in self.lora_modules.items()
        ]  # fmt: skip
        return {"object": "list", "data": cards}

    def prompt_tokens(self, body: dict[str, Any]) -> int:
        """Tokens of the rendered chat: role markers, contents, the generation prompt."""
        count = 0
        for message in body["messages"]:
            count += 1 + len(tokens(str(message.get("content") or ""))) + 1
        if body.get("continue_final_message"):
            return count - 1  # the final message is left open: no end marker
        return count + (1 if body.get("add_generation_prompt", True) else 0)

    def validate(self, body: Any) -> tuple[int, int]:
        """Check a chat request as vLLM does; returns (prompt tokens, max tokens to generate)."""
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise _Invalid(
                400, "[{'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required'}]"
            )
        self._check_model(body)
        self.ignored |= set(body) - _CHAT_FIELDS
        if body.get("stream_options") and not body.get("stream"):
            raise _Invalid(
                400, "Stream options can only be defined when `stream=True`.", "stream_options"
            )
        self._check_template_flags(body)
        _check_sampling(body)
        if body.get("n", 1) != 1:
            raise _Invalid(400, "the stand-in serves n=1 only", "n", body.get("n"))
        return self._fit(body)

    def _check_model(self, body: dict[str, Any]) -> None:
        name = body.get("model")
        if name is not None and name != self.model and name not in self.lora_modules:
            raise _Invalid(404, f"The model `{name}` does not exist.", "model")

    def _check_template_flags(self, body: dict[str, Any]) -> None:
        if body.get("continue_final_message") and body.get("add_generation_prompt", True):
            raise _Invalid(
                400, "Cannot set both `continue_final_message` and `add_generation_prompt` to True."
            )
        if body.get("continue_final_message") and body["messages"][-1].get("role") != "assistant":
            raise _Invalid(400, "continue_final_message needs a final assistant message (stand-in)")

    def _fit(self, body: dict[str, Any]) -> tuple[int, int]:
        prompt, limit = self.prompt_tokens(body), self.max_model_len
        wanted = body.get("max_completion_tokens") or body.get("max_tokens")
        if prompt >= limit:
            raise _Invalid(
                400,
                f"This model's maximum context length is {limit} tokens. However, your prompt "
                f"contains {prompt} input tokens, which exceeds this limit even without any output "
                "tokens. Please reduce the length of the input prompt.",
                "input_tokens",
                prompt,
            )
        if wanted is None:
            return prompt, limit - prompt
        if self.context_errors == "legacy" and prompt + wanted > limit:
            raise _Invalid(
                400,
                f"'max_tokens' or 'max_completion_tokens' is too large: {wanted}. This model's "
                f"maximum context length is {limit} tokens and your request has {prompt} input "
                f"tokens ({wanted} > {limit} - {prompt}).",
            )
        if wanted > limit:
            raise _Invalid(
                400,
                f"max_tokens={wanted} cannot be greater than max_model_len={limit}. Please request "
                "fewer output tokens.",
                "max_tokens",
                wanted,
            )
        return prompt, min(wanted, limit - prompt)

    def generate(self, body: dict[str, Any], budget: int) -> tuple[list[str], str, str | None]:
        """The output tokens within ``budget``, the finish reason and the stop string hit.

        As vLLM does, generation stops at the first token holding one of the request's ``stop``
        strings, which is left out of the output and reported as ``stop_reason``.
        """
        messages = body["messages"]
        prompt = str(messages[0].get("content") or "")
        if body.get("continue_final_message"):
            prompt += "\x00" + str(messages[-1].get("content") or "")
        out = answer_tokens(prompt, body.get("seed"))[: budget + 1]
        for index, token in enumerate(out):
            hit = next((s for s in body.get("stop") or () if s in token), None)
            if hit is not None and index < budget:
                return out[:index], "stop", hit
        return (out, "stop", None) if len(out) <= budget else (out[:budget], "length", None)

    def split(self, out: list[str]) -> tuple[str | None, str | None]:
        """(reasoning, content) as vLLM's reasoning parser splits them (content None if empty)."""
        if self.reasoning_field is None:
            return None, "".join(out) or None
        body = out[1:] if out[:1] == ["<think>"] else out
        if "</think>" not in body:
            return "".join(body) or None, None
        end = body.index("</think>")
        return "".join(body[:end]) or None, "".join(body[end + 1 :]) or None

    def message(self, reasoning: str | None, content: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        message.update(annotations=None, audio=None, function_call=None)
        message.update(self._reasoning(reasoning))
        return message

    def _reasoning(self, text: str | None) -> dict[str, Any]:
        if self.reasoning_field == "both":
            return {"reasoning": text, "reasoning_content": text}
        return {self.reasoning_field: text} if self.reasoning_field else {}

    def usage(self, prompt: int, out: list[str]) -> dict[str, Any]:
        inside = 0
        if self.reasoning_field is not None and "<think>" in out:
            end = out.index("</think>") if "</think>" in out else len(out)
            inside = end - out.index("<think>") - 1
        details = {"reasoning_tokens": inside} if self.reasoning_field else None
        return {"prompt_tokens": prompt, "total_tokens": prompt + len(out),
                "completion_tokens": len(out), "prompt_tokens_details": None,
                "completion_tokens_details": details}  # fmt: skip

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """A whole non-streamed ``chat.completion`` (raises :class:`_Invalid`)."""
        prompt, budget = self.validate(body)
        out, finish, stopped = self.generate(body, budget)
        reasoning, content = self.split(out)
        choice = {"index": 0, "message": self.message(reasoning, content), "logprobs": None,
                  "finish_reason": finish, "stop_reason": stopped}  # fmt: skip
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
                "created": int(time.time()), "model": body.get("model") or self.model,
                "choices": [choice], "usage": self.usage(prompt, out)}  # fmt: skip

    def chunks(self, body: dict[str, Any], prompt: int, budget: int) -> Iterator[dict[str, Any]]:
        """The ``chat.completion.chunk`` events of a streamed answer."""
        out, finish, stopped = self.generate(body, budget)
        base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model") or self.model}  # fmt: skip
        yield {**base, "choices": [_choice({"role": "assistant", "content": ""}, None)]}
        deltas = list(self._deltas(out))
        for index, delta in enumerate(deltas):
            time.sleep(self.token_seconds)
            last = index == len(deltas) - 1
            yield {**base, "choices": [_choice(delta, finish if last else None, stopped)]}
        if not deltas:
            yield {**base, "choices": [_choice({}, finish, stopped)]}
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**base, "choices": [], "usage": self.usage(prompt, out)}

    def _deltas(self, out: list[str]) -> Iterator[dict[str, Any]]:
        if self.reasoning_field is None:
            yield from ({"content": token} for token in out)
            return
        thinking = out[:1] == ["<think>"]
        for token in out[1:] if thinking else out:
            if token == "</think>" and thinking:
                thinking = False
            elif thinking:
                yield self._reasoning(token)
            else:
                yield {"content": token}

    def tokenize(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise _Invalid(400, "the stand-in tokenizes chats only")
        self._check_model(body)
        self._check_template_flags(body)
        count = self.prompt_tokens(body)
        return {"count": count, "max_model_len": self.max_model_len,
                "tokens": list(range(count)), "token_strs": None}  # fmt: skip

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self, *, answered: bool, aborted: bool = False) -> None:
        with self._lock:
            self.in_flight -= 1
            self.answered += answered
            self.aborted += aborted


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (as ours does after ``[DONE]``) is no error."""


def _choice(
    delta: dict[str, Any], finish: str | None, stopped: str | None = None
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**choice, "stop_reason": stopped} if finish is not None else choice


def _check_sampling(body: dict[str, Any]) -> None:
    """vLLM's SamplingParams checks, with its messages."""
    checks = [
        ("temperature", lambda v: math.isfinite(v) and v >= 0, "must be non-negative"),
        ("temperature", lambda v: v <= 2.0, "must be in [0, 2]"),
        ("top_p", lambda v: 0.0 < v <= 1.0, "must be in (0, 1]"),
        ("top_k", lambda v: isinstance(v, int) and v >= -1, "must be 0 (disable), or at least 1"),
        ("min_p", lambda v: 0.0 <= v <= 1.0, "must be in [0, 1]"),
        ("repetition_penalty", lambda v: v > 0.0, "must be greater than zero"),
        ("max_tokens", lambda v: v >= 1, "must be at least 1"),
    ]
    for name, good, message in checks:
        value = body.get(name)
        if value is not None and not good(value):
            raise _Invalid(400, f"{name} {message}, got {value}.", name, value)


def _handler(server: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if not self._admitted():
                return
            if self.path.rstrip("/") == "/v1/models":
                self._json(200, server.models())
            else:
                self._json(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            if not self._admitted():
                return
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                self._json(400, _Invalid(400, "JSON decode error").payload())
                return
            if self.path == "/tokenize" and server.tokenizer:
                server.tokenize_calls.append(body)
                self._answer(lambda: server.tokenize(body))
            elif self.path == "/v1/chat/completions":
                server.chats.append(body)
                self._chat(body)
            else:
                self._json(404, {"detail": "Not Found"})

        def _admitted(self) -> bool:
            server.headers.append(dict(self.headers))
            if not server.count_request():
                self._json(503, {"error": "the stand-in's request budget is spent"})
                return False
            key = server.api_key
            if (
                key
                and self.path.startswith("/v1")
                and self.headers.get("Authorization") != f"Bearer {key}"
            ):
                self._json(401, {"error": "Unauthorized"})
                return False
            return True

        def _answer(self, make: Any) -> None:
            try:
                payload = make()
            except _Invalid as exc:
                self._json(exc.status, exc.payload())
                return
            self._json(200, payload)

        def _chat(self, body: Any) -> None:
            if self._fault():
                return
            if not body.get("stream"):
                server.enter()
                with server._slots:
                    time.sleep(server.request_seconds)
                    try:
                        payload: Any = server.completion(body)
                    except _Invalid as exc:
                        payload = exc
                    finally:  # done before the client can see the answer and send the next
                        server.leave(answered=True)
                if isinstance(payload, _Invalid):
                    self._json(payload.status, payload.payload())
                else:
                    self._json(200, payload)
                return
            try:
                prompt, budget = server.validate(body)
            except _Invalid as exc:
                self._json(exc.status, exc.payload())
                return
            self._stream(body, prompt, budget)

        def _stream(self, body: dict[str, Any], prompt: int, budget: int) -> None:
            server.enter()
            aborted = False
            try:
                self._start_stream()
                with server._slots:
                    time.sleep(server.request_seconds)
                    for event in server.chunks(body, prompt, budget):
                        self._chunk(f"data: {json.dumps(event)}\n\n")
            except OSError:  # the client closed the stream: vLLM aborts the request
                aborted = True
                self.close_connection = True
            finally:  # done before the client sees [DONE] and sends its next request
                server.leave(answered=not aborted, aborted=aborted)
            with contextlib.suppress(OSError):
                if not aborted:
                    self._chunk("data: [DONE]\n\n")
                    self._chunk("")

        def _fault(self) -> bool:
            fault = server.next_fault()
            if fault in ("429", "500"):
                status = int(fault)
                kind = "RateLimitError" if status == 429 else "InternalServerError"
                message = "Too many requests" if status == 429 else "Internal server error"
                payload = {
                    "error": {"message": message, "type": kind, "param": None, "code": status}
                }
                self._json(status, payload, {"Retry-After": "0"} if status == 429 else {})
            elif fault == "echo":  # a careless server that echoes the request headers
                message = f"bad request from {dict(self.headers)}"
                self._json(400, {"error": {"message": message, "type": "BadRequestError"}})
            elif fault == "drop":
                self._hang_up()
            elif fault == "drop-mid":
                self._start_stream()
                self._chunk('data: {"choices": [{"index": 0, "delta": {"reasoning": "so"}}]}\n\n')
                self._hang_up()
            elif fault == "stall":
                self._start_stream()
                time.sleep(30)
                self.close_connection = True
            return fault is not None

        def _hang_up(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _start_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


@contextlib.contextmanager
def serving(**settings: Any) -> Iterator[StandIn]:
    """A started :class:`StandIn` (``settings`` are its fields), stopped afterwards."""
    server = StandIn(**settings).start()
    try:
        yield server
    finally:
        server.stop()


def run_batch(server: StandIn, requests: Path, results: Path) -> None:
    """A stand-in for ``vllm run-batch -i requests -o results``: the same model, no HTTP.

    Output lines follow vLLM's ``BatchRequestOutput``, in input order.
    """
    lines = []
    for text in requests.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        output: dict[str, Any] = {"id": f"vllm-{uuid.uuid4().hex}", "custom_id": line["custom_id"]}
        request_id = f"vllm-batch-{uuid.uuid4().hex}"
        if line.get("url") != "/v1/chat/completions" or line.get("method") != "POST":
            raise ValueError(f"the stand-in batch runs POST /v1/chat/completions only: {line}")
        if line["body"].get("stream"):
            output.update(response={"status_code": 400, "request_id": request_id, "body": None},
                          error="Request must not be sent in stream mode")  # fmt: skip
        else:
            try:
                body = server.completion(line["body"])
                output.update(
                    response={"status_code": 200, "request_id": request_id, "body": body},
                    error=None,
                )
            except _Invalid as exc:
                response = {"status_code": exc.status, "request_id": request_id, "body": None}
                output.update(response=response, error=exc.payload())
        lines.append(json.dumps(output))
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
