"""GPU check: the smoke suite through each backend vs a raw ``generate`` loop, and GPU memory.

For the day a GPU machine is lent (CUDA torch and transformers installed; vLLM optional). Needs
nothing beyond this repository: it builds the tiny test model (and its LoRA adapter) itself, and
writes a synthetic MathIF-format data set when ``--data`` is not given and ``../shared/mathif``
is absent. For each model (the tiny one, its adapter, each ``--checkpoint``) it runs
``pytest --mathif-suite smoke`` with the transformers backend (and vLLM when importable), and a raw
``model.generate`` loop on the same prompts with the same sampling, and prints responses/s and
tokens/s of both; then GPU memory before and after each backend's ``close()``. It stops starting
new steps once ``--budget`` seconds are spent (default 420: under 8 minutes in all).

Run: python benchmarks/gpu_check.py [--checkpoint DIR]... [--max-tokens 512] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: Synthetic samples per data file when the MathIF data is not at hand (3 per cell, as smoke).
_PER_FILE = 3
_SOURCES = ("aime", "gsm8k", "math500", "minerva", "olympiad")
_CONSTRAINTS = [
    ("change_case:english_lowercase", None, "Your entire response should be in lowercase."),
    ("punctuation:no_comma", None, "Do not use any commas in your response."),
    (
        "keywords:existence",
        {"keywords": ["sum", "check"]},
        "Include keywords \"['sum', 'check']\" in the response.",
    ),
]


def synthetic_data(directory: Path) -> Path:
    """A MathIF-format data directory: 15 files (5 sources x 3 levels), simple sums."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in _SOURCES:
        for level, name in enumerate(("single", "double", "triple"), start=1):
            lines = []
            for i in range(_PER_FILE):
                a, b = 10 * level + i, 7 * i + 3
                chosen = _CONSTRAINTS[:level]
                lines.append(
                    {
                        "source": source,
                        "id": f"{source}-{name}-{i}",
                        "question": f"What is {a} plus {b}? Put the final answer in \\boxed{{}}.",
                        "answer": str(a + b),
                        "constraint_desc": [c[2] for c in chosen],
                        "constraint_name": [c[0] for c in chosen],
                        "constraint_args": [c[1] for c in chosen],
                    }
                )
            path = directory / f"{source}_{name}.jsonl"
            path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return directory


def environment() -> dict[str, Any]:
    import torch
    import transformers

    info: dict[str, Any] = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }
    try:
        import vllm

        info["vllm"] = vllm.__version__
    except ImportError:
        info["vllm"] = None
    return info


def store_tokens(store: Path) -> tuple[int, int]:
    """(responses, completion tokens) in a response store."""
    with sqlite3.connect(store) as db:
        count, tokens = db.execute(
            "SELECT COUNT(*), SUM(completion_tokens) FROM responses"
        ).fetchone()
    return int(count or 0), int(tokens or 0)


def run_suite(model: str, backend: str, work: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """``pytest --mathif-suite smoke`` through one backend; rates from the store it filled."""
    store = work / f"{backend}-{Path(model).name}.sqlite"
    results = store.with_suffix(".json")
    command = [
        sys.executable, "-m", "pytest", "--mathif-suite=smoke", "-q", "-p", "no:cacheprovider",
        f"--model={model}", "--mathif-backend", backend, f"--mathif-data={settings['data']}",
        f"--mathif-store={store}", f"--mathif-results={results}",
        f"--mathif-max-tokens={settings['max_tokens']}", "--mathif-gate", "hard_accuracy>=0",
        *settings["engine_args"].get(backend, []),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, check=False, timeout=settings["left"]()
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {_first_error(done.stdout + done.stderr)}"}
    meta = json.loads(results.read_text())["meta"]["generation"]
    count, tokens = store_tokens(store)
    seconds = float(meta["seconds"]) or 1e-9
    return {
        "wall_s": round(wall, 1),
        "generate_s": round(seconds, 2),
        "responses_per_s": round(count / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "uids": [c["uid"] for c in json.loads(results.read_text())["cases"]],
    }


def _first_error(output: str) -> str:
    """The message of the first failed set-up (the generation error), else the output's tail."""
    lines = output.splitlines()
    at = next((i for i, line in enumerate(lines) if "ERROR at setup of" in line), None)
    return lines[at + 1][:1500] if at is not None and at + 1 < len(lines) else output[-1500:]


def raw_generate(model: str, uids: list[str], settings: dict[str, Any]) -> dict[str, Any]:
    """The same prompts through a plain batched ``model.generate`` loop (the baseline)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mathif_pytest.backends._lora import find_adapter
    from mathif_pytest.dataset import load_dataset
    from mathif_pytest.prompts import build_prompt, chat_messages

    samples = {s.uid: s for s in load_dataset(settings["data"]).samples}
    adapter = find_adapter(model, None)
    tokenizer = AutoTokenizer.from_pretrained(
        adapter.base if adapter else model, padding_side="left"
    )
    loaded = AutoModelForCausalLM.from_pretrained(adapter.base if adapter else model, dtype="auto")
    if adapter is not None:
        from peft import PeftModel

        loaded = PeftModel.from_pretrained(loaded, str(adapter.path)).merge_and_unload()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    loaded = loaded.to(device).eval()
    texts = [
        tokenizer.apply_chat_template(
            chat_messages(build_prompt(samples[u])), tokenize=False, add_generation_prompt=True
        )
        for u in uids
    ]
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return _timed_batches(loaded, tokenizer, texts, settings)


def _timed_batches(
    model: Any, tokenizer: Any, texts: list[str], settings: dict[str, Any]
) -> dict[str, Any]:
    import torch

    stops = model.generation_config.eos_token_id
    stops = set(stops if isinstance(stops, list) else [stops, tokenizer.eos_token_id])
    started, tokens = time.perf_counter(), 0
    for start in range(0, len(texts), 8):
        batch = tokenizer(
            texts[start : start + 8],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
            return_token_type_ids=False,
        ).to(model.device)
        with torch.inference_mode():
            out = model.generate(
                **batch,
                do_sample=True,
                temperature=1.0,
                top_p=0.95,
                top_k=0,
                max_new_tokens=settings["max_tokens"],
                pad_token_id=tokenizer.pad_token_id,
            )
        for row in out[:, batch["input_ids"].shape[1] :].tolist():
            tokens += next((i + 1 for i, t in enumerate(row) if t in stops), len(row))
    seconds = time.perf_counter() - started
    return {
        "generate_s": round(seconds, 2),
        "responses_per_s": round(len(texts) / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
    }


def memory_check(model: str, backend: str, settings: dict[str, Any]) -> dict[str, Any]:
    """GPU memory in use (device-wide, all processes) before load, after generating, after close."""
    import torch

    from mathif_pytest.backends import BackendConfig, GenerationRequest, SamplingSettings
    from mathif_pytest.backends.resolve import make_backend

    def used() -> float:
        if not torch.cuda.is_available():
            return float("nan")
        free, total = torch.cuda.mem_get_info()
        return round((total - free) / 2**30, 3)

    options = settings["memory_options"].get(backend, {})
    sampling = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=32, seed=0)
    config = BackendConfig(name=backend, model=model, sampling=sampling, options=options)
    requests = [
        GenerationRequest(key=f"k{i}", uid=f"u{i}", sample=0, prompt=f"What is {i} plus 1?", seed=i)
        for i in range(8)
    ]
    before = used()
    instance = make_backend(config)
    list(instance.generate(requests))
    loaded = used()
    instance.close()
    time.sleep(2)
    return {"before_gib": before, "loaded_gib": loaded, "after_close_gib": used()}


def _models(work: Path, checkpoints: list[str]) -> list[str]:
    """The tiny test model and its LoRA adapter (built by tests/conftest.py), then the others."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mathif_test_models", REPO / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(models)
    tiny, lora = work / "tiny-model", work / "tiny-lora"
    tiny.mkdir()
    lora.mkdir()
    models.build_tiny_model(tiny)
    models.build_tiny_lora(tiny, lora)
    return [str(tiny), str(lora), *checkpoints]


def _settings(args: argparse.Namespace, work: Path, deadline: float) -> dict[str, Any]:
    data = args.data or (REPO.parent / "shared" / "mathif")
    if not Path(data).is_dir():
        data = synthetic_data(work / "data")
    vllm_args = [
        "--mathif-engine-arg",
        "enforce_eager=true",
        "--mathif-engine-arg",
        f"gpu_memory_utilization={args.gpu_memory}",
    ]
    return {
        "data": str(data),
        "max_tokens": args.max_tokens,
        "engine_args": {
            "vllm": vllm_args + _cpu_build_args(),
            "transformers": ["--mathif-engine-arg", "batch_size=8"],
        },
        "memory_options": {
            "vllm": {"enforce_eager": True, "gpu_memory_utilization": args.gpu_memory}
        },
        "left": lambda: max(10.0, deadline - time.monotonic()),
    }


def _cpu_build_args() -> list[str]:
    """A dry run on the CPU build of vLLM: seeded requests cannot use chunked prefill there."""
    import torch

    if torch.cuda.is_available():
        return []
    return ["--mathif-engine-arg", "max_num_batched_tokens=65536"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", action="append", default=[], help="a local checkpoint or LoRA adapter dir"
    )
    parser.add_argument("--data", help="MathIF data dir [../shared/mathif, else synthetic]")
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--gpu-memory", type=float, default=0.5, help="vLLM gpu_memory_utilization")
    parser.add_argument(
        "--budget", type=float, default=420.0, help="seconds before no new step starts"
    )
    parser.add_argument("--out", default=os.environ.get("OUT") or tempfile.gettempdir())
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    work = Path(tempfile.mkdtemp(prefix="mathif-gpu-check-"))
    report: dict[str, Any] = {"environment": environment(), "runs": [], "memory": []}
    print(json.dumps(report["environment"]), flush=True)
    settings = _settings(args, work, deadline)
    backends = ["transformers"] + (["vllm"] if report["environment"]["vllm"] else [])
    for model in _models(work, args.checkpoint):
        for backend in backends:
            if time.monotonic() > deadline:
                break
            _step(report, model, backend, settings)
    for backend in backends:
        if time.monotonic() < deadline:
            memory = {
                "backend": backend,
                **memory_check(str(work / "tiny-model"), backend, settings),
            }
            report["memory"].append(memory)
            print(json.dumps(memory), flush=True)
    out = Path(args.out) / "gpu_check.json"
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {out}")


def _step(report: dict[str, Any], model: str, backend: str, settings: dict[str, Any]) -> None:
    row: dict[str, Any] = {"model": model, "backend": backend}
    try:
        row["suite"] = run_suite(model, backend, Path(tempfile.mkdtemp()), settings)
        uids = row["suite"].pop("uids", None)
        if uids and backend == "transformers":
            row["raw_generate"] = raw_generate(model, uids, settings)
            raw, ours = row["raw_generate"]["tokens_per_s"], row["suite"]["tokens_per_s"]
            row["tokens_per_s_ratio"] = round(ours / raw, 2) if raw else None
    except Exception as exc:  # a failed step is reported, the next one still runs
        row["error"] = f"{type(exc).__name__}: {exc}"
    report["runs"].append(row)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
