"""OpenAI batch files: request lines as the server would get them, imports all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _vllm_stand_in import StandIn, run_batch, serving

from mathif_pytest.backends import BackendConfig, GenerationRequest, SamplingSettings
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.batch.export import ExportTarget, export_missing
from mathif_pytest.batch.requests_file import BatchFileError, import_responses
from mathif_pytest.cli import main
from mathif_pytest.store import ResponseStore, StoreMeta

SAMPLING = SamplingSettings(temperature=0.7, top_p=0.9, max_tokens=300, seed=3, top_k=20)
META = StoreMeta(backend="vllm", model="ckpts/step-100", fingerprint="0123abcd", sampling=SAMPLING)


def requests(n: int = 4) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            key=f"key-{i}", uid=f"gsm8k_single-{i}", sample=0, prompt=f"What is {i}+{i}?", seed=i
        )
        for i in range(n)
    ]


def export(tmp_path: Path, items: list[GenerationRequest], **target: Any) -> Path:
    out = tmp_path / "requests.jsonl"
    target.setdefault("served_model", "ckpts/step-100")
    export_missing(items, META, tmp_path / "store.sqlite", ExportTarget(out=out, **target))
    return out


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_request_line_carries_the_body_the_openai_backend_sends(tmp_path: Path) -> None:
    items = requests(2)
    written = lines(export(tmp_path, items))
    with serving(model="ckpts/step-100") as server:
        config = BackendConfig(
            name="openai", model=server.url, sampling=SAMPLING, options={"stream": False}
        )
        list(make_backend(config).generate(items))
    assert [line["custom_id"] for line in written] == ["key-0", "key-1"]
    assert {(line["method"], line["url"]) for line in written} == {("POST", "/v1/chat/completions")}
    sent = sorted(server.chats, key=lambda body: body["seed"])
    assert [line["body"] for line in written] == sent
    assert written[0]["body"]["top_k"] == 20 and "stream" not in written[0]["body"]


def test_requests_already_stored_are_not_exported_again(tmp_path: Path) -> None:
    items = requests(3)
    out = export(tmp_path, items)
    run_batch(StandIn(model="ckpts/step-100"), out, tmp_path / "results.jsonl")
    with ResponseStore(tmp_path / "store.sqlite") as store:
        import_responses(tmp_path / "results.jsonl", store)
    assert lines(export(tmp_path, [*items, *requests(5)[3:]])) == lines(
        export(tmp_path, requests(5)[3:])
    )


def test_max_tokens_is_clamped_to_the_engines_context_and_remembered(tmp_path: Path) -> None:
    out = export(tmp_path, requests(1), max_model_len=280)
    (line,) = lines(out)
    assert line["body"]["max_tokens"] < 280 - len("What is 0+0?")
    run_batch(StandIn(model="ckpts/step-100", max_model_len=280), out, tmp_path / "results.jsonl")
    with ResponseStore(tmp_path / "store.sqlite") as store:
        import_responses(tmp_path / "results.jsonl", store)
        (stored,) = store.get_many(["key-0"]).values()
    clamp = stored.extra["max_tokens_clamped"]
    assert (clamp["requested"], clamp["sent"], clamp["counted_by"]) == (
        300,
        line["body"]["max_tokens"],
        "estimate",
    )


def test_imported_responses_put_the_thinking_back_as_a_served_run_does(tmp_path: Path) -> None:
    items = requests(3)
    out = export(tmp_path, items)
    run_batch(StandIn(model="ckpts/step-100"), out, tmp_path / "results.jsonl")
    with ResponseStore(tmp_path / "store.sqlite") as store:
        report = import_responses(tmp_path / "results.jsonl", store)
        imported = store.get_many(r.key for r in items)
    with serving(model="ckpts/step-100") as server:
        config = BackendConfig(name="openai", model=server.url, sampling=SAMPLING)
        served = {g.key: g for g in make_backend(config).generate(items)}
    assert (report.imported, report.already, report.failed) == (3, 0, ())
    for key, generation in imported.items():
        assert (generation.text, generation.finish_reason) == (
            served[key].text,
            served[key].finish_reason,
        )
        assert "</think>The final answer" in generation.text


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("{not json", r"results.jsonl:2: not valid JSON"),
        ('{"response": {}}', r"results.jsonl:2: not a batch output line \(no custom_id\)"),
        (
            '{"custom_id": "key-7", "response": {"status_code": 200, "body": {}}}',
            r"results.jsonl:2: unknown custom_id 'key-7'",
        ),
        ("DUPLICATE", r"results.jsonl:2: custom_id 'key-0' repeats line 1"),
        (
            '{"custom_id": "key-1", "response": {"status_code": 200, "body": {"choices": []}}}',
            r"results.jsonl:2: custom_id 'key-1': no choices\[0\].message",
        ),
    ],
    ids=["not-json", "no-custom-id", "unknown-id", "repeated-id", "no-message"],
)
def test_a_bad_line_is_an_error_naming_file_and_line_and_nothing_is_imported(
    tmp_path: Path, broken: str, message: str
) -> None:
    out = export(tmp_path, requests(3))
    results = tmp_path / "results.jsonl"
    run_batch(StandIn(model="ckpts/step-100"), out, results)
    good = results.read_text().splitlines()
    bad = good[0] if broken == "DUPLICATE" else broken
    results.write_text("\n".join([good[0], bad, *good[2:]]) + "\n")  # line 2 replaced
    with ResponseStore(tmp_path / "store.sqlite") as store:
        with pytest.raises(BatchFileError, match=message):
            import_responses(results, store)
        assert store.count() == 0


def test_requests_the_engine_failed_are_listed_and_left_out(tmp_path: Path) -> None:
    out = export(tmp_path, requests(3))
    rows = lines(out)
    rows[1]["body"]["temperature"] = 5.0  # the engine rejects it: a 400 in the output file
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_batch(StandIn(model="ckpts/step-100"), out, tmp_path / "results.jsonl")
    with ResponseStore(tmp_path / "store.sqlite") as store:
        report = import_responses(tmp_path / "results.jsonl", store)
        assert store.count() == 2
    assert report.imported == 2
    (failure,) = report.failed
    assert failure.startswith(
        f"{tmp_path / 'results.jsonl'}:2: key-1: status 400: temperature must be in [0, 2]"
    )


def test_a_different_response_already_stored_under_the_key_is_an_error(tmp_path: Path) -> None:
    out = export(tmp_path, requests(2))
    results = tmp_path / "results.jsonl"
    run_batch(StandIn(model="ckpts/step-100"), out, results)
    with ResponseStore(tmp_path / "store.sqlite") as store:
        import_responses(results, store)
        rows = lines(results)
        rows[1]["response"]["body"]["choices"][0]["message"]["content"] = "something else"
        results.write_text("".join(json.dumps(r) + "\n" for r in rows))
        with pytest.raises(
            BatchFileError,
            match=r"results.jsonl:2: custom_id 'key-1' .* already stored with a different",
        ):
            import_responses(results, store)


def test_the_import_command_exits_2_with_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export(tmp_path, requests(1))
    results = tmp_path / "results.jsonl"
    results.write_text('{"custom_id": "nope", "response": {"status_code": 200, "body": {}}}\n')
    status = main(["import-responses", str(results), "--store", str(tmp_path / "store.sqlite")])
    assert status == 2
    assert (
        f"mathif import-responses: error: {results}:1: unknown custom_id 'nope'"
        in capsys.readouterr().err
    )
