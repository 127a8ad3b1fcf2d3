"""``mathif export-requests SUITE... --model NAME``: the requests a run still needs, batched.

For ``vllm run-batch`` or Ray Data LLM (docs/serving-and-batch.md). The run is planned by pytest
itself (collection only), as ``pytest SUITE... --model NAME --mathif-backend vllm`` would plan it:
``custom_id`` is each request's store key, made of the backend name ``vllm`` (both engines run
vLLM), the fingerprint of NAME (a checkpoint directory's contents, or a hub id and its cached
commit), the sampling and the prompt. Options after ``--`` go to pytest (``-k``, ``--mathif-seed``,
``--mathif-shard``...); give the same ones to the later ``pytest ... --mathif-rescore``.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from mathif_pytest.errors import MathIFError
from mathif_pytest.pytest_plugin.option_types import positive_int

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``export-requests`` on the ``mathif`` command's subparsers; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export-requests",
        help="write the requests a run still needs as an OpenAI batch file (vllm run-batch, Ray)",
        description="Plan `pytest SUITE... --model NAME --mathif-backend vllm` and write the "
        "requests the store has no response for, in the OpenAI batch format (custom_id = store "
        "key). Options after `--` go to pytest.",
    )
    parser.add_argument(
        "suites", nargs="*", metavar="SUITE", help="suite files, as for pytest (none: its default)"
    )
    parser.add_argument(
        "--model",
        required=True,
        metavar="NAME",
        help="what the batch engine loads: a checkpoint directory or a hub id",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("requests.jsonl"), help="default requests.jsonl"
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help="response store (default: pytest's, .mathif/responses.sqlite under the rootdir)",
    )
    parser.add_argument(
        "--served-model",
        metavar="NAME",
        help="model name in each request (default: --model, which is what vllm run-batch serves)",
    )
    parser.add_argument(
        "--max-model-len",
        type=positive_int,
        metavar="N",
        help="the engine's context: clamp max_tokens to fit (prompts estimated from above)",
    )
    parser.set_defaults(handler=run, passthrough=True)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``mathif export-requests``; returns 0 (errors are raised as ``MathIFError``)."""
    import pytest

    from mathif_pytest.pytest_plugin.exporter import RequestExporter

    exporter = RequestExporter(args.out, args.served_model, args.max_model_len)
    # One word per path option: pytest looks for its configuration from every existing path on
    # the command line, and a path outside the project would hide the project's configuration.
    store = [f"--mathif-store={args.store}"] if args.store else []
    chosen = [*args.suites, f"--model={args.model}", "--mathif-backend=vllm", *store]
    quiet = ["--collect-only", "-p", "no:terminal", "-p", "no:cacheprovider"]
    status = pytest.main([*chosen, *quiet, *args.pytest_args], plugins=[exporter])
    if exporter.errors:
        raise MathIFError("; ".join(exporter.errors))
    if exporter.result is None:
        raise MathIFError(
            f"pytest could not plan the run (exit status {int(status)}); see why with: "
            f"pytest {shlex.join([*chosen, *args.pytest_args])} --collect-only"
        )
    _report(args, exporter.result, [*chosen, *args.pytest_args])
    return 0


def _report(args: argparse.Namespace, result: Any, chosen: list[str]) -> None:
    summary = result.summary
    clamped = f", max_tokens clamped in {summary.clamped}" if summary.clamped else ""
    print(
        f"mathif export-requests: {summary.written} requests written to {args.out} for "
        f"{result.cases} cases ({summary.stored} already stored{clamped}); keyed as backend "
        f"{result.backend}, model fingerprint {result.fingerprint}, store {result.store}"
    )
    if args.served_model:  # a LoRA adapter served beside its base model
        engine = f"--model BASE --enable-lora --lora-modules {args.served_model}=ADAPTER_DIR"
    else:
        engine = f"--model {args.model}"
    print(f"next: vllm run-batch -i {args.out} -o results.jsonl {engine}")
    print("      (or examples/ray_data_llm.py; see docs/serving-and-batch.md)")
    print(f"then: mathif import-responses results.jsonl --store {result.store}")
    print(f"then: pytest {shlex.join(chosen)} --mathif-rescore")
