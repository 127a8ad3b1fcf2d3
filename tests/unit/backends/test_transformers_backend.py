"""The transformers backend on the tiny offline model: batching, seeds, finish reasons, errors."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.backends import BackendConfig, Generation, GenerationRequest, SamplingSettings
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.errors import BackendError, BackendUnavailableError

pytest.importorskip("transformers")

MakeRequests = Callable[..., list[GenerationRequest]]


def generate(
    model: Path, sampling: SamplingSettings, requests: list[GenerationRequest], **options: object
) -> list[Generation]:
    config = BackendConfig(
        name="transformers", model=str(model), sampling=sampling, options=options
    )
    backend = make_backend(config)
    try:
        return list(backend.generate(requests))
    finally:
        backend.close()


def texts_by_key(results: list[Generation]) -> dict[str, str]:
    return {result.key: result.text for result in results}


def test_every_request_gets_a_response_with_token_counts(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    from transformers import AutoTokenizer

    requests = make_requests(7)
    results = generate(tiny_model_dir, sampling, requests, batch_size=3)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    by_key = {result.key: result for result in results}
    assert sorted(by_key) == sorted(request.key for request in requests)
    for request in requests:
        result = by_key[request.key]
        rendered = f"<|user|>{request.prompt}<|eos|><|assistant|>"
        assert result.prompt_tokens == len(tokenizer(rendered, add_special_tokens=False).input_ids)
        assert result.completion_tokens is not None
        assert 1 <= result.completion_tokens <= sampling.max_tokens
        assert result.finish_reason in ("stop", "length")
        assert result.error is None
        assert result.seconds is not None and result.seconds > 0


def test_same_seeds_give_the_same_texts_and_another_seed_changes_them(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    first = texts_by_key(generate(tiny_model_dir, sampling, make_requests(6)))
    again = texts_by_key(generate(tiny_model_dir, sampling, make_requests(6)))
    other = texts_by_key(generate(tiny_model_dir, sampling, make_requests(6, base_seed=99)))
    assert first == again
    assert first != other


def test_tiny_max_tokens_ends_every_response_with_length(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests, tmp_path: Path
) -> None:
    # the shared tiny model stops on 63 extra token ids (tests/conftest.py); keep only its EOS
    model = tmp_path / "one-stop-token"
    shutil.copytree(tiny_model_dir, model)
    config_path = model / "generation_config.json"
    config = json.loads(config_path.read_text())
    config["eos_token_id"] = config["eos_token_id"][0]
    config_path.write_text(json.dumps(config))
    short = dataclasses.replace(sampling, max_tokens=2)
    results = generate(model, short, make_requests(5))
    assert {(result.finish_reason, result.completion_tokens) for result in results} == {
        ("length", 2)
    }


def test_a_response_that_emits_eos_finishes_with_stop(
    tiny_model_dir: Path, tmp_path: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    always_stops = tmp_path / "always-stops"
    shutil.copytree(tiny_model_dir, always_stops)
    path = always_stops / "generation_config.json"
    generation_config = json.loads(path.read_text())
    generation_config["eos_token_id"] = list(range(1000))  # whatever is sampled ends it
    path.write_text(json.dumps(generation_config))
    results = generate(always_stops, sampling, make_requests(3))
    assert {(result.finish_reason, result.completion_tokens) for result in results} == {("stop", 1)}


def test_greedy_decoding_ignores_the_seed(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    greedy = dataclasses.replace(sampling, temperature=0.0)
    first = texts_by_key(generate(tiny_model_dir, greedy, make_requests(4)))
    assert first == texts_by_key(generate(tiny_model_dir, greedy, make_requests(4, base_seed=5)))


def test_batches_are_yielded_shortest_prompts_first(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    requests = make_requests(6)  # prompt repeats: 1, 2, 3, 4, 1, 2
    options = {"batch_size": 2, "threads": 1}
    config = BackendConfig(
        name="transformers", model=str(tiny_model_dir), sampling=sampling, options=options
    )
    stream = make_backend(config).generate(requests)
    assert {next(stream).key, next(stream).key} == {"k-u0-0", "k-u4-0"}


def test_generation_leaves_the_callers_random_state_and_thread_count_alone(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    import torch

    threads = torch.get_num_threads()
    random.seed(42)
    expected = [random.random() for _ in range(3)]
    random.seed(42)
    generate(tiny_model_dir, sampling, make_requests(2), threads=threads + 1)
    assert [random.random() for _ in range(3)] == expected
    assert torch.get_num_threads() == threads


def test_a_directory_without_a_model_is_unavailable_with_the_fix(
    tmp_path: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    with pytest.raises(
        BackendUnavailableError, match="cannot load a tokenizer and causal LM"
    ) as info:
        generate(tmp_path, sampling, make_requests(1))
    assert str(tmp_path) in str(info.value)
    assert "checkpoint directory with config.json" in str(info.value)


def test_a_checkpoint_without_a_chat_template_is_refused(
    tiny_model_dir: Path, tmp_path: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    plain = tmp_path / "no-template"
    shutil.copytree(tiny_model_dir, plain)
    (plain / "chat_template.jinja").unlink()
    with pytest.raises(BackendError, match="has no chat template") as info:
        generate(plain, sampling, make_requests(1))
    assert str(plain) in str(info.value)


def test_describe_reports_device_dtype_and_batch_size_without_loading(
    tiny_model_dir: Path, sampling: SamplingSettings
) -> None:
    config = BackendConfig(
        name="transformers", model=str(tiny_model_dir), sampling=sampling, options={"device": "cpu"}
    )
    assert make_backend(config).describe() == {
        "backend": "transformers",
        "model": str(tiny_model_dir),
        "device": "cpu",
        "dtype": "auto",
        "batch_size": 8,
    }


def recorded_generate_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record every ``generate`` call's effective generation config (then really generate)."""
    from transformers import GenerationMixin

    calls: list[dict[str, Any]] = []
    original = GenerationMixin.generate

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = kwargs["generation_config"]
        calls.append(
            {
                "config": config.to_diff_dict(),
                "model_default": self.generation_config.to_diff_dict(),
                "kwargs": sorted(kwargs),
            }
        )
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GenerationMixin, "generate", recording)
    return calls


def test_every_sampling_parameter_is_sent_and_the_checkpoints_never_apply(
    tiny_model_dir: Path,
    tmp_path: Path,
    make_requests: MakeRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    qwen_like = tmp_path / "top-k-20"
    shutil.copytree(tiny_model_dir, qwen_like)
    path = qwen_like / "generation_config.json"
    config = json.loads(path.read_text())
    path.write_text(
        json.dumps({**config, "top_k": 20, "temperature": 0.6, "repetition_penalty": 1.3})
    )
    sampling = SamplingSettings(
        temperature=1.0,
        top_p=0.95,
        max_tokens=16,
        seed=1,
        top_k=0,
        min_p=0.05,
        repetition_penalty=1.0,
    )
    calls = recorded_generate_calls(monkeypatch)
    generate(qwen_like, sampling, make_requests(2), batch_size=2)
    (call,) = calls
    sent = call["config"]
    assert {
        k: sent.get(k)
        for k in (
            "do_sample",
            "temperature",
            "top_p",
            "top_k",
            "min_p",
            "repetition_penalty",
            "max_new_tokens",
        )
    } == {
        "do_sample": True,
        "temperature": 1.0,
        "top_p": 0.95,
        "top_k": 0,
        "min_p": 0.05,
        "repetition_penalty": 1.0,
        "max_new_tokens": 16,
    }
    assert sent["eos_token_id"] == sorted([2, *range(300, 363)])
    # generate() falls back to the model's own config for unset fields: it is ours, not the file's
    assert call["model_default"].get("top_k") == 0
    assert call["model_default"].get("temperature") == 1.0


def test_stop_strings_end_a_response_without_being_kept(
    tiny_model_dir: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    plain = generate(tiny_model_dir, sampling, make_requests(4))
    pieces = [g.text[2:4] for g in plain if len(g.text) >= 4]
    assert pieces
    stopped = generate(
        tiny_model_dir, dataclasses.replace(sampling, stop=tuple(pieces)), make_requests(4)
    )
    by_key = {g.key: g for g in plain}
    cut = [g for g in stopped if any(p in by_key[g.key].text for p in pieces)]
    assert cut and all(not any(p in g.text for p in pieces) for g in cut)
    assert all(g.finish_reason == "stop" for g in cut)


def test_a_lora_adapter_loads_merged_on_its_base_and_answers_differently(
    tiny_model_dir: Path,
    tiny_lora_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    greedy = dataclasses.replace(sampling, temperature=0.0)
    base = texts_by_key(generate(tiny_model_dir, greedy, make_requests(4)))
    adapted = texts_by_key(generate(tiny_lora_dir, greedy, make_requests(4)))
    assert sorted(base) == sorted(adapted)
    assert base != adapted
    config = BackendConfig(name="transformers", model=str(tiny_lora_dir), sampling=sampling)
    assert make_backend(config).describe()["base_model"] == str(tiny_model_dir)


def test_a_lora_adapter_without_a_base_says_which_option_to_pass(
    tiny_lora_dir: Path, tmp_path: Path, sampling: SamplingSettings
) -> None:
    orphan = tmp_path / "orphan"
    shutil.copytree(tiny_lora_dir, orphan)
    config_path = orphan / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = None
    config_path.write_text(json.dumps(config))
    with pytest.raises(BackendUnavailableError, match=r"names no base model.*base_model=PATH"):
        make_backend(BackendConfig(name="transformers", model=str(orphan), sampling=sampling))


def test_a_template_that_prefills_think_is_recorded_on_every_response(
    tiny_thinking_model_dir: Path,
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
) -> None:
    thinking = generate(tiny_thinking_model_dir, sampling, make_requests(3))
    plain = generate(tiny_model_dir, sampling, make_requests(3))
    assert all(g.thinking_prefilled for g in thinking)
    assert all(
        g.thinking_tokens == g.completion_tokens for g in thinking if "</think>" not in g.text
    )
    assert not any(g.thinking_prefilled for g in plain)
    assert {
        g.thinking_tokens for g in plain if "<think>" not in g.text and "</think>" not in g.text
    } <= {0}


def test_chat_template_kwargs_reach_the_template(
    tiny_model_dir: Path, tmp_path: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    template = tmp_path / "qwen3-like.jinja"
    template.write_text(
        "{% for m in messages %}<|user|>{{ m['content'] }}<|eos|>{% endfor %}<|assistant|>"
        "{% if enable_thinking is not defined or enable_thinking %}<think>\n{% endif %}"
    )
    on = generate(tiny_model_dir, sampling, make_requests(2), chat_template=str(template))
    off = generate(
        tiny_model_dir,
        sampling,
        make_requests(2),
        chat_template=str(template),
        chat_template_kwargs={"enable_thinking": False},
    )
    assert all(g.thinking_prefilled for g in on)
    assert not any(g.thinking_prefilled for g in off)
