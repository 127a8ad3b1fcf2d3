"""The transformers backend: batched sampling with Hugging Face ``generate`` on CPU or one GPU.

Reproducibility: each batch is seeded from its requests' seeds, and a sampled row depends on the
whole batch (the RNG is shared across rows, STACK.md §2). Requests are sorted by prompt length
before batching, so the same requests, seed and ``batch_size`` give the same texts; changing the
set of requests (``-k``) or ``batch_size`` may change them. Use vLLM for batch-independent rows.
torch and transformers are imported only inside this module's functions.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.backends._chat import ChatFormat, Rendered, ThinkTags, load_chat_template, render
from mathif_pytest.backends._chat import thinking_token_count as count_thinking
from mathif_pytest.backends._deps import import_optional
from mathif_pytest.backends._lora import find_adapter, has_tokenizer
from mathif_pytest.backends._options import ModelOptions, at_least, read_options
from mathif_pytest.backends._sampling import transformers_sampling
from mathif_pytest.errors import BackendError, BackendUnavailableError

__all__ = ["TransformersBackend", "TransformersOptions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformersOptions(ModelOptions):
    """Settings read from ``BackendConfig.options`` (besides :class:`ModelOptions`).

    Attributes:
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        batch_size: prompts per ``generate`` call.
        threads: CPU threads torch may use while generating (default: torch's choice). 1 is
            much faster for small models on a busy machine (OpenMP threads spin-wait).
        attn_implementation: ``from_pretrained``'s attention kernel (``sdpa``, ``eager``,
            ``flash_attention_2``); default: transformers' choice.
    """

    device: str = "auto"
    batch_size: int = at_least(1, default=8)
    threads: int | None = None
    attn_implementation: str | None = None


class TransformersBackend:
    """A causal LM loaded with ``AutoModelForCausalLM``; loaded on the first ``generate``."""

    name = "transformers"

    def __init__(self, config: BackendConfig) -> None:
        """Keep the settings; nothing is imported or loaded yet.

        Raises:
            BackendUnavailableError: an option has the wrong type or is out of range, or a
                LoRA adapter names no base model.
        """
        self._config = config
        self._options = read_options(TransformersOptions, self.name, config.options)
        self._adapter = find_adapter(config.model, self._options.base_model)
        self._chat = ChatFormat(
            template=load_chat_template(self._options.chat_template),
            kwargs=self._options.chat_template_kwargs,
        )
        self._model: Any = None
        self._tokenizer: Any = None
        self._tags = ThinkTags(kept={}, dropped={})
        self._stops: set[int] = set()
        self._device = self._options.device

    def describe(self) -> Mapping[str, Any]:
        """Model (and LoRA base), device, dtype, batch size and the explicit sampling sent."""
        described: dict[str, Any] = {
            "backend": self.name,
            "model": self._config.model,
            "device": self._device,
            "dtype": self._options.dtype,
            "batch_size": self._options.batch_size,
        }
        if self._adapter is not None:
            described["base_model"] = self._adapter.base
        return described

    def load(self) -> None:
        """Load tokenizer and model (done by the first ``generate``; a second call is free).

        A LoRA adapter is loaded on its base through PEFT and merged (as fast as a full model).

        Raises:
            BackendUnavailableError: transformers/torch (or peft, for an adapter) missing, or
                no model at ``config.model``.
        """
        if self._model is not None:
            return
        torch = import_optional("torch", "transformers")
        transformers = import_optional("transformers", "transformers")
        if self._device == "auto":
            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer, model = self._from_pretrained(transformers)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tags = ThinkTags.of(tokenizer)
        self._stops = _stop_ids(model, tokenizer)
        self._tokenizer, self._model = tokenizer, model.to(self._device).eval()
        # the checkpoint's sampling defaults never apply: generate() falls back to this object
        self._model.generation_config = self._generation_config(transformers, None, None)

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate in batches of similar prompt length, yielding each batch as it finishes.

        Raises:
            BackendError: a batch failed (out of memory: lower the ``batch_size`` option), or
                the tokenizer has no chat template.
        """
        items = list(requests)
        if not items:
            return
        self.load()
        rendered = [self._render(request) for request in items]
        texts = [r.text for r in rendered]
        lengths = [len(ids) for ids in self._tokenizer(texts, add_special_tokens=False).input_ids]
        limit = self._context_length()
        fits = [limit is None or n < limit for n in lengths]
        for index in (i for i, ok in enumerate(fits) if not ok):
            yield Generation(
                key=items[index].key,
                text="",
                error=f"the rendered prompt has {lengths[index]} tokens; the model's context "
                f"holds {limit} (max_position_embeddings)",
            )
        # one batch shares its stop strings (intervention stages have their own)
        sampling = self._config.sampling
        stops = [item.stop_strings(sampling) for item in items]
        order = sorted((i for i, ok in enumerate(fits) if ok), key=lambda i: (stops[i], lengths[i]))
        for batch in _batches(order, self._options.batch_size, stops):
            yield from self._run_batch([items[i] for i in batch], [rendered[i] for i in batch])

    def close(self) -> None:
        """Drop the model (and the CUDA cache). Safe to call twice."""
        was_cuda = self._model is not None and self._device.startswith("cuda")
        self._model = self._tokenizer = None
        if was_cuda:
            import_optional("torch", "transformers").cuda.empty_cache()

    def _from_pretrained(self, transformers: ModuleType) -> tuple[Any, Any]:
        adapter = self._adapter
        weights = adapter.base if adapter is not None else self._config.model
        tokens = weights
        if adapter is not None and has_tokenizer(adapter.path):
            tokens = str(adapter.path)
        kwargs = {
            "trust_remote_code": self._options.trust_remote_code,
            "revision": self._options.revision,
        }
        model_kwargs = {"dtype": self._options.dtype, **kwargs}
        if self._options.attn_implementation is not None:
            model_kwargs["attn_implementation"] = self._options.attn_implementation
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(_source(tokens), **kwargs)
            loaded = transformers.AutoModelForCausalLM.from_pretrained(
                _source(weights), **model_kwargs
            )
            if adapter is not None:
                loaded = _merged_adapter(loaded, str(adapter.path))
        except (OSError, ValueError, KeyError, ImportError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendUnavailableError(
                f"--model {self._config.model}: cannot load a tokenizer and causal LM ({reason}); "
                "pass a checkpoint directory with config.json, weights and tokenizer files, a "
                "LoRA adapter directory (adapter_config.json) whose base is available, or a hub "
                "id that is in the local cache (nothing is downloaded during a test run)"
            ) from None
        return tokenizer, loaded

    def _render(self, request: GenerationRequest) -> Rendered:
        try:
            return render(self._tokenizer, request, self._chat)
        except BackendError as exc:
            raise BackendError(f"--model {self._config.model}: {exc}") from None

    def _run_batch(
        self, requests: list[GenerationRequest], rendered: list[Rendered]
    ) -> list[Generation]:
        torch = import_optional("torch", "transformers")
        transformers = import_optional("transformers", "transformers")
        encoded = self._encode(rendered)
        width = encoded["input_ids"].shape[1]
        sampling = self._config.sampling
        wanted = max(request.budget(sampling) for request in requests)
        started = time.perf_counter()
        try:
            with (
                _seeded(torch, _batch_seed(requests)),
                _threads(torch, self._options.threads),
                torch.inference_mode(),
            ):
                output = self._model.generate(
                    **encoded,
                    **self._generate_kwargs(transformers, width, (requests[0], wanted)),
                )
        except RuntimeError as exc:
            raise BackendError(
                f"--model {self._config.model}: generate failed on a batch of {len(requests)} "
                f"({exc}); if it ran out of memory, lower the batch_size option"
            ) from exc
        share = (time.perf_counter() - started) / len(requests)
        prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
        rows = output[:, width:].tolist()
        return [
            self._to_generation(
                request,
                row,
                (int(length), share, self._max_new_tokens(width, request.budget(sampling))),
                r.thinking_prefilled,
            )
            for request, row, length, r in zip(
                requests, rows, prompt_lengths, rendered, strict=True
            )
        ]

    def _encode(self, rendered: list[Rendered]) -> Any:
        # the chat template already holds every special token: no second BOS
        return self._tokenizer(
            [r.text for r in rendered],
            add_special_tokens=False,
            padding=True,
            return_tensors="pt",
            return_token_type_ids=False,
        ).to(self._device)

    def _generate_kwargs(
        self, transformers: ModuleType, prompt_width: int, batch: tuple[GenerationRequest, int]
    ) -> dict[str, Any]:
        """Everything ``generate`` gets: an explicit config, and the stop strings' tokenizer.

        ``batch``: a request of the batch (they share stop strings) and the batch's largest
        budget (each row is cut to its own afterwards).
        """
        request, wanted = batch
        stop = request.stop_strings(self._config.sampling)
        config = self._generation_config(transformers, prompt_width, wanted)
        if not stop:
            return {"generation_config": config}
        config.stop_strings = list(stop)
        return {"generation_config": config, "tokenizer": self._tokenizer}

    def _generation_config(
        self, transformers: ModuleType, prompt_width: int | None, wanted: int | None
    ) -> Any:
        """Every sampling parameter from the run's settings; only the stop ids from the model."""
        return transformers.GenerationConfig(
            **transformers_sampling(self._config.sampling),
            max_new_tokens=self._max_new_tokens(prompt_width or 0, wanted),
            eos_token_id=sorted(self._stops),
            pad_token_id=self._tokenizer.pad_token_id,
            bos_token_id=self._tokenizer.bos_token_id,
        )

    def _max_new_tokens(self, prompt_width: int, wanted: int | None = None) -> int:
        """``wanted`` (default ``max_tokens``), capped to what fits in the context after the prompt.

        The official 16,384 new tokens do not fit small models (vLLM caps the same way with
        ``max_model_len``); a capped response ends with finish_reason "length".
        """
        wanted = self._config.sampling.max_tokens if wanted is None else wanted
        context = self._context_length()
        return wanted if context is None else max(1, min(wanted, context - prompt_width))

    def _context_length(self) -> int | None:
        context = getattr(self._model.config, "max_position_embeddings", None)
        return context if isinstance(context, int) and context > 0 else None

    def _to_generation(
        self,
        request: GenerationRequest,
        row: list[int],
        sizes: tuple[int, float, int],
        prefilled: bool,
    ) -> Generation:
        prompt_tokens, seconds, budget = sizes
        stops, row = self._stops, _unpadded(row[:budget], self._tokenizer.pad_token_id, self._stops)
        end = next((i + 1 for i, token in enumerate(row) if token in stops), None)
        tokens = row if end is None else row[:end]
        text = self._tags.decode(self._tokenizer, tokens)
        text, stopped_at = _cut_at_stop(text, request.stop_strings(self._config.sampling))
        # a row shorter than its budget without an end token was ended by a stop string (one
        # that may begin in the prompt, so that the text does not show it)
        stopped = end is not None or stopped_at is not None or len(tokens) < budget
        return Generation(
            key=request.key,
            text=text,
            finish_reason="stop" if stopped else "length",
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens),
            seconds=seconds,
            thinking_prefilled=prefilled,
            thinking_tokens=count_thinking(self._tokenizer, tokens, text, prefilled=prefilled),
            extra={"max_tokens": budget} if budget < request.budget(self._config.sampling) else {},
            stopped_at=stopped_at,
        )


def _unpadded(row: list[int], pad: int | None, stops: set[int]) -> list[int]:
    """``row`` without the padding ``generate`` appends to a row that stopped before the others."""
    if pad is None or pad in stops:
        return row
    end = len(row)
    while end and row[end - 1] == pad:
        end -= 1
    return row[:end]


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    """The checkpoint's end-of-response ids (its generation config) and the tokenizer's EOS."""
    configured = model.generation_config.eos_token_id
    ids = set(configured if isinstance(configured, list) else [configured])
    ids.add(tokenizer.eos_token_id)
    return {token for token in ids if token is not None}


def _merged_adapter(model: Any, adapter: str) -> Any:
    """``model`` with the LoRA adapter at ``adapter`` applied through PEFT and merged in."""
    peft = import_optional("peft", "transformers")
    with warnings.catch_warnings():  # peft 0.21 calls an API transformers 5 deprecates
        warnings.simplefilter("ignore", FutureWarning)
        return peft.PeftModel.from_pretrained(model, adapter).merge_and_unload()


def _source(model: str) -> str:
    local = Path(model).expanduser()
    return str(local) if local.exists() else model


def _batches(order: list[int], size: int, stops: Sequence[tuple[str, ...]]) -> Iterator[list[int]]:
    """``order`` in runs of at most ``size`` that share their stop strings."""
    batch: list[int] = []
    for index in order:
        if batch and (len(batch) == size or stops[index] != stops[batch[0]]):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch


def _cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """``text`` up to the first stop string (excluded, as vLLM and servers do), and that string."""
    cuts = sorted((text.find(stop), stop) for stop in stops if stop in text)
    return (text[: cuts[0][0]], cuts[0][1]) if cuts else (text, None)


def _batch_seed(requests: Sequence[GenerationRequest]) -> int | None:
    """One seed for a batch, from all its requests' seeds (None when the run is unseeded)."""
    seeds = [request.seed for request in requests]
    if all(seed is None for seed in seeds):
        return None
    digest = hashlib.sha256(json.dumps(seeds).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@contextmanager
def _seeded(torch: ModuleType, seed: int | None) -> Iterator[None]:
    """Seed random/numpy/torch for one batch, then put the caller's RNG states back."""
    if seed is None:
        yield
        return
    transformers = import_optional("transformers", "transformers")
    numpy = import_optional("numpy", "transformers")
    saved = (random.getstate(), numpy.random.get_state(), torch.random.get_rng_state())
    cuda = torch.cuda.is_initialized()
    saved_cuda = torch.cuda.get_rng_state_all() if cuda else None
    transformers.set_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        numpy.random.set_state(saved[1])
        torch.random.set_rng_state(saved[2])
        if saved_cuda is not None:
            torch.cuda.set_rng_state_all(saved_cuda)


@contextmanager
def _threads(torch: ModuleType, count: int | None) -> Iterator[None]:
    """Let torch use ``count`` CPU threads for one batch, then restore the caller's setting."""
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
