"""examples/ray_data_llm.py: its rows give vLLM the exported sampling, its output imports."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from _vllm_stand_in import answer_tokens

from mathif_pytest.backends import GenerationRequest, SamplingSettings
from mathif_pytest.batch.export import ExportTarget, export_missing
from mathif_pytest.batch.requests_file import import_responses
from mathif_pytest.store import ResponseStore, StoreMeta

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ray_data_llm.py"
SAMPLING = SamplingSettings(temperature=0.6, top_p=0.95, max_tokens=40, seed=5, stop=("<|end|>",))
META = StoreMeta(backend="vllm", model="ckpts/step-7", fingerprint="feedbeef", sampling=SAMPLING)


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ray_data_llm", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def engine(row: dict[str, object]) -> dict[str, object]:
    """What Ray's vLLM stage adds to a row: the stand-in model's raw text, within max_tokens."""
    messages = row["messages"]
    assert isinstance(messages, list)
    sampling = row["sampling_params"]
    assert isinstance(sampling, dict)
    out = answer_tokens(messages[0]["content"], sampling["seed"])[: sampling["max_tokens"]]
    return {
        **row,
        "generated_text": "".join(out),
        "num_generated_tokens": len(out),
        "num_input_tokens": 9,
    }


def test_ray_rows_carry_the_exported_sampling_and_their_output_imports(tmp_path: Path) -> None:
    ray = example()
    requests = [
        GenerationRequest(
            key=f"key-{i}", uid=f"aime_single-{i}", sample=0, prompt="Q" * (i + 1), seed=11 + i
        )
        for i in range(6)
    ]
    store = tmp_path / "store.sqlite"
    out = tmp_path / "requests.jsonl"
    export_missing(requests, META, store, ExportTarget(out=out, served_model="ckpts/step-7"))
    rows = [ray.to_row({"request": text}) for text in out.read_text().splitlines()]
    assert rows[0]["sampling_params"] == {
        "temperature": 0.6, "top_p": 0.95, "top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0,
        "max_tokens": 40, "seed": 11, "stop": ["<|end|>"],
    }  # fmt: skip
    assert "model" not in rows[0] and rows[0]["served_model"] == "ckpts/step-7"
    results = tmp_path / "results.jsonl"
    results.write_text("".join(ray.to_output(engine(row))["line"] + "\n" for row in rows))
    with ResponseStore(store) as opened:
        assert import_responses(results, opened).imported == 6
        stored = opened.get_many(r.key for r in requests)
    for row, line in zip(rows, results.read_text().splitlines(), strict=True):
        generation = stored[row["custom_id"]]
        body = json.loads(line)["response"]["body"]
        assert generation.text == body["choices"][0]["message"]["content"]
        expected = "length" if generation.completion_tokens == 40 else "stop"
        assert generation.finish_reason == expected
    assert {g.finish_reason for g in stored.values()} == {"stop", "length"}
    assert all(g.text.startswith("<think>") for g in stored.values())  # raw text, no parser
