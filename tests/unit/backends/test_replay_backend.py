"""The replay backend: recorded responses by (uid, sample), missing ones as errors, calls kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mathif_pytest.backends import BackendConfig, GenerationRequest, SamplingSettings
from mathif_pytest.backends.replay import ReplayBackend
from mathif_pytest.backends.resolve import make_backend
from mathif_pytest.errors import ResponsesError

MakeRequests = Callable[..., list[GenerationRequest]]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + "\n")
    return path


@pytest.fixture
def responses(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "responses.jsonl",
        [
            {"uid": "u0", "response": "first answer", "finish_reason": "stop"},
            {"uid": "u1", "response": "cut off", "finish_reason": "length"},
            {"uid": "u0", "response": "second answer"},
        ],
    )


def backend(path: Path, sampling: SamplingSettings) -> ReplayBackend:
    built = make_backend(BackendConfig(name="auto", model=str(path), sampling=sampling))
    assert isinstance(built, ReplayBackend)
    return built


def test_replay_answers_each_uid_and_sample_from_the_file(
    responses: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    requests = make_requests(2, samples=2)[:3]  # u0 s0, u0 s1, u1 s0
    results = list(backend(responses, sampling).generate(requests))
    assert [(g.key, g.text, g.finish_reason, g.error) for g in results] == [
        ("k-u0-0", "first answer", "stop", None),
        ("k-u0-1", "second answer", None, None),
        ("k-u1-0", "cut off", "length", None),
    ]


@pytest.mark.parametrize(
    ("uid", "sample", "expected"),
    [
        ("u9", 0, 'uid "u9" not in responses.jsonl (it has 0 response(s) for it); add a line'),
        ("u1", 1, 'sample 1 of uid "u1" not in responses.jsonl (it has 1 response(s) for it)'),
    ],
    ids=["unknown-uid", "missing-sample"],
)
def test_unanswered_request_is_an_error_item_naming_file_and_uid(
    responses: Path, sampling: SamplingSettings, uid: str, sample: int, expected: str
) -> None:
    request = GenerationRequest(key="k", uid=uid, sample=sample, prompt="p", seed=None)
    (result,) = backend(responses, sampling).generate([request])
    assert result.text == ""
    assert result.error is not None
    assert result.error.startswith(str(responses))
    assert expected in result.error
    assert f'{{"uid": "{uid}", "response": ...}}' in result.error


def test_every_call_is_recorded_even_before_results_are_read(
    responses: Path, sampling: SamplingSettings, make_requests: MakeRequests
) -> None:
    replay = backend(responses, sampling)
    replay.generate(make_requests(2))
    list(replay.generate(make_requests(1)))
    assert replay.calls == [["u0", "u1"], ["u0"]]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["u0", "text"]', "expected a JSON object"),
        ('{"uid": "u0"}', "'uid' and 'response' must be strings"),
        ('{"uid": 3, "response": "x"}', "'uid' and 'response' must be strings"),
    ],
    ids=["bad-json", "not-an-object", "no-response", "uid-not-string"],
)
def test_malformed_line_names_file_and_line(
    tmp_path: Path, sampling: SamplingSettings, line: str, message: str
) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_text('{"uid": "u0", "response": "ok"}\n' + line + "\n")
    with pytest.raises(ResponsesError, match=message) as info:
        backend(path, sampling)
    assert str(info.value).startswith(f"{path}:2: ")


def test_describe_names_the_file_and_counts_responses(
    responses: Path, sampling: SamplingSettings
) -> None:
    replay = backend(responses, sampling)
    assert replay.describe() == {"backend": "replay", "model": str(responses), "responses": 3}
    replay.close()
    replay.close()
