"""Generate MathIF responses with Ray Data LLM (vLLM engines on a Ray cluster): batch file in, out.

Input: the requests of ``mathif export-requests`` (OpenAI batch format). Output: one line per
request in ``vllm run-batch``'s output format, for ``mathif import-responses``. Every request's
sampling (temperature, top-p, top-k, min-p, repetition penalty, seed, stop, max_tokens) is given to
vLLM's ``SamplingParams`` as exported, so the checkpoint's generation config does not change it.

On a Ray cluster (KubeRay, SkyPilot, or ``ray start --head`` on one GPU machine), with
``pip install "ray[data,llm]" vllm``::

    ray job submit --working-dir . -- python examples/ray_data_llm.py
        --requests requests.jsonl --out results.jsonl --model /ckpts/step-1000
        --replicas 8 --tensor-parallel-size 1 --max-model-len 32768

(one command line).

The output holds the raw text (the thinking included, as MathIF scores it). Ray's engine stage
reports no finish reason: a response that used its whole ``max_tokens`` is marked ``length``,
any other ``stop``. Continued assistant turns (``continue_final_message``) are not supported here
(Ray renders the chat template itself): use ``vllm run-batch`` for those.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

#: request body fields that are vLLM ``SamplingParams`` of the same name
SAMPLING_FIELDS = (
    "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "max_tokens", "seed", "stop",
)  # fmt: skip


def to_row(row: dict[str, Any]) -> dict[str, Any]:
    """A request line (its JSON text in ``request``) as a Ray Data LLM row.

    The row has the chat messages and vLLM sampling parameters; the served name is kept as
    ``served_model`` (a ``model`` column would make Ray load a LoRA adapter of that name).
    """
    line = json.loads(row["request"])
    body = line["body"]
    if body.get("continue_final_message"):
        raise ValueError(f"{line['custom_id']}: continued turns need vllm run-batch")
    sampling = {name: body[name] for name in SAMPLING_FIELDS if name in body}
    return {
        "custom_id": line["custom_id"],
        "served_model": body["model"],
        "messages": body["messages"],
        "max_tokens": body["max_tokens"],
        "sampling_params": sampling,
    }


def to_output(row: dict[str, Any]) -> dict[str, Any]:
    """An engine result row as a ``vllm run-batch`` output line (a JSON string in ``line``)."""
    generated, prompt = int(row["num_generated_tokens"]), int(row["num_input_tokens"])
    finish = "length" if generated >= int(row["max_tokens"]) else "stop"
    message = {"role": "assistant", "content": row["generated_text"]}
    body = {
        "object": "chat.completion",
        "model": row["served_model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": generated,
            "total_tokens": prompt + generated,
        },
    }
    output = {
        "custom_id": row["custom_id"],
        "response": {"status_code": 200, "body": body},
        "error": None,
    }
    return {"line": json.dumps(output, ensure_ascii=False)}


def main() -> None:
    """Read the requests, run them through vLLM engines on the Ray cluster, write the outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", required=True, help="checkpoint directory or hub id")
    parser.add_argument("--replicas", type=int, default=1, help="vLLM engines (one per GPU group)")
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--max-model-len", type=int, default=32768)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import ray
    from ray.data import llm

    build = getattr(llm, "build_processor", None) or llm.build_llm_processor  # newer Ray names it
    config = llm.vLLMEngineProcessorConfig(
        model_source=args.model,
        engine_kwargs={
            "tensor_parallel_size": args.tensor_parallel_size,
            "max_model_len": args.max_model_len,
            "enable_prefix_caching": True,
        },
        concurrency=args.replicas,
        batch_size=args.batch_size,
    )
    processor = build(config, preprocess=to_row, postprocess=to_output)
    requests = args.requests.read_text(encoding="utf-8").splitlines()
    results = processor(ray.data.from_items([{"request": text} for text in requests if text]))
    with args.out.open("w", encoding="utf-8") as handle:
        for row in results.iter_rows():
            handle.write(row["line"] + "\n")
    print(f"wrote {args.out}; next: mathif import-responses {args.out}")


if __name__ == "__main__":
    main()
