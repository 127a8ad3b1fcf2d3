"""Interventions through real backends: the tiny model on transformers, and the vLLM double.

The random tiny model almost never writes ``</think>`` (it is several byte-level tokens), so the
transformers tests use what it does deterministically: a thinking budget always cuts a response
that is still running (stage boundaries asserted from the stored stages, whatever the words), and
a response that never closes its thinking gets nothing inserted. The vLLM double's scripted
responder closes its thinking on cue, which is how the reminder's text and place are checked.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import fake_vllm
import pytest
from _vllm_stand_in import serving
from fake_vllm import FakeVLLM

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.backends._openai_chat import chat_body, reply_from_completion
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.dataset import Sample, load_dataset
from mathif_pytest.interventions import CLOSE_INSERT, Intervention, reminder_text
from mathif_pytest.pytest_plugin.generation import (
    GenerationPlan,
    GenerationReport,
    generate_missing,
    plan_requests,
)
from mathif_pytest.store import ResponseStore

pytest.importorskip("transformers")

SAMPLING = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=12, seed=7)


@pytest.fixture(scope="module")
def samples(data_dir: Path) -> list[Sample]:
    chosen = [s for s in load_dataset(data_dir).samples if s.level == "double"]
    return chosen[:4]


def _generate(
    model: Path, backend: str, intervention: Intervention, samples: list[Sample], store: Path
) -> tuple[GenerationPlan, GenerationReport]:
    plan = GenerationPlan(
        backend=backend,
        model=str(model),
        fingerprint="tiny",
        sampling=SAMPLING,
        requests=(),
        intervention=intervention,
    )
    plan = plan_requests([(s, True) for s in samples], samples=1, plan=plan)
    options = {"device": "cpu", "threads": 1} if backend == "transformers" else {}
    config = BackendConfig(name=backend, model=str(model), sampling=SAMPLING, options=options)
    return plan, generate_missing(plan, store, lambda: make_backend(config))


def _stage_rows(store: Path) -> list[dict[str, Any]]:
    with ResponseStore(store) as opened:
        rows = list(opened.rows())
    return [r for r in rows if "stage" in json.loads(r["details"] or "{}").get("extra", {})]


def test_a_thinking_budget_cuts_the_tiny_models_thinking_and_stores_each_stage(
    tiny_thinking_model_dir: Path, samples: list[Sample], tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    budget = Intervention(kind="thinking_budget", value=3)
    plan, report = _generate(tiny_thinking_model_dir, "transformers", budget, samples, store)
    assert report.generated == 4 and not report.errors
    stages = {(r["uid"], r["text"]) for r in _stage_rows(store)}
    for request in plan.requests:
        final = report.generations[request.key]
        record = final.extra["intervention"]
        first = record["stages"][0]
        assert first["max_tokens"] == 3 and first["stopped_at"] is None
        head = final.text[: first["end"]]
        assert (request.uid, head) in stages  # the first stage's own stored row
        if first["finish_reason"] == "length":  # still thinking at 3 tokens: cut and closed
            assert record["inserted"] == [{"at": first["end"], "text": CLOSE_INSERT}]
            assert final.text[first["end"] :].startswith(CLOSE_INSERT)
            assert record["stages"][1]["max_tokens"] == 12 - first["tokens"]
            assert final.thinking_tokens == first["tokens"]
        else:  # ended by the model within 3 tokens: nothing to close
            assert record["inserted"] == [] and len(record["stages"]) == 1
    again = _generate(tiny_thinking_model_dir, "transformers", budget, samples, store)[1]
    assert (again.generated, again.reused) == (0, 4)


def test_a_reminder_is_inserted_only_where_the_tiny_model_closed_its_thinking(
    tiny_thinking_model_dir: Path, samples: list[Sample], tmp_path: Path
) -> None:
    repeat = Intervention(kind="repeat_constraints")
    plan, report = _generate(
        tiny_thinking_model_dir, "transformers", repeat, samples, tmp_path / "s.sqlite"
    )
    for request in plan.requests:
        record = report.generations[request.key].extra["intervention"]
        closed = record["stages"][0]["stopped_at"] == "</think>"
        expected = [reminder_text(plan.constraints[request.key])] if closed else []
        assert [i["text"] for i in record["inserted"]] == expected


def test_a_requests_own_stop_strings_and_budget_replace_the_runs_on_transformers(
    tiny_model_dir: Path,
) -> None:
    plain = [
        GenerationRequest(key=f"k{i}", uid=f"u{i}", sample=0, prompt=f"What is {i}?", seed=i)
        for i in range(4)
    ]
    config = BackendConfig(name="transformers", model=str(tiny_model_dir), sampling=SAMPLING)
    backend = make_backend(config)
    try:
        first = {g.key: g for g in backend.generate(plain)}
        pieces = tuple(g.text[2:4] for g in first.values() if len(g.text) >= 5)
        assert pieces
        # the same batch (same requests, seeds and shared stop strings) samples the same rows
        stopped = {g.key: g for g in backend.generate([_with(r, stop=pieces) for r in plain])}
        short = {g.key: g for g in backend.generate([_with(r, max_tokens=2) for r in plain])}
    finally:
        backend.close()
    for key, before in first.items():
        cuts = sorted((before.text.find(p), p) for p in pieces if p in before.text)
        if cuts:
            assert stopped[key].text == before.text[: cuts[0][0]]
            assert (stopped[key].stopped_at, stopped[key].finish_reason) == (cuts[0][1], "stop")
        assert short[key].completion_tokens == min(2, before.completion_tokens or 0)


def _with(request: GenerationRequest, **changes: Any) -> GenerationRequest:
    return dataclasses.replace(request, **changes)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeVLLM]:
    return fake_vllm.install(monkeypatch)


def test_the_vllm_backend_runs_repeat_constraints_and_the_reminder_lands_before_the_close(
    fake: type[FakeVLLM], tiny_model_dir: Path, samples: list[Sample], tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompts: list[tuple[str, dict[str, Any]]] = []

    def responder(ids: list[int], params: Any) -> tuple[Any, ...]:
        prompts.append((tokenizer.decode(ids), params.kwargs))
        if "</think>" in params.kwargs["stop"]:  # the model tries to close its thinking
            return "I add 3 and 4. ", [7] * 5, "stop", "</think>"
        return "Yes, 7.</think>The answer is \\boxed{7}.", [7] * 9, "stop"

    fake.responder = staticmethod(responder)
    repeat = Intervention(kind="repeat_constraints")
    plan, report = _generate(tiny_model_dir, "vllm", repeat, samples[:1], tmp_path / "s.sqlite")
    (request,) = plan.requests
    final = report.generations[request.key]
    reminder = "\nWait, " + " ".join(c.description for c in samples[0].constraints) + "\n"
    assert reminder_text(plan.constraints[request.key]) == reminder
    assert final.text == "I add 3 and 4. " + reminder + "Yes, 7.</think>The answer is \\boxed{7}."
    (first, first_params), (second, second_params) = prompts
    assert first.endswith("<|assistant|>")
    assert second.endswith("<|assistant|>I add 3 and 4. " + reminder)  # continued after it
    assert (first_params["stop"], first_params["max_tokens"]) == (["</think>"], 12)
    assert (second_params["stop"], second_params["max_tokens"]) == ([], 7)
    assert first_params["seed"] == request.seed != second_params["seed"]
    assert final.extra["intervention"]["inserted"] == [{"at": 15, "text": reminder}]
    assert [s["then"] for s in final.extra["intervention"]["stages"]] == [
        "the reminder replaced </think>; the model continues",
        "the answer stage ended",
    ]


def test_budget_forcing_on_the_vllm_backend_sends_wait_n_times(
    fake: type[FakeVLLM], tiny_thinking_model_dir: Path, samples: list[Sample], tmp_path: Path
) -> None:
    def responder(ids: list[int], params: Any) -> tuple[Any, ...]:
        if "</think>" in params.kwargs["stop"]:
            return "Hmm. ", [7] * 2, "stop", "</think>"
        return "The answer is \\boxed{7}.", [7] * 6, "stop"

    fake.responder = staticmethod(responder)
    forcing = Intervention(kind="budget_forcing", value=2)
    plan, report = _generate(
        tiny_thinking_model_dir, "vllm", forcing, samples[:2], tmp_path / "s.sqlite"
    )
    assert not report.errors, report.errors
    for request in plan.requests:
        final = report.generations[request.key]
        assert final.text == "Hmm. WaitHmm. WaitHmm. </think>The answer is \\boxed{7}."
        # the template opens the thinking: the three thinking stages count, the answer does not
        assert (final.completion_tokens, final.thinking_tokens) == (12, 6)
    assert len(fake.called("add_request")) == 8  # 4 stages x 2 responses


def test_the_openai_body_carries_a_stages_own_stop_strings_and_reads_the_stop_reason() -> None:
    request = GenerationRequest(
        key="k", uid="u", sample=0, prompt="Q", seed=1, prefix="Think", stop=("</think>",)
    )
    body = chat_body(request, "m", {"temperature": 1.0, "stop": ["STOP"]}, 9)
    assert body["stop"] == ["</think>"] and body["max_tokens"] == 9
    assert body["messages"][-1] == {"role": "assistant", "content": "Think"}
    answer = dataclasses.replace(request, stop=())
    assert "stop" not in chat_body(answer, "m", {"stop": ["STOP"]}, 9)
    reply = reply_from_completion(
        {
            "choices": [
                {
                    "message": {"content": "abc"},
                    "finish_reason": "stop",
                    "stop_reason": "</think>",
                }
            ]
        }
    )
    assert reply.generation("k").stopped_at == "</think>"


def test_a_generation_without_a_stop_string_reports_none() -> None:
    assert Generation(key="k", text="").stopped_at is None


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_served_model_runs_budget_forcing_through_continued_assistant_turns(
    samples: list[Sample], tmp_path: Path, stream: bool
) -> None:
    # The stand-in thinks "<think> words </think>", honours stop strings and reports stop_reason.
    forcing = Intervention(kind="budget_forcing", value=1)
    sampling = dataclasses.replace(SAMPLING, max_tokens=400)
    with serving() as server:
        plan = GenerationPlan(
            backend="openai",
            model=server.url,
            fingerprint="stand-in",
            sampling=sampling,
            requests=(),
            intervention=forcing,
        )
        plan = plan_requests([(s, True) for s in samples[:2]], samples=1, plan=plan)
        options = {"stream": stream}
        config = BackendConfig(name="openai", model=server.url, sampling=sampling, options=options)
        report = generate_missing(plan, tmp_path / "s.sqlite", lambda: make_backend(config))
    assert not report.errors
    for request in plan.requests:
        final = report.generations[request.key]
        record = final.extra["intervention"]
        assert [s["stopped_at"] for s in record["stages"]] == ["</think>", "</think>", None]
        assert [i["text"] for i in record["inserted"]] == ["Wait", "</think>"]
        first, second, _ = record["stages"]
        assert final.text[first["end"] : second["start"]] == "Wait"
        assert final.text.endswith("}.") and "\\boxed{" in final.text
        assert record["stages"][1]["max_tokens"] == 400 - first["tokens"]
