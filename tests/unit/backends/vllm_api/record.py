"""Record the parts of the installed vLLM's API that the vLLM backend calls, as JSON.

Run with a real vLLM (the CUDA build imports without a GPU), one scratch venv per version:

    python3.11 -m venv /tmp/vllm-X && /tmp/vllm-X/bin/pip install vllm==X
    PYTHONPATH=. /tmp/vllm-X/bin/python tests/unit/backends/vllm_api/record.py \
        tests/unit/backends/vllm_api

The strict test double of ``vllm`` (``tests/unit/backends/fake_vllm.py``) accepts only the
keywords that every recorded version accepts.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any


def _parameters(func: Any) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]


def _lora_ranks() -> list[int]:
    """The max_lora_rank values LoRAConfig accepts, read from its source."""
    import vllm

    root = Path(vllm.__file__).parent
    for path in [root / "config" / "lora.py", root / "config.py", root / "config" / "__init__.py"]:
        if path.is_file():
            text = path.read_text()
            found = re.search(r"possible_max_ranks\s*=\s*\(([^)]*)\)", text) or re.search(
                r"MaxLoRARanks\s*=\s*Literal\[([^\]]*)\]", text
            )
            if found:
                return [int(x) for x in re.findall(r"\d+", found.group(1))]
    return []


def record() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vllm
        import vllm.distributed.parallel_state as parallel_state
        from vllm.engine.arg_utils import EngineArgs
        from vllm.inputs import TokensPrompt
        from vllm.lora.request import LoRARequest
        from vllm.sampling_params import RequestOutputKind, SamplingParams
        from vllm.v1.engine.llm_engine import LLMEngine

    from mathif_pytest.backends.vllm import engine_fields

    sys.modules.pop("vllm.engine.arg_utils")  # make engine_fields parse the source
    parsed = engine_fields()
    return {
        "version": vllm.__version__,
        "engine_args": sorted(f.name for f in dataclasses.fields(EngineArgs)),
        "engine_args_parsed": sorted(parsed or ()),
        "llm_init": _parameters(vllm.LLM.__init__),
        "sampling_params": _parameters(SamplingParams),
        "lora_request": _parameters(LoRARequest),
        "tokens_prompt": sorted(TokensPrompt.__required_keys__ | TokensPrompt.__optional_keys__),
        "request_output_kind": [kind.name for kind in RequestOutputKind],
        "add_request": _parameters(LLMEngine.add_request),
        "step": _parameters(LLMEngine.step),
        "has_unfinished_requests": _parameters(LLMEngine.has_unfinished_requests),
        "abort_request": _parameters(LLMEngine.abort_request),
        "parallel_state": sorted(
            name
            for name in ("destroy_model_parallel", "destroy_distributed_environment")
            if callable(getattr(parallel_state, name, None))
        ),
        "lora_ranks": _lora_ranks(),
    }


if __name__ == "__main__":
    recorded = record()
    out = Path(sys.argv[1]) / f"vllm-{recorded['version']}.json"
    out.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
    print(out)
