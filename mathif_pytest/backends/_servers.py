"""The servers of an openai run: their URLs, which are up, the model they serve, its context.

``--model http://a:8000/v1,http://b:8000/v1`` names several replicas of one model. At start each
server's ``GET /models`` is read (all at once): a server that does not answer is reported and
skipped, all of them down is an error before anything is sent; the servers must agree on the
served model, whose ``max_model_len`` (vLLM lists it; a LoRA adapter's is its base model's) bounds
every request's budget (the smallest, when they differ).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mathif_pytest.backends._http import (
    BrokenAnswer,
    Endpoint,
    HTTPStatusError,
    Unreachable,
)
from mathif_pytest.errors import BackendUnavailableError

__all__ = ["Fleet", "connect", "server_urls"]

START_HINT = "is the server running? start it with `vllm serve MODEL`"


def server_urls(model: str) -> list[str]:
    """The base URLs in ``--model`` (comma-separated), without trailing slashes.

    Raises:
        BackendUnavailableError: a part is not an ``http(s)://`` URL, or one is repeated.
    """
    urls = [part.strip().rstrip("/") for part in model.split(",") if part.strip()]
    bad = [url for url in urls if not url.startswith(("http://", "https://"))]
    if bad or not urls:
        raise BackendUnavailableError(
            f"--model {model}: {bad[0] if bad else 'nothing'} is not a server URL; the openai "
            "backend needs base URLs, comma-separated: --model http://a:8000/v1,http://b:8000/v1"
        )
    if len(set(urls)) != len(urls):
        raise BackendUnavailableError(f"--model {model}: a server is listed twice; list each once")
    return urls


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """The servers that answered, and what they serve.

    Attributes:
        live: the servers to send requests to, in ``--model`` order.
        dead: ``URL: reason`` for each server skipped at start.
        served: the served model name sent with every request.
        max_model_len: the smallest context window the live servers report (None: unknown).
    """

    live: tuple[Endpoint, ...]
    dead: tuple[str, ...]
    served: str
    max_model_len: int | None


@dataclass(frozen=True, slots=True)
class _Listing:
    """One server's ``/models``: name → max_model_len, or None when it has no such route."""

    models: Mapping[str, int | None] | None


def connect(
    endpoints: Sequence[Endpoint], served: str | None, timeout: float, api_key_env: str
) -> Fleet:
    """Read every server's ``/models`` at once and decide what to send to whom.

    Args:
        endpoints: the servers of ``--model``.
        served: the ``served_model`` option (None: the one model the servers serve).
        timeout: seconds to wait for each server.
        api_key_env: the environment variable of the API key (named in a 401 error).

    Raises:
        BackendUnavailableError: no server answers; a server refuses the API key; the servers
            serve several models and ``served_model`` is not set, or not the one it names.
    """
    answers = _probe_all(endpoints, timeout, api_key_env)
    live = [(e, a) for e, a in answers if isinstance(a, _Listing)]
    dead = tuple(f"{e.base_url}: {a}" for e, a in answers if isinstance(a, str))
    if not live:
        raise BackendUnavailableError(f"cannot reach any server ({'; '.join(dead)}); {START_HINT}")
    name = served or _only_model(live)
    lengths = [_max_model_len(e, a, name) for e, a in live]
    known = [n for n in lengths if n is not None]
    return Fleet(
        live=tuple(e for e, _ in live),
        dead=dead,
        served=name,
        max_model_len=min(known) if known else None,
    )


def _probe_all(
    endpoints: Sequence[Endpoint], timeout: float, api_key_env: str
) -> list[tuple[Endpoint, _Listing | str]]:
    """Each server's listing, or the reason it is skipped (servers asked in parallel)."""
    results: list[_Listing | str | BaseException] = ["not asked"] * len(endpoints)

    def ask(index: int) -> None:
        try:
            results[index] = _probe(endpoints[index], timeout, api_key_env)
        except BaseException as exc:  # re-raised in the calling thread below
            results[index] = exc

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(len(endpoints))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [
        (e, r) for e, r in zip(endpoints, results, strict=True) if not isinstance(r, BaseException)
    ]


def _probe(endpoint: Endpoint, timeout: float, api_key_env: str) -> _Listing | str:
    try:
        listing = endpoint.get_json("/models", timeout)
    except (Unreachable, BrokenAnswer) as exc:
        return f"cannot reach the server ({exc})"
    except HTTPStatusError as exc:
        if exc.status in (401, 403):
            raise BackendUnavailableError(
                f"{endpoint.base_url}/models: the server refused the API key ({exc}); set "
                f"${api_key_env} to the key the server was started with (vllm serve --api-key)"
            ) from None
        if exc.retryable:
            return f"the server is not ready ({exc})"
        return _Listing(models=None)  # no /models route: the served_model option names it
    data = listing.get("data") if isinstance(listing, Mapping) else None
    cards = [c for c in data or [] if isinstance(c, Mapping) and isinstance(c.get("id"), str)]
    by_id = {str(c["id"]): c for c in cards}
    return _Listing(models={name: _card_length(card, by_id) for name, card in by_id.items()})


def _card_length(card: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> int | None:
    """A card's ``max_model_len``; a LoRA adapter's card has none, its base model's has it."""
    value = card.get("max_model_len")
    if value is None and isinstance(card.get("parent"), str) and card["parent"] in by_id:
        value = by_id[card["parent"]].get("max_model_len")
    return value if isinstance(value, int) and value > 0 else None


def _only_model(live: Sequence[tuple[Endpoint, _Listing]]) -> str:
    names = {e.base_url: sorted(a.models) for e, a in live if a.models is not None}
    if not names:
        raise BackendUnavailableError(
            f"{live[0][0].base_url}/models: the server does not list its models; pass "
            "--mathif-engine-arg served_model=NAME"
        )
    url, first = next(iter(names.items()))
    if len(first) != 1:
        raise BackendUnavailableError(
            f"{url}/models: the server serves {len(first)} models ({', '.join(first)}); pass "
            "--mathif-engine-arg served_model=NAME to pick one"
        )
    for other, served in names.items():
        if served != first:
            raise BackendUnavailableError(
                f"{url} serves {first[0]!r} but {other} serves {', '.join(served) or 'nothing'}; "
                "list replicas of one model, or pass --mathif-engine-arg served_model=NAME"
            )
    return first[0]


def _max_model_len(endpoint: Endpoint, answer: _Listing, name: str) -> int | None:
    if answer.models is None:
        return None
    if name not in answer.models:
        served = ", ".join(sorted(answer.models)) or "nothing"
        raise BackendUnavailableError(
            f"{endpoint.base_url}/models: the server does not serve {name!r} (it serves "
            f"{served}); fix --mathif-engine-arg served_model or the server list"
        )
    return answer.models[name]
