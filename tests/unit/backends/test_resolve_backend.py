"""Choosing and building a backend: ``auto`` rules, install hints, missing model paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mathif_pytest.backends import BackendConfig, SamplingSettings, resolve
from mathif_pytest.backends.resolve import make_backend, resolve_backend_name
from mathif_pytest.errors import BackendUnavailableError

SAMPLING = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16, seed=0)


def config(name: str, model: str, **options: object) -> BackendConfig:
    return BackendConfig(name=name, model=model, sampling=SAMPLING, options=options)


@pytest.mark.parametrize(
    ("name", "model", "vllm_usable", "expected"),
    [
        ("auto", "runs/responses.jsonl", True, "replay"),
        ("auto", "http://localhost:8000/v1", True, "openai"),
        ("auto", "https://cluster.example/v1", False, "openai"),
        ("auto", "ckpts/step-100", True, "vllm"),
        ("auto", "ckpts/step-100", False, "transformers"),
        ("transformers", "http://localhost:8000/v1", True, "transformers"),
        ("replay", "answers.txt", False, "replay"),
    ],
    ids=["jsonl", "http", "https", "gpu-with-vllm", "no-vllm", "explicit-name", "explicit-replay"],
)
def test_auto_backend_is_chosen_from_the_model_and_the_machine(
    monkeypatch: pytest.MonkeyPatch, name: str, model: str, vllm_usable: bool, expected: str
) -> None:
    monkeypatch.setattr(resolve, "_vllm_usable", lambda: vllm_usable)
    assert resolve_backend_name(config(name, model)) == expected


def test_unknown_backend_name_suggests_the_closest_one() -> None:
    with pytest.raises(BackendUnavailableError, match=r"'vlm' is invalid; did you mean 'vllm'\?"):
        resolve_backend_name(config("vlm", "x"))


def test_auto_without_vllm_installed_picks_transformers_without_importing_torch() -> None:
    code = (
        "import sys; from mathif_pytest.backends import BackendConfig, SamplingSettings;"
        "from mathif_pytest.backends.resolve import resolve_backend_name;"
        "s = SamplingSettings(temperature=1.0, top_p=1.0, max_tokens=1, seed=None);"
        "print(resolve_backend_name(BackendConfig(name='auto', model='m', sampling=s)),"
        " 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    if resolve._vllm_usable():
        pytest.skip("vLLM and a GPU are present here")
    assert out.stdout.split() == ["transformers", "False"]


@pytest.mark.parametrize(
    ("name", "missing", "extra"),
    [("vllm", "vllm", "vllm"), ("transformers", "torch", "transformers")],
)
def test_missing_optional_dependency_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, missing: str, extra: str
) -> None:
    real = resolve.is_installed
    monkeypatch.setattr(resolve, "is_installed", lambda module: module != missing and real(module))
    label = "vLLM" if name == "vllm" else "transformers"
    expected = (
        f"{label} backend requires optional dependencies; "
        f"install with: pip install 'mathif-pytest[{extra}]'"
    )
    with pytest.raises(BackendUnavailableError) as info:
        make_backend(config(name, str(tmp_path)))
    assert str(info.value) == expected


@pytest.mark.parametrize("model", ["./ckpts/missing", "/nonexistent/ckpt", "runs/a/b"])
def test_missing_checkpoint_directory_names_the_path_and_what_to_pass(model: str) -> None:
    with pytest.raises(BackendUnavailableError, match="no such directory") as info:
        make_backend(config("transformers", model))
    assert model in str(info.value)
    assert "checkpoint directory" in str(info.value)


def test_missing_responses_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    with pytest.raises(BackendUnavailableError, match="no such responses file") as info:
        make_backend(config("auto", str(path)))
    assert str(path) in str(info.value)


def test_openai_backend_needs_a_url() -> None:
    with pytest.raises(BackendUnavailableError, match="pass --model http://host:8000/v1"):
        make_backend(config("openai", "my-model"))


def test_replay_and_openai_backends_build_without_heavy_imports(tmp_path: Path) -> None:
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"uid": "a", "response": "b"}) + "\n")
    code = (
        "import sys; from mathif_pytest.backends import BackendConfig, SamplingSettings;"
        "from mathif_pytest.backends.resolve import make_backend;"
        "s = SamplingSettings(temperature=1.0, top_p=1.0, max_tokens=1, seed=None);"
        f"a = make_backend(BackendConfig(name='auto', model={str(responses)!r}, sampling=s));"
        "b = make_backend(BackendConfig(name='auto', model='http://127.0.0.1:9/v1', sampling=s));"
        "print(a.name, b.name, sorted({'torch', 'transformers', 'vllm'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "replay openai []"


def test_wrongly_typed_option_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match=r"batch_size='8' is invalid, because"):
        make_backend(config("transformers", str(tmp_path), batch_size="8"))
