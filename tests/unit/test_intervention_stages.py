"""Interventions stage by stage, on a scripted backend that closes its thinking on cue.

The scripted backend answers each stage from a script keyed by how many stages the response has
had (the number of requests seen for its uid), honours the stop strings it is sent and says which
one ended a reply, as vLLM does; every request it gets is kept, so the tests can read the prefix
and budget each stage was asked with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.backends import Generation, GenerationRequest, SamplingSettings
from mathif_pytest.errors import MathIFError
from mathif_pytest.interventions import (
    CLOSE_INSERT,
    WAIT,
    Intervention,
    parse_intervention,
    reminder_text,
)
from mathif_pytest.interventions.runner import StagedJob, StageRunner
from mathif_pytest.store import ResponseStore, StoreMeta

SAMPLING = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=100, seed=0)
CONSTRAINTS = "Answer with at least 40 words. Do not include keywords \"['x']\" in the response."


class Scripted:
    """Stage ``i`` of a response says ``script[i]``: (text, tokens, ends with ``</think>``)."""

    name = "scripted"

    def __init__(self, script: Sequence[tuple[str, int, bool]]) -> None:
        self.script = list(script)
        self.requests: list[GenerationRequest] = []
        self.calls = 0

    def describe(self) -> Mapping[str, Any]:
        return {"backend": self.name}

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        self.calls += 1
        for request in requests:
            stage = sum(r.uid == request.uid for r in self.requests)
            self.requests.append(request)
            yield self._answer(request, *self.script[stage])

    def _answer(
        self, request: GenerationRequest, text: str, tokens: int, closes: bool
    ) -> Generation:
        budget = request.budget(SAMPLING)
        stops = request.stop_strings(SAMPLING)
        if tokens > budget:
            return Generation(
                key=request.key,
                text=text[:budget],
                finish_reason="length",
                completion_tokens=budget,
                thinking_tokens=budget,
            )
        ended = "</think>" if closes and "</think>" in stops else None
        text = text if ended or not closes else text + "</think>The answer is 7."
        return Generation(
            key=request.key,
            text=text,
            finish_reason="stop",
            completion_tokens=tokens,
            thinking_tokens=tokens,
            stopped_at=ended,
        )

    def close(self) -> None:
        pass


def _run(
    intervention: Intervention, backend: Scripted, store: ResponseStore, uid: str = "u-0"
) -> Generation:
    runner = StageRunner(
        intervention=intervention,
        sampling=SAMPLING,
        stage_key=lambda request, ask: f"{request.key}|{ask.index}|{len(ask.prefix)}",
        store=store,
        meta=StoreMeta(backend="scripted", model="m", fingerprint="f", sampling=SAMPLING),
    )
    request = GenerationRequest(key=f"final-{uid}", uid=uid, sample=0, prompt="Q?", seed=1)
    (final,) = runner.run([StagedJob(request=request, constraints=CONSTRAINTS)], backend)
    return final


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResponseStore]:
    with ResponseStore(tmp_path / "s.sqlite") as opened:
        yield opened


def test_repeat_constraints_puts_the_reminder_where_the_model_closed_its_thinking(
    store: ResponseStore,
) -> None:
    backend = Scripted([("First I add. ", 5, True), ("More thought.", 4, True)])
    final = _run(Intervention(kind="repeat_constraints"), backend, store)
    reminder = "\nWait, " + CONSTRAINTS + "\n"
    assert reminder_text(CONSTRAINTS) == reminder
    assert final.text == "First I add. " + reminder + "More thought.</think>The answer is 7."
    record = final.extra["intervention"]
    assert record["inserted"] == [{"at": len("First I add. "), "text": reminder}]
    first, second = backend.requests
    assert (first.prefix, first.stop, first.max_tokens) == ("", ("</think>",), 100)
    assert (second.prefix, second.stop, second.max_tokens) == ("First I add. " + reminder, None, 95)
    assert [s["stopped_at"] for s in record["stages"]] == ["</think>", None]
    assert (final.completion_tokens, final.thinking_tokens) == (9, 9)


def test_repeat_constraints_inserts_nothing_when_the_thinking_never_closes(
    store: ResponseStore,
) -> None:
    backend = Scripted([("x" * 200, 200, False)])
    final = _run(Intervention(kind="repeat_constraints"), backend, store)
    assert final.text == "x" * 100 and final.finish_reason == "length"
    assert final.extra["intervention"]["inserted"] == []
    assert len(backend.requests) == 1


def test_budget_forcing_replaces_the_close_with_wait_n_times_then_lets_it_answer(
    store: ResponseStore,
) -> None:
    backend = Scripted([("A.", 2, True), ("B.", 2, True), ("C.", 2, True), ("D.", 2, True)])
    final = _run(Intervention(kind="budget_forcing", value=2), backend, store)
    assert final.text == "A.WaitB.WaitC.</think>D.</think>The answer is 7."
    record = final.extra["intervention"]
    assert [i["text"] for i in record["inserted"]] == [WAIT, WAIT, "</think>"]
    assert [i["at"] for i in record["inserted"]] == [2, 8, 14]
    assert record["waits"] == 2
    assert [r.stop for r in backend.requests] == [("</think>",)] * 3 + [None]
    assert [r.max_tokens for r in backend.requests] == [100, 98, 96, 94]


def test_a_thinking_budget_closes_the_thinking_at_its_budget(store: ResponseStore) -> None:
    backend = Scripted([("<think>" + "t" * 43, 50, True), ("Answer 7.", 3, False)])
    final = _run(Intervention(kind="thinking_budget", value=10), backend, store)
    assert backend.requests[0].max_tokens == 10
    assert final.text == "<think>ttt" + CLOSE_INSERT + "Answer 7."
    assert backend.requests[1].max_tokens == 90
    assert final.extra["intervention"]["stages"][0]["then"] == "thinking cut at the budget"


def test_a_thinking_budget_leaves_a_response_without_open_thinking_alone(
    store: ResponseStore,
) -> None:
    backend = Scripted([("t" * 50, 50, True), ("Answer 7.", 3, False)])
    final = _run(Intervention(kind="thinking_budget", value=10), backend, store)
    assert final.text == "t" * 10 + "Answer 7."
    assert final.extra["intervention"]["inserted"] == []


def test_a_thinking_that_ends_within_its_budget_is_closed_as_the_model_did(
    store: ResponseStore,
) -> None:
    backend = Scripted([("short.", 4, True), ("Answer 7.", 3, False)])
    final = _run(Intervention(kind="thinking_budget", value=10), backend, store)
    assert final.text == "short.</think>Answer 7."


def test_no_stage_runs_past_the_runs_budget(store: ResponseStore) -> None:
    backend = Scripted([("x" * 100, 100, True)])
    final = _run(Intervention(kind="budget_forcing", value=3), backend, store)
    assert len(backend.requests) == 1
    assert final.extra["intervention"]["stages"][0]["then"] == "no budget left"


def test_each_stage_is_stored_and_a_rerun_reuses_the_stages_it_reached(
    store: ResponseStore,
) -> None:
    script = [("A.", 2, True), ("B.", 2, True), ("C.", 2, True)]

    class FailsLate(Scripted):
        def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
            if self.calls == 2:
                raise RuntimeError("the engine died")
            yield from super().generate(requests)

    with pytest.raises(RuntimeError):
        _run(Intervention(kind="budget_forcing", value=1), FailsLate(script), store)
    assert store.count() == 2  # stages 1 and 2 were stored as they arrived
    again = Scripted(script[2:])
    final = _run(Intervention(kind="budget_forcing", value=1), again, store)
    assert final.text == "A.WaitB.</think>C.</think>The answer is 7."
    assert [r.prefix for r in again.requests] == ["A.WaitB.</think>"]


def test_a_failed_stage_is_an_error_of_that_response(store: ResponseStore) -> None:
    class Failing(Scripted):
        def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
            for request in requests:
                yield Generation(key=request.key, text="", error="out of memory")

    final = _run(Intervention(kind="repeat_constraints"), Failing([]), store)
    assert final.error == "u-0: the first stage of the intervention failed: out of memory"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("repeat_constraints", Intervention(kind="repeat_constraints")),
        ({"repeat_constraints": True}, Intervention(kind="repeat_constraints")),
        ("thinking_budget=512", Intervention(kind="thinking_budget", value=512)),
        ({"budget_forcing": 4}, Intervention(kind="budget_forcing", value=4)),
    ],
)
def test_interventions_are_written_as_text_or_a_one_key_mapping(
    value: object, expected: Intervention
) -> None:
    assert parse_intervention(value, "here") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("budget_forcng=2", "unknown intervention 'budget_forcng'; did you mean 'budget_forcing'?"),
        ("thinking_budget", "thinking_budget needs a positive whole number (got None)"),
        ({"budget_forcing": 0}, "budget_forcing needs a positive whole number (got 0)"),
        ("repeat_constraints=3", "repeat_constraints takes no number (got '3')"),
        ({"a": 1, "b": 2}, "expected one intervention"),
    ],
)
def test_a_bad_intervention_says_what_is_wrong_and_how_to_write_it(
    value: object, message: str
) -> None:
    with pytest.raises(MathIFError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_intervention(value, "here")
