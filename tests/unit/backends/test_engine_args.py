"""``--mathif-engine-arg``: merged when repeated, checked against the backend, secrets masked."""

from __future__ import annotations

import pytest
from fake_vllm import install

from mathif_pytest.backends.engine_args import check_engine_args, mask_secrets, merge_engine_args
from mathif_pytest.errors import BackendUnavailableError


def test_repeated_engine_args_mappings_merge_and_other_keys_take_the_last_value() -> None:
    merged = merge_engine_args(
        [
            ("engine_args", {"max_num_seqs": 512}),
            ("dtype", "float16"),
            ("engine_args", {"quantization": "fp8", "max_num_seqs": 256}),
            ("chat_template_kwargs", {"enable_thinking": False}),
            ("chat_template_kwargs", {"foo": 1}),
            ("dtype", "bfloat16"),
        ]
    )
    assert merged == {
        "engine_args": {"max_num_seqs": 256, "quantization": "fp8"},
        "dtype": "bfloat16",
        "chat_template_kwargs": {"enable_thinking": False, "foo": 1},
    }


@pytest.mark.parametrize(
    ("backend", "key", "suggestion"),
    [
        ("vllm", "tensor_paralel_size", "tensor_parallel_size"),
        ("transformers", "batch_sise", "batch_size"),
        ("openai", "concurency", "concurrency"),
        ("transformers", "max_num_seqs", None),
    ],
)
def test_an_unknown_key_names_itself_and_a_close_match(
    monkeypatch: pytest.MonkeyPatch, backend: str, key: str, suggestion: str | None
) -> None:
    install(monkeypatch)
    with pytest.raises(BackendUnavailableError) as info:
        check_engine_args(backend, {key: 4})
    message = str(info.value)
    assert f"--mathif-engine-arg {key}: the {backend} backend does not accept {key!r}" in message
    if suggestion:
        assert f"did you mean {suggestion!r}?" in message
    else:
        assert "did you mean" not in message


def test_vllm_accepts_every_engine_args_field_top_level_and_nested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch)
    check_engine_args(
        "vllm",
        {
            "max_num_seqs": 512,
            "quantization": "fp8",
            "enable_prefix_caching": True,
            "chat_template_kwargs": {"enable_thinking": False},
            "generation_config": "model",
            "engine_args": {"max_num_batched_tokens": 8192},
        },
    )
    with pytest.raises(
        BackendUnavailableError, match=r"engine_args\.max_num_seq:.*did you mean 'max_num_seqs'"
    ):
        check_engine_args("vllm", {"engine_args": {"max_num_seq": 1}})


def test_without_vllm_installed_only_the_declared_types_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mathif_pytest.backends.vllm as vllm_backend

    monkeypatch.setattr(vllm_backend, "engine_fields", lambda: None)
    check_engine_args("vllm", {"max_num_seqs": 4})  # the backend then says vLLM is missing
    with pytest.raises(BackendUnavailableError, match=r"tensor_parallel_size='2' is invalid"):
        check_engine_args("vllm", {"tensor_parallel_size": "2"})


def test_replay_takes_no_engine_arguments_and_generation_config_must_be_model() -> None:
    with pytest.raises(
        BackendUnavailableError, match=r"replay backend does not accept 'dtype'.*valid: none"
    ):
        check_engine_args("replay", {"dtype": "float16"})
    with pytest.raises(
        BackendUnavailableError, match=r"generation_config='auto' is invalid.*=model"
    ):
        check_engine_args("transformers", {"generation_config": "auto"})


def test_secrets_are_masked_by_exact_name_only() -> None:
    masked = mask_secrets(
        {"hf_token": "hf_x", "api_key": "sk", "tokenizer": "t", "max_num_batched_tokens": 8}
    )
    assert masked == {
        "hf_token": "***",
        "api_key": "***",
        "tokenizer": "t",
        "max_num_batched_tokens": 8,
    }
