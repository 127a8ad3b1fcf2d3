"""Model fingerprints, request keys and per-request seeds: stable, cheap, and sensitive."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from mathif_pytest.backends import BackendConfig, SamplingSettings
from mathif_pytest.backends.fingerprint import model_fingerprint, request_key, request_seed
from mathif_pytest.errors import BackendUnavailableError

SAMPLING = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16384, seed=7)
MIB = 1 << 20


def fingerprint(model: str | Path, name: str = "auto", **options: object) -> str:
    return model_fingerprint(
        BackendConfig(name=name, model=str(model), sampling=SAMPLING, options=options)
    )


def fake_checkpoint(directory: Path, weights: int = 8 * MIB) -> Path:
    """A checkpoint-shaped directory: small JSON files and one sparse weight file."""
    directory.mkdir()
    (directory / "config.json").write_text('{"model_type": "llama"}')
    (directory / "generation_config.json").write_text('{"temperature": 0.6}')
    (directory / "tokenizer_config.json").write_text('{"tokenizer_class": "X"}')
    (directory / "chat_template.jinja").write_text("{{ messages }}")
    with (directory / "model.safetensors").open("wb") as handle:
        header = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
        handle.write(len(header).to_bytes(8, "little") + header)
        handle.truncate(weights)
    return directory


def poke(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(b"\x01")


def test_fingerprint_is_16_hex_and_ignores_where_the_checkpoint_lives(tmp_path: Path) -> None:
    original = fake_checkpoint(tmp_path / "a")
    copy = tmp_path / "b"
    shutil.copytree(original, copy)
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint(original))
    assert fingerprint(original) == fingerprint(copy) == fingerprint(original, "vllm")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: (d / "config.json").write_text('{"model_type": "qwen2"}'),
        lambda d: (d / "generation_config.json").write_text('{"temperature": 1.0}'),
        lambda d: (d / "tokenizer_config.json").write_text('{"tokenizer_class": "Y"}'),
        lambda d: (d / "chat_template.jinja").write_text("{{ messages[0] }}"),
        lambda d: (d / "tokenizer.json").write_text("{}"),
        lambda d: poke(d / "model.safetensors", 4 * MIB),  # middle of the weights
        lambda d: poke(d / "model.safetensors", 8 * MIB - 1),  # last byte
        lambda d: poke(d / "model.safetensors", 200),  # first MiB, right after the header
        lambda d: os.truncate(d / "model.safetensors", 9 * MIB),
        lambda d: (d / "model-00002-of-00002.safetensors").write_bytes(b"\0" * 16),
    ],
    ids=[
        "config",
        "generation-config",
        "tokenizer-config",
        "chat-template",
        "tokenizer-added",
        "weights-middle",
        "weights-end",
        "weights-start",
        "weights-size",
        "extra-shard",
    ],
)
def test_fingerprint_changes_when_the_checkpoint_changes(tmp_path: Path, change: object) -> None:
    directory = fake_checkpoint(tmp_path / "ckpt")
    before = fingerprint(directory)
    change(directory)  # type: ignore[operator]
    assert fingerprint(directory) != before


def test_fingerprint_of_a_huge_checkpoint_reads_only_samples(tmp_path: Path) -> None:
    directory = fake_checkpoint(tmp_path / "huge", weights=100 << 30)  # 100 GiB, sparse
    started = time.perf_counter()
    fingerprint(directory)
    assert time.perf_counter() - started < 2.0


def test_tiny_model_fingerprint_is_stable_across_builds(tiny_model_dir: Path) -> None:
    assert fingerprint(tiny_model_dir) == fingerprint(tiny_model_dir)


def test_hub_id_fingerprint_includes_the_cached_snapshot_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    uncached = fingerprint("org/model")
    repo = tmp_path / "models--org--model"
    for commit in ("a" * 40, "b" * 40):
        (repo / "snapshots" / commit).mkdir(parents=True)
        (repo / "snapshots" / commit / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    at_a = fingerprint("org/model")
    (repo / "refs" / "main").write_text("b" * 40)
    assert len({uncached, at_a, fingerprint("org/model")}) == 3
    assert fingerprint("org/model", revision="a" * 40) == at_a


def test_openai_fingerprint_is_the_served_model_whatever_the_servers(tmp_path: Path) -> None:
    url = "http://gpu-node:8000/v1"
    base = fingerprint(url, served_model="qwen-7b")
    assert fingerprint(url, served_model="qwen-7b-step200") != base
    # replicas, shards and redeployed servers of one served model share stored responses
    assert fingerprint(url + "/", "openai", served_model="qwen-7b") == base
    assert fingerprint("http://other:8000/v1", served_model="qwen-7b") == base
    assert fingerprint(f"{url},http://other:8000/v1", served_model="qwen-7b") == base


def test_replay_fingerprint_follows_the_file_contents(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_text('{"uid": "a", "response": "1"}\n')
    before = fingerprint(path)
    path.write_text('{"uid": "a", "response": "2"}\n')
    assert fingerprint(path) != before


def test_an_unreadable_responses_file_is_unavailable_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.jsonl"
    with pytest.raises(BackendUnavailableError, match=r"cannot read .*missing\.jsonl"):
        fingerprint(path)


BASE = ("vllm", "0123456789abcdef", SAMPLING, "What is 1+1?", 0)


@pytest.mark.parametrize(
    "changed",
    [
        ("transformers", *BASE[1:]),
        (BASE[0], "fedcba9876543210", *BASE[2:]),
        (
            *BASE[:2],
            SamplingSettings(temperature=0.6, top_p=0.95, max_tokens=16384, seed=7),
            *BASE[3:],
        ),
        (
            *BASE[:2],
            SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16384, seed=8),
            *BASE[3:],
        ),
        (*BASE[:3], "What is 1+2?", 0),
        (*BASE[:4], 1),
    ],
    ids=["backend", "fingerprint", "temperature", "seed", "prompt", "sample"],
)
def test_request_key_changes_with_every_part(changed: tuple) -> None:  # type: ignore[type-arg]
    assert re.fullmatch(r"[0-9a-f]{64}", request_key(*BASE))
    assert request_key(*BASE) == request_key(*BASE)
    assert request_key(*changed) != request_key(*BASE)


def test_request_seed_is_per_request_and_fits_31_bits() -> None:
    seeds = {request_seed(1234, f"gsm8k_single-{i}", s) for i in range(200) for s in range(3)}
    assert len(seeds) == 600
    assert all(isinstance(seed, int) and 0 <= seed < 2**31 for seed in seeds)
    assert request_seed(1234, "u", 0) == request_seed(1234, "u", 0)
    assert request_seed(1235, "u", 0) != request_seed(1234, "u", 0)


def test_request_seed_is_none_for_an_unseeded_run() -> None:
    assert request_seed(None, "u", 0) is None


def fake_adapter(directory: Path, base: str, weights: bytes = b"lora-a") -> Path:
    directory.mkdir()
    (directory / "adapter_config.json").write_text(
        f'{{"base_model_name_or_path": "{base}", "r": 8, "peft_type": "LORA"}}'
    )
    (directory / "adapter_model.safetensors").write_bytes(weights)
    return directory


def test_a_lora_adapter_fingerprint_covers_the_adapter_and_its_base(tmp_path: Path) -> None:
    base = fake_checkpoint(tmp_path / "base")
    other_base = fake_checkpoint(tmp_path / "other-base", weights=9 * MIB)
    adapter = fake_adapter(tmp_path / "adapter", str(base))
    first = fingerprint(adapter)
    assert first != fingerprint(base)
    assert fingerprint(fake_adapter(tmp_path / "retrained", str(base), b"lora-b")) != first
    assert fingerprint(adapter, base_model=str(other_base)) != first
    (base / "config.json").write_text('{"model_type": "llama", "changed": 1}')
    assert fingerprint(adapter) != first


def test_a_chat_template_override_and_its_variables_change_the_fingerprint(
    tmp_path: Path,
) -> None:
    model = fake_checkpoint(tmp_path / "ckpt")
    template = tmp_path / "t.jinja"
    template.write_text("{{ messages[0]['content'] }}")
    plain = fingerprint(model)
    overridden = fingerprint(model, chat_template=str(template))
    thinking_off = fingerprint(model, chat_template_kwargs={"enable_thinking": False})
    assert len({plain, overridden, thinking_off}) == 3
    assert fingerprint(model, chat_template_kwargs={}) == plain
    template.write_text("{{ messages }}!")
    assert fingerprint(model, chat_template=str(template)) != overridden
