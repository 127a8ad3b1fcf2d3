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
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest
from mathif_pytest.backends._deps import import_optional
from mathif_pytest.backends._options import at_least, read_options
from mathif_pytest.errors import BackendError, BackendUnavailableError
from mathif_pytest.prompts import chat_messages

__all__ = ["TransformersBackend", "TransformersOptions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformersOptions:
    """Settings read from ``BackendConfig.options``.

    Attributes:
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: ``auto`` (the checkpoint's), ``float32``, ``bfloat16``, ``float16``.
        batch_size: prompts per ``generate`` call.
        trust_remote_code: run the checkpoint's own modelling code.
        revision: hub revision (branch, tag or commit) for a hub id.
        progress: show a progress bar on stderr (only when stderr is a terminal).
        threads: CPU threads torch may use while generating (default: torch's choice). 1 is
            much faster for small models on a busy machine (OpenMP threads spin-wait).
    """

    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = at_least(1, default=8)
    trust_remote_code: bool = False
    revision: str | None = None
    progress: bool = True
    threads: int | None = None


class TransformersBackend:
    """A causal LM loaded with ``AutoModelForCausalLM``; loaded on the first ``generate``."""

    name = "transformers"

    def __init__(self, config: BackendConfig) -> None:
        """Keep the settings; nothing is imported or loaded yet.

        Raises:
            BackendUnavailableError: an option has the wrong type or is out of range.
        """
        self._config = config
        self._options = read_options(TransformersOptions, self.name, config.options)
        self._model: Any = None
        self._tokenizer: Any = None
        self._device = self._options.device

    def describe(self) -> Mapping[str, Any]:
        """Model, device, dtype and batch size."""
        return {
            "backend": self.name,
            "model": self._config.model,
            "device": self._device,
            "dtype": self._options.dtype,
            "batch_size": self._options.batch_size,
        }

    def load(self) -> None:
        """Load tokenizer and model (done by the first ``generate``; a second call is free).

        Raises:
            BackendUnavailableError: transformers/torch missing, or no model at ``config.model``.
            BackendError: the checkpoint has no chat template.
        """
        if self._model is not None:
            return
        torch = import_optional("torch", "transformers")
        transformers = import_optional("transformers", "transformers")
        if self._device == "auto":
            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer, model = self._from_pretrained(transformers)
        if not getattr(tokenizer, "chat_template", None):
            raise BackendError(
                f"--model {self._config.model}: the tokenizer has no chat template; MathIF renders "
                "each prompt as one user turn with the model's chat template, so use a chat or "
                "instruct checkpoint, or add chat_template.jinja to the checkpoint directory"
            )
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer, self._model = tokenizer, model.to(self._device).eval()

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate in batches of similar prompt length, yielding each batch as it finishes.

        Raises:
            BackendError: a batch failed (out of memory: lower the ``batch_size`` option).
        """
        items = list(requests)
        if not items:
            return
        self.load()
        texts = [self._render(request.prompt) for request in items]
        lengths = [len(ids) for ids in self._tokenizer(texts, add_special_tokens=False).input_ids]
        limit = self._context_length()
        for index in [i for i, n in enumerate(lengths) if limit is not None and n >= limit]:
            yield Generation(
                key=items[index].key,
                text="",
                error=f"the rendered prompt has {lengths[index]} tokens; the model's context "
                f"holds {limit} (max_position_embeddings)",
            )
        order = sorted(
            (i for i, n in enumerate(lengths) if limit is None or n < limit),
            key=lambda index: lengths[index],
        )
        size = self._options.batch_size
        bar = self._progress_bar(len(items))
        try:
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                yield from self._run_batch([items[i] for i in batch], [texts[i] for i in batch])
                bar.update(len(batch))
        finally:
            bar.close()

    def close(self) -> None:
        """Drop the model (and the CUDA cache). Safe to call twice."""
        was_cuda = self._model is not None and self._device.startswith("cuda")
        self._model = self._tokenizer = None
        if was_cuda:
            import_optional("torch", "transformers").cuda.empty_cache()

    def _from_pretrained(self, transformers: ModuleType) -> tuple[Any, Any]:
        model = self._config.model
        local = Path(model).expanduser()
        source = str(local) if local.exists() else model
        kwargs = {
            "trust_remote_code": self._options.trust_remote_code,
            "revision": self._options.revision,
        }
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
            loaded = transformers.AutoModelForCausalLM.from_pretrained(
                source, dtype=self._options.dtype, **kwargs
            )
        except (OSError, ValueError, KeyError, ImportError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendUnavailableError(
                f"--model {model}: cannot load a tokenizer and causal LM ({reason}); pass a "
                "checkpoint directory with config.json, weights and tokenizer files, or a hub id "
                "that is in the local cache (nothing is downloaded during a test run)"
            ) from None
        return tokenizer, loaded

    def _render(self, prompt: str) -> str:
        text: str = self._tokenizer.apply_chat_template(
            chat_messages(prompt), tokenize=False, add_generation_prompt=True
        )
        return text

    def _run_batch(self, requests: list[GenerationRequest], texts: list[str]) -> list[Generation]:
        torch = import_optional("torch", "transformers")
        # the chat template already holds every special token: no second BOS
        encoded = self._tokenizer(
            texts,
            add_special_tokens=False,
            padding=True,
            return_tensors="pt",
            return_token_type_ids=False,
        ).to(self._device)
        started = time.perf_counter()
        try:
            with (
                _seeded(torch, _batch_seed(requests)),
                _threads(torch, self._options.threads),
                torch.inference_mode(),
            ):
                output = self._model.generate(
                    **encoded, **self._generate_kwargs(encoded["input_ids"].shape[1])
                )
        except RuntimeError as exc:
            raise BackendError(
                f"--model {self._config.model}: generate failed on a batch of {len(requests)} "
                f"({exc}); if it ran out of memory, lower the batch_size option"
            ) from exc
        share = (time.perf_counter() - started) / len(requests)
        prompt_width = encoded["input_ids"].shape[1]
        prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
        rows = output[:, prompt_width:].tolist()
        return [
            self._to_generation(request, row, int(length), share)
            for request, row, length in zip(requests, rows, prompt_lengths, strict=True)
        ]

    def _generate_kwargs(self, prompt_width: int) -> dict[str, Any]:
        sampling = self._config.sampling
        kwargs: dict[str, Any] = {
            "max_new_tokens": self._max_new_tokens(prompt_width),
            "pad_token_id": self._tokenizer.pad_token_id,
        }
        if sampling.temperature > 0:
            # top_k=0 turns off transformers' default top-k of 50 (MathIF samples with top-p only)
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
            kwargs["top_k"] = 0
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _max_new_tokens(self, prompt_width: int) -> int:
        """``max_tokens``, capped to what fits in the model's context after the prompt.

        The official 16,384 new tokens do not fit small models (vLLM caps the same way with
        ``max_model_len``); a capped response ends with finish_reason "length".
        """
        wanted = self._config.sampling.max_tokens
        context = self._context_length()
        return wanted if context is None else max(1, min(wanted, context - prompt_width))

    def _context_length(self) -> int | None:
        context = getattr(self._model.config, "max_position_embeddings", None)
        return context if isinstance(context, int) and context > 0 else None

    def _to_generation(
        self, request: GenerationRequest, row: list[int], prompt_tokens: int, seconds: float
    ) -> Generation:
        stops = self._stop_ids()
        end = next((i + 1 for i, token in enumerate(row) if token in stops), None)
        finish_reason = "length" if end is None else "stop"
        tokens = row if end is None else row[:end]
        return Generation(
            key=request.key,
            text=self._tokenizer.decode(tokens, skip_special_tokens=True),
            finish_reason=finish_reason,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens),
            seconds=seconds,
        )

    def _stop_ids(self) -> set[int]:
        configured = self._model.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [configured])
        ids.add(self._tokenizer.eos_token_id)
        return {token for token in ids if token is not None}

    def _progress_bar(self, total: int) -> Any:
        tqdm = import_optional("tqdm", "transformers")
        show = self._options.progress and sys.stderr.isatty()
        return tqdm.tqdm(total=total, desc="mathif generate", unit="response", disable=not show)


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
