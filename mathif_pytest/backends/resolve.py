"""Pick and build a backend from a :class:`BackendConfig`, importing only the one that is used."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from pathlib import Path

from mathif_pytest.backends import BACKEND_NAMES, Backend, BackendConfig
from mathif_pytest.backends._deps import import_optional, install_hint, is_installed
from mathif_pytest.errors import BackendUnavailableError

__all__ = ["make_backend", "options_class", "resolve_backend_name"]

#: backend name -> (module, class, modules it needs, the extra that installs them)
_IMPLEMENTATIONS: dict[str, tuple[str, str, tuple[str, ...], str | None]] = {
    "replay": ("replay", "ReplayBackend", (), None),
    "openai": ("openai", "OpenAIBackend", (), None),
    "transformers": (
        "transformers",
        "TransformersBackend",
        ("torch", "transformers"),
        "transformers",
    ),
    "vllm": ("vllm", "VLLMBackend", ("vllm",), "vllm"),
}
#: backend name -> the dataclass of the ``--mathif-engine-arg`` keys it declares
_OPTIONS = {
    "openai": "OpenAIOptions",
    "transformers": "TransformersOptions",
    "vllm": "VLLMOptions",
}


def resolve_backend_name(config: BackendConfig) -> str:
    """The concrete backend for ``config``; ``auto`` is decided from the model and the machine.

    ``auto``: a ``.jsonl`` model is a responses file (replay); an ``http(s)://`` model is a server
    (openai); otherwise vLLM when it is installed and a CUDA GPU is visible, else transformers.
    torch is imported only when vLLM is installed (it depends on torch anyway).

    Raises:
        BackendUnavailableError: the name is not one of :data:`BACKEND_NAMES`.
    """
    name = config.name
    if name not in BACKEND_NAMES:
        close = difflib.get_close_matches(name, BACKEND_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BackendUnavailableError(
            f"--mathif-backend={name!r} is invalid{hint}; use one of {', '.join(BACKEND_NAMES)}"
        )
    if name != "auto":
        return name
    if config.model.endswith(".jsonl"):
        return "replay"
    if config.model.startswith(("http://", "https://")):
        return "openai"
    return "vllm" if _vllm_usable() else "transformers"


def make_backend(config: BackendConfig) -> Backend:
    """Build the backend ``config`` names (``auto`` resolved), importing its module lazily.

    Building is cheap: the model files are checked, but a model is loaded (and an engine started)
    only by the first ``generate``.

    Raises:
        BackendUnavailableError: an unknown name, a missing optional dependency (with the
            ``pip install 'mathif-pytest[...]'`` line), or a model path that does not exist.
    """
    name = resolve_backend_name(config)
    module_name, class_name, needs, extra = _IMPLEMENTATIONS[name]
    if extra is not None and not all(is_installed(dependency) for dependency in needs):
        raise BackendUnavailableError(install_hint(extra))
    _check_model(name, config.model)
    module = importlib.import_module(f"mathif_pytest.backends.{module_name}")
    backend: Backend = getattr(module, class_name)(dataclasses.replace(config, name=name))
    return backend


def options_class(name: str) -> type | None:
    """The options dataclass of backend ``name`` (None: it takes no options), imported cheaply.

    The backend modules import their heavy libraries only inside functions.
    """
    if name not in _OPTIONS:
        return None
    module = importlib.import_module(f"mathif_pytest.backends.{_IMPLEMENTATIONS[name][0]}")
    cls: type = getattr(module, _OPTIONS[name])
    return cls


def _vllm_usable() -> bool:
    if not is_installed("vllm"):
        return False
    torch = import_optional("torch", "vllm")
    return bool(torch.cuda.is_available())


def _check_model(name: str, model: str) -> None:
    """Fail early, naming the path and what to pass, when a local model does not exist."""
    if name == "replay" and not Path(model).is_file():
        raise BackendUnavailableError(
            f"--model {model}: no such responses file; the replay backend reads a JSONL file with "
            'one {"uid": ..., "response": ...} object per line'
        )
    local = Path(model).expanduser()
    if name in ("transformers", "vllm") and _looks_like_path(model) and not local.exists():
        raise BackendUnavailableError(
            f"--model {model}: no such directory; pass a checkpoint directory (with config.json "
            "and the tokenizer files), a Hugging Face hub id (org/name), a server URL "
            "(http://host:8000/v1) or a responses file (.jsonl)"
        )
    if name == "openai" and not model.startswith(("http://", "https://")):
        raise BackendUnavailableError(
            f"--model {model}: the openai backend needs the server's base URL; "
            "pass --model http://host:8000/v1"
        )


def _looks_like_path(model: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else with a separator is a local path."""
    return (
        model.startswith(("/", ".", "~"))
        or model.count("/") > 1
        or "\\" in model
        or Path(model).suffix in (".safetensors", ".bin", ".gguf")
    )
