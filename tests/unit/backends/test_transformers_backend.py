"""The transformers backend on the tiny offline model: batching, seeds, finish reasons, errors."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

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


def test_progress_bar_stays_quiet_when_stderr_is_not_a_terminal(
    tiny_model_dir: Path,
    sampling: SamplingSettings,
    make_requests: MakeRequests,
    capsys: pytest.CaptureFixture[str],
) -> None:
    generate(tiny_model_dir, sampling, make_requests(2))
    assert "mathif generate" not in capsys.readouterr().err
