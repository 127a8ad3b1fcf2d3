"""One openai generation: worker threads, each request's budget, retries, and cancellation.

Requests run on daemon threads and come back through a queue that the caller's thread polls, so
Ctrl-C (or SIGTERM turned into it) reaches the caller at once; cancelling then closes every
connection in flight (vLLM aborts a request whose stream is closed), and no thread outlives it.

A request is retried with exponential backoff and jitter only when retrying cannot repeat work
the server has done: no answer began (refused, reset, dropped before any text), or the server
said 429 or 5xx. A stream that broke after text arrived, or any time limit, is an error for that
request: a long generation is not started again blindly (a re-run resumes from the store).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mathif_pytest.backends._context import (
    Fit,
    PromptTooLong,
    estimate_prompt_tokens,
    fit_max_tokens,
    parse_context_error,
)
from mathif_pytest.backends._http import (
    Aborter,
    BrokenAnswer,
    Dispatcher,
    Endpoint,
    HTTPStatusError,
    Unreachable,
)
from mathif_pytest.backends._openai_chat import (
    ChatReply,
    StreamedReply,
    chat_body,
    reply_from_completion,
)
from mathif_pytest.backends._servers import Fleet
from mathif_pytest.backends._types import Generation, GenerationRequest

if TYPE_CHECKING:
    from mathif_pytest.backends.openai import OpenAIOptions

__all__ = ["ServedRun"]

_MAX_DELAY = 60.0
_CHAT = "/chat/completions"
#: answers that mean "this server has no tokenizer endpoint"
_NO_ROUTE = (404, 405, 501)


class _Failed(Exception):
    """A request failed for good; the message names the server and what it said."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ServedRun:
    """The requests of one ``generate`` call against a :class:`Fleet`."""

    def __init__(
        self,
        fleet: Fleet,
        options: OpenAIOptions,
        sampling: Mapping[str, Any],
        max_tokens: int,
        aborter: Aborter,
    ) -> None:
        """Prepare the run.

        Args:
            fleet: the servers (connected with ``aborter``).
            options: the backend's options.
            sampling: the sampling fields of every request body.
            max_tokens: the run's budget per response, before fitting.
            aborter: the one that the fleet's endpoints register their connections with.
        """
        self.fleet = fleet
        self.aborter = aborter
        self.dispatcher = Dispatcher(fleet.live)
        self.clamped = 0
        self._options = options
        self._sampling = dict(sampling)
        self._requested = max_tokens
        self._lock = threading.Lock()
        self._max_model_len = fleet.max_model_len
        self._tokenizer = True
        self._jitter = random.Random()

    def generate(self, requests: Sequence[GenerationRequest], workers: int) -> Iterator[Generation]:
        """Run ``requests`` on ``workers`` threads, yielding each as it finishes.

        Leaving early (an exception in the caller, ``KeyboardInterrupt``, closing the generator)
        cancels the rest.
        """
        jobs: queue.SimpleQueue[GenerationRequest] = queue.SimpleQueue()
        done: queue.SimpleQueue[Generation] = queue.SimpleQueue()
        for request in requests:
            jobs.put(request)
        threads = [
            threading.Thread(
                target=self._work, args=(jobs, done), name=f"mathif-openai-{i}", daemon=True
            )
            for i in range(max(1, min(workers, len(requests))))
        ]
        try:
            for thread in threads:
                thread.start()
            for _ in requests:
                yield _next(done)
        finally:
            self.aborter.abort()

    def max_model_len(self) -> int | None:
        """The context window in force (the one ``/models`` gave, or learnt from a 400)."""
        with self._lock:
            return self._max_model_len

    def _work(
        self, jobs: queue.SimpleQueue[GenerationRequest], done: queue.SimpleQueue[Generation]
    ) -> None:
        while not self.aborter.aborted.is_set():
            try:
                request = jobs.get_nowait()
            except queue.Empty:
                return
            done.put(self._complete(request))

    def _complete(self, request: GenerationRequest) -> Generation:
        started = time.perf_counter()
        try:
            reply, fit = self._ask(request)
        except _Failed as exc:
            return Generation(key=request.key, text="", error=str(exc))
        except Exception as exc:  # a bug must cost one request, never hang the run
            error = f"{self.fleet.live[0].base_url}{_CHAT}: unexpected error ({exc!r})"
            return Generation(key=request.key, text="", error=self.fleet.live[0].redact(error))
        if fit.clamped:
            with self._lock:
                self.clamped += 1
        return _hit_budget(reply, fit).generation(
            request.key, time.perf_counter() - started, fit.extra()
        )

    def _ask(self, request: GenerationRequest) -> tuple[ChatReply, Fit]:
        fit = self._fit(request)
        body = chat_body(request, self.fleet.served, self._sampling, fit.max_tokens)
        try:
            return self._send(body), fit
        except _Failed as failure:
            lower = self._refit(failure.cause, fit, request)
            if lower is None:
                raise
        body["max_tokens"] = lower.max_tokens
        return self._send(body), lower

    def _fit(self, request: GenerationRequest) -> Fit:
        """This request's budget: the run's ``max_tokens``, clamped to the context window."""
        limit = self.max_model_len()
        wanted = self._budget(request)
        messages = chat_body(request, self.fleet.served, {}, 1)["messages"]
        estimate = estimate_prompt_tokens(messages)
        if limit is None or estimate + wanted <= limit:
            return Fit(max_tokens=wanted, requested=wanted)
        tokens, counted_by = self._count(request, messages, estimate)
        try:
            return fit_max_tokens(wanted, limit, tokens, counted_by)
        except PromptTooLong as exc:
            raise _Failed(f"{self.fleet.live[0].base_url}{_CHAT}: {exc}") from None

    def _budget(self, request: GenerationRequest) -> int:
        """The request's own budget (an intervention stage's), else the run's ``max_tokens``."""
        return self._requested if request.max_tokens is None else request.max_tokens

    def _count(
        self, request: GenerationRequest, messages: list[Any], estimate: int
    ) -> tuple[int, str]:
        """The prompt's tokens from the server's ``/tokenize`` if it has one, else ``estimate``."""
        with self._lock:
            if not self._tokenizer:
                return estimate, "estimate"
        body: dict[str, Any] = {"model": self.fleet.served, "messages": messages}
        body.update(
            {"add_generation_prompt": False, "continue_final_message": True}
            if request.prefix
            else {"add_generation_prompt": True}
        )
        with self.dispatcher.lease(counted=False) as endpoint:
            try:
                answer = endpoint.post_json(
                    "/tokenize", body, self._options.connect_timeout, root=True
                )
            except HTTPStatusError as exc:
                if exc.status in _NO_ROUTE:
                    with self._lock:
                        self._tokenizer = False
                return estimate, "estimate"
            except (Unreachable, BrokenAnswer):
                return estimate, "estimate"
        count = answer.get("count") if isinstance(answer, Mapping) else None
        return (count, "tokenizer") if isinstance(count, int) else (estimate, "estimate")

    def _refit(
        self, cause: BaseException | None, fit: Fit, request: GenerationRequest
    ) -> Fit | None:
        """A smaller budget after vLLM's "maximum context length" 400 (None: not that, no gain)."""
        if not isinstance(cause, HTTPStatusError) or cause.status != 400:
            return None
        limit = parse_context_error(cause.message)
        if limit is None:
            return None
        with self._lock:
            known = self._max_model_len
            self._max_model_len = min(known or limit.max_model_len, limit.max_model_len)
        try:
            if limit.prompt_tokens is not None:
                lower = fit_max_tokens(
                    self._budget(request), limit.max_model_len, limit.prompt_tokens, "server"
                )
            else:
                lower = self._fit(request)
        except (PromptTooLong, _Failed):
            return None
        return lower if lower.max_tokens < fit.max_tokens else None

    def _send(self, body: Mapping[str, Any]) -> ChatReply:
        """POST ``body`` to the least busy server, retrying what is safe to retry."""
        attempt = 0
        while True:
            with self.dispatcher.lease() as endpoint:
                try:
                    return self._once(endpoint, body)
                except (Unreachable, HTTPStatusError, BrokenAnswer, ValueError) as exc:
                    failure = _Failed(endpoint.redact(f"{endpoint.base_url}{_CHAT}: {exc}"), exc)
                    retry = _retryable(exc) and attempt < self._options.max_retries
                    if not retry or self.aborter.aborted.is_set():
                        raise failure from None
            if self.aborter.aborted.wait(self._delay(attempt, failure.cause)):
                raise failure
            attempt += 1

    def _once(self, endpoint: Endpoint, body: Mapping[str, Any]) -> ChatReply:
        options = self._options
        if not options.stream:
            return reply_from_completion(endpoint.post_json(_CHAT, body, options.timeout))
        streamed = StreamedReply()
        request = {**body, "stream": True, "stream_options": {"include_usage": True}}
        deadline = time.monotonic() + options.timeout
        try:
            events = endpoint.post_stream(_CHAT, request, options.idle_timeout, deadline)
            try:
                for event in events:
                    streamed.add(event)
            finally:
                events.close()
        except BrokenAnswer as exc:  # "began" now means: text had arrived
            raise BrokenAnswer(str(exc), began=streamed.began, timed_out=exc.timed_out) from None
        return streamed.reply()

    def _delay(self, attempt: int, exc: BaseException | None) -> float:
        delay = min(_MAX_DELAY, self._options.backoff * 2.0**attempt)
        delay *= self._jitter.uniform(0.5, 1.5)
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        return max(delay, retry_after or 0.0)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, Unreachable):
        return True
    if isinstance(exc, HTTPStatusError):
        return exc.retryable
    return isinstance(exc, BrokenAnswer) and not exc.began and not exc.timed_out


def _hit_budget(reply: ChatReply, fit: Fit) -> ChatReply:
    """A clamped reply that used its whole budget ends with ``length``, whatever the server said."""
    used = reply.completion_tokens
    if (
        fit.clamped
        and used is not None
        and used >= fit.max_tokens
        and reply.finish_reason != "length"
    ):
        return ChatReply(
            content=reply.content,
            reasoning=reply.reasoning,
            finish_reason="length",
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=used,
            reasoning_tokens=reply.reasoning_tokens,
            stop_reason=reply.stop_reason,
        )
    return reply


def _next(done: queue.SimpleQueue[Generation]) -> Generation:
    """The next finished request; the short timeout keeps Ctrl-C prompt on every platform."""
    while True:
        try:
            return done.get(timeout=0.25)
        except queue.Empty:
            continue
