"""The openai backend against the loopback vLLM stand-in (tests/_vllm_stand_in.py)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from _vllm_stand_in import StandIn, serving

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.backends.openai import OpenAIBackend
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.errors import BackendUnavailableError

MakeRequests = Callable[..., list[GenerationRequest]]
SECRET = "sk-test-5f2a9c0e"


@pytest.fixture
def server() -> Iterator[StandIn]:
    with serving() as stand_in:
        yield stand_in


def openai_backend(url: str, sampling: SamplingSettings, **options: object) -> OpenAIBackend:
    options.setdefault("backoff", 0.01)
    config = BackendConfig(name="auto", model=url, sampling=sampling, options=options)
    backend = make_backend(config)
    assert isinstance(backend, OpenAIBackend)
    return backend


def by_key(results: Iterator[Generation] | list[Generation]) -> dict[str, Generation]:
    return {result.key: result for result in results}


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


# --- what is sent --------------------------------------------------------------------------


def test_every_sampling_setting_is_sent_explicitly_with_the_request_seed(
    server: StandIn, make_requests: MakeRequests
) -> None:
    sampling = SamplingSettings(
        temperature=0.6, top_p=0.95, max_tokens=64, seed=7, min_p=0.05, stop=("STOP",)
    )
    (request,) = make_requests(1)
    list(openai_backend(server.url, sampling).generate([request]))
    assert server.chats == [
        {
            "model": "stand-in/reasoner",
            "messages": [{"role": "user", "content": request.prompt}],
            "temperature": 0.6,
            "top_p": 0.95,
            "top_k": -1,  # off: every vLLM release reads -1 as off (before 0.8, 0 was rejected)
            "min_p": 0.05,
            "repetition_penalty": 1.0,
            "stop": ["STOP"],
            "max_tokens": 64,
            "seed": request.seed,
            "n": 1,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ]
    assert server.ignored == set()  # no field that vLLM would silently drop


def test_the_models_generation_config_leaves_sampling_to_the_server_and_says_so(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    backend = openai_backend(server.url, sampling, generation_config="model", stream=False)
    list(backend.generate(make_requests(1)))
    sent = server.chats[0]
    assert not {"temperature", "top_p", "top_k", "min_p", "repetition_penalty"} & set(sent)
    assert (sent["max_tokens"], sent["n"]) == (16, 1)
    info = backend.describe()
    assert info["sampling_decided_by"] == "server"
    assert "sampling decided by the served model's generation config" in info["notes"]


def test_an_unknown_generation_config_is_an_error(sampling: SamplingSettings) -> None:
    with pytest.raises(BackendUnavailableError, match="generation_config='vllm' is invalid"):
        openai_backend("http://127.0.0.1:9/v1", sampling, generation_config="vllm")


def test_a_prefix_is_continued_as_the_final_assistant_message(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.max_model_len = 200  # so that the prompt is counted by the tokenizer
    request = dataclasses.replace(make_requests(1)[0], prefix="<think>Let me see")
    (result,) = openai_backend(server.url, sampling).generate([request])
    sent = server.chats[0]
    assert sent["messages"][-1] == {"role": "assistant", "content": "<think>Let me see"}
    assert (sent["continue_final_message"], sent["add_generation_prompt"]) == (True, False)
    assert server.tokenize_calls[0]["continue_final_message"] is True
    assert result.error is None and result.text


def test_the_served_model_option_is_used_as_given(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.lora_modules = {"step-100": "/adapters/step-100"}
    list(openai_backend(server.url, sampling, served_model="step-100").generate(make_requests(1)))
    assert server.chats[0]["model"] == "step-100"


def test_several_served_models_without_the_option_is_an_error_listing_them(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.lora_modules = {"step-100": "/adapters/step-100"}
    with pytest.raises(BackendUnavailableError, match=r"serves 2 models \(stand-in/reasoner, step"):
        list(openai_backend(server.url, sampling).generate(make_requests(1)))


# --- replies -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content", "both", None])
@pytest.mark.parametrize("max_tokens", [400, 5], ids=["finished", "cut-off-while-thinking"])
def test_streamed_thinking_is_rebuilt_exactly_as_the_non_streamed_message(
    sampling: SamplingSettings, make_requests: MakeRequests, field: str | None, max_tokens: int
) -> None:
    sampling = dataclasses.replace(sampling, max_tokens=max_tokens)
    requests = make_requests(3)
    with serving(reasoning_field=field) as server:
        streamed = by_key(openai_backend(server.url, sampling).generate(requests))
        whole = by_key(openai_backend(server.url, sampling, stream=False).generate(requests))
    for request in requests:
        a, b = streamed[request.key], whole[request.key]
        assert (a.text, a.finish_reason, a.completion_tokens) == (
            b.text,
            b.finish_reason,
            b.completion_tokens,
        )
        assert a.thinking_tokens == b.thinking_tokens
    texts = [g.text for g in streamed.values()]
    if max_tokens == 5:
        assert all("</think>" not in t for t in texts)
        assert {g.finish_reason for g in streamed.values()} == {"length"}
    elif field is None:
        assert all(t.startswith("<think>") and "</think>The final answer" in t for t in texts)
    else:  # the parser took the tags out; the text is rebuilt as reasoning</think>content
        assert all(not t.startswith("<think>") and "</think>The final answer" in t for t in texts)
        assert all(g.thinking_tokens and g.thinking_tokens > 10 for g in streamed.values())


def test_results_are_yielded_as_each_request_completes(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with serving(token_seconds=0.002) as fast, serving(token_seconds=0.05) as slow:
        requests = make_requests(2)
        backend = openai_backend(f"{fast.url},{slow.url}", sampling, concurrency=2)
        order = [g.key for g in backend.generate(requests)]
        assert len(slow.chats) == 1
        assert order[-1] == next(
            r.key for r in requests if r.prompt == slow.chats[0]["messages"][0]["content"]
        )


# --- concurrency and several servers -------------------------------------------------------


def test_no_more_than_concurrency_requests_are_in_flight(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with serving(request_seconds=0.05) as server:
        results = list(
            openai_backend(server.url, sampling, concurrency=3).generate(make_requests(12))
        )
    assert len(results) == 12
    assert server.max_in_flight == 3


def test_two_servers_share_the_requests_and_a_slow_one_gets_fewer(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with serving(request_seconds=0.01) as fast, serving(request_seconds=0.2) as slow:
        backend = openai_backend(f"{fast.url},{slow.url}", sampling, concurrency=4)
        results = list(backend.generate(make_requests(40)))
    assert [r.error for r in results] == [None] * 40
    assert len(fast.chats) + len(slow.chats) == 40
    assert 1 <= len(slow.chats) < len(fast.chats)
    assert backend.describe()["requests_per_server"] == {
        fast.url: len(fast.chats),
        slow.url: len(slow.chats),
    }


def test_a_dead_server_at_start_is_skipped_and_reported(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    dead = dead_url()
    backend = openai_backend(f"{dead},{server.url}", sampling)
    results = list(backend.generate(make_requests(3)))
    assert [r.error for r in results] == [None] * 3
    info = backend.describe()
    assert info["dead_servers"][0].startswith(f"{dead}: cannot reach the server")
    assert info["notes"][0].endswith("; skipped")


def test_all_servers_down_at_start_is_unavailable_with_how_to_start_them(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    urls = f"{dead_url()},{dead_url()}"
    for options in ({}, {"served_model": "m"}):
        with pytest.raises(BackendUnavailableError) as info:
            list(openai_backend(urls, sampling, **options).generate(make_requests(1)))
        assert str(info.value).startswith("cannot reach any server (http://127.0.0.1:")
        assert "is the server running? start it with `vllm serve MODEL`" in str(info.value)


def test_replicas_serving_different_models_are_an_error(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with (
        serving() as a,
        serving(model="other") as b,
        pytest.raises(
            BackendUnavailableError, match=r"serves 'stand-in/reasoner' but .* serves other"
        ),
    ):
        list(openai_backend(f"{a.url},{b.url}", sampling).generate(make_requests(1)))


# --- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_rate_limits_server_errors_and_drops_before_any_text_are_retried(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests, stream: bool
) -> None:
    server.faults = ["500", "429", "drop"]
    (result,) = openai_backend(server.url, sampling, stream=stream).generate(make_requests(1))
    assert result.error is None and result.text
    assert len(server.chats) == 4


def test_a_stream_that_breaks_after_text_arrived_is_not_retried(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.faults = ["drop-mid"]
    (result,) = openai_backend(server.url, sampling).generate(make_requests(1))
    assert result.error is not None and "the stream ended without data: [DONE]" in result.error
    assert len(server.chats) == 1


def test_an_idle_stream_times_out_and_is_not_retried(
    server: StandIn, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    server.faults = ["stall"]
    started = time.monotonic()
    (result,) = openai_backend(server.url, sampling, idle_timeout=0.3).generate(make_requests(1))
    assert time.monotonic() - started < 5
    assert result.error is not None and "no data within the time limit" in result.error
    assert len(server.chats) == 1


@pytest.mark.parametrize(
    ("fault", "attempts"), [("500", 3), ("echo", 1)], ids=["retried-5xx", "400-not-retried"]
)
def test_a_request_that_keeps_failing_is_an_error_item(
    server: StandIn,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    fault: str,
    attempts: int,
) -> None:
    server.faults = [fault] * 3
    requests = make_requests(1)
    (result,) = openai_backend(server.url, sampling, max_retries=2).generate(requests)
    assert result.error is not None and result.text == ""
    status = "500" if fault == "500" else "400"
    assert result.error.startswith(f"{server.url}/chat/completions: HTTP {status}")
    assert len(server.chats) == attempts


# --- the context window --------------------------------------------------------------------


def test_max_tokens_is_clamped_to_the_servers_context_and_recorded(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    sampling = dataclasses.replace(sampling, max_tokens=16384)
    requests = make_requests(4)
    with serving(max_model_len=4096) as server:
        backend = openai_backend(server.url, sampling)
        results = by_key(backend.generate(requests))
    assert all(chat["max_tokens"] < 4096 for chat in server.chats)
    for result in results.values():
        clamp = result.extra["max_tokens_clamped"]
        assert (clamp["requested"], clamp["max_model_len"], clamp["counted_by"]) == (
            16384,
            4096,
            "tokenizer",
        )
        assert clamp["sent"] + clamp["prompt_tokens"] == 4096
        assert "</think>" in result.text and result.finish_reason == "stop"
    info = backend.describe()
    assert (info["max_model_len"], info["max_tokens_clamped"]) == (4096, 4)
    assert info["notes"] == [
        "max_tokens 16384 clamped to fit the served max_model_len 4096 in 4 requests "
        "(recorded per response)"
    ]


def test_a_clamped_response_that_uses_its_whole_budget_ends_with_length(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    sampling = dataclasses.replace(sampling, max_tokens=16384)
    with serving(max_model_len=16) as server:
        (result,) = openai_backend(server.url, sampling).generate(make_requests(1))
    assert result.error is None and result.finish_reason == "length"
    assert result.completion_tokens == result.extra["max_tokens_clamped"]["sent"]


def test_without_a_tokenizer_endpoint_the_prompt_is_estimated_from_above(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    sampling = dataclasses.replace(sampling, max_tokens=16384)
    with serving(max_model_len=4096, tokenizer=False) as server:
        (result,) = openai_backend(server.url, sampling).generate(make_requests(1))
    clamp = result.extra["max_tokens_clamped"]
    assert clamp["counted_by"] == "estimate"
    assert clamp["prompt_tokens"] > server.prompt_tokens(server.chats[0])
    assert result.error is None


@pytest.mark.parametrize("style", ["current", "legacy"])
def test_vllms_context_length_400_is_parsed_and_retried_once_with_less(
    sampling: SamplingSettings, make_requests: MakeRequests, style: str
) -> None:
    sampling = dataclasses.replace(sampling, max_tokens=16384)
    with serving(max_model_len=4096, report_max_model_len=False, context_errors=style) as server:
        (result,) = openai_backend(server.url, sampling).generate(make_requests(1))
    assert result.error is None
    assert len(server.chats) == 2
    assert (server.chats[0]["max_tokens"], server.chats[1]["max_tokens"] < 4096) == (16384, True)
    assert result.extra["max_tokens_clamped"]["max_model_len"] == 4096


def test_a_prompt_that_fills_the_context_is_an_error_before_sending(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with serving(max_model_len=3) as server:
        (result,) = openai_backend(server.url, sampling).generate(make_requests(1))
    assert result.error is not None and "leaves no room to generate" in result.error
    assert server.chats == []


# --- cancel and secrets --------------------------------------------------------------------


def test_close_abandons_the_streams_in_flight_at_once(
    sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with serving(token_seconds=0.5) as server:  # 16 tokens: 8 s per answer
        backend = openai_backend(server.url, sampling, concurrency=4)
        closer = threading.Timer(0.5, backend.close)
        closer.start()
        started = time.monotonic()
        results = list(backend.generate(make_requests(4)))
        elapsed = time.monotonic() - started
        noticed = time.monotonic() + 5  # the server notices a closed stream at its next write
        while server.aborted < 4 and time.monotonic() < noticed:
            time.sleep(0.05)
    assert elapsed < 3
    assert all(r.error is not None and r.error.endswith("cancelled") for r in results)
    assert server.aborted == 4 and server.answered == 0


def test_api_key_is_sent_but_never_shown(
    server: StandIn,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLUSTER_KEY", SECRET)
    server.api_key = SECRET
    server.faults = ["echo"]
    backend = openai_backend(server.url, sampling, api_key_env="CLUSTER_KEY", max_retries=0)
    (result,) = backend.generate(make_requests(1))
    assert server.headers[-1]["Authorization"] == f"Bearer {SECRET}"
    assert result.error is not None and "Authorization" in result.error
    shown = [result.error, repr(backend), repr(backend.describe()), str(backend.__dict__)]
    assert not [text for text in shown if SECRET in text]
    assert backend.describe()["api_key_set"] is True


def test_a_refused_api_key_says_which_variable_to_set(
    server: StandIn,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.api_key = SECRET
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with pytest.raises(BackendUnavailableError, match=r"HTTP 401.*set \$OPENAI_API_KEY") as info:
        list(openai_backend(server.url, sampling).generate(make_requests(1)))
    assert "sk-wrong" not in str(info.value)


def test_options_of_the_wrong_kind_are_errors(sampling: SamplingSettings) -> None:
    with pytest.raises(BackendUnavailableError, match="idle_timeout=0 is invalid"):
        openai_backend("http://127.0.0.1:9/v1", sampling, idle_timeout=0)
    with pytest.raises(BackendUnavailableError, match="ftp://x is not a server URL"):
        openai_backend("http://127.0.0.1:9/v1,ftp://x", sampling)
