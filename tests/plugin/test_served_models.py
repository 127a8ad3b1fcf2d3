"""`pytest --model URL[,URL]` against loopback stand-ins for vLLM servers (tests/_vllm_stand_in)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _vllm_stand_in import serving

Suite = Callable[..., Path]
SECRET = "sk-live-3c1e6b2f9a"
#: the smoke suite's selection: 45 samples, 3 per source x level cell, every constraint type
SMOKE = "select:\n    stratified: 45\n"


def stored(store: Path) -> int:
    if not store.exists():
        return 0
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


@pytest.mark.parametrize("max_model_len", [32768, 4096])
def test_the_smoke_suite_is_scored_in_full_against_a_vllm_like_server(
    pytester: pytest.Pytester, suite: Suite, max_model_len: int
) -> None:
    smoke = suite(body=SMOKE)
    results = pytester.path / "results.json"
    with serving(max_model_len=max_model_len) as server:
        result = pytester.runpytest(
            str(smoke),
            f"--model={server.url}",
            f"--mathif-store={pytester.path / 'store.sqlite'}",
            f"--mathif-results={results}",
        )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 45, outcomes
    assert "errors" not in outcomes and "error" not in outcomes
    document = json.loads(results.read_text())
    assert len(document["cases"]) == 45
    assert all(case["think_closed"] for case in document["cases"])
    info = document["meta"]["generation"]["backend_info"]
    assert info["max_model_len"] == max_model_len
    assert info["sampling_sent"]["top_k"] == -1 and server.ignored == set()
    if max_model_len == 4096:  # 16,384 new tokens do not fit: each request is clamped, and says so
        assert info["max_tokens_clamped"] == 45
        assert all(chat["max_tokens"] < 4096 for chat in server.chats)
        result.stdout.fnmatch_lines(["*mathif backend*", "max_tokens 16384 clamped to fit*4096*"])
    else:
        assert info["max_tokens_clamped"] == 0
        assert {chat["max_tokens"] for chat in server.chats} == {16384}


def test_two_servers_given_comma_separated_both_receive_requests(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite()
    results = pytester.path / "results.json"
    with serving(request_seconds=0.05) as a, serving(request_seconds=0.05) as b:
        result = pytester.runpytest(
            f"--model={a.url},{b.url}",
            f"--mathif-store={pytester.path / 'store.sqlite'}",
            f"--mathif-results={results}",
        )
    result.assert_outcomes(**{k: v for k, v in result.parseoutcomes().items() if k != "warnings"})
    assert len(a.chats) > 0 and len(b.chats) > 0
    assert len(a.chats) + len(b.chats) == 15
    meta = json.loads(results.read_text())["meta"]["generation"]
    assert meta["backend_info"]["requests_per_server"] == {a.url: len(a.chats), b.url: len(b.chats)}


def test_the_api_key_appears_in_no_output_results_store_or_allure_file(
    pytester: pytest.Pytester, suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("allure_pytest")
    suite()
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    store, results, allure = (pytester.path / n for n in ("s.sqlite", "r.json", "allure"))
    # one request meets a careless server that echoes the request headers in its error
    with serving(api_key=SECRET, faults=["echo"]) as server:
        # in a subprocess: Allure's plotting imports C extensions an in-process run cannot reload
        result = pytester.runpytest_subprocess(
            f"--model={server.url}",
            f"--mathif-store={store}",
            f"--mathif-results={results}",
            f"--alluredir={allure}",
            "--mathif-engine-arg=max_retries=0",
        )
    assert all(h.get("Authorization") == f"Bearer {SECRET}" for h in server.headers if h)
    output = "\n".join(result.outlines + result.errlines)
    assert "Authorization" in output  # the echoed error was reported...
    assert SECRET not in output  # ...with the key taken out
    files = [store, results, *store.parent.glob("s.sqlite*"), *allure.rglob("*")]
    leaked = [str(f) for f in files if f.is_file() and SECRET.encode() in f.read_bytes()]
    assert len(list(allure.rglob("*.json"))) > 15
    assert leaked == []


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_against_a_slow_server_stops_within_seconds_keeping_responses(
    pytester: pytest.Pytester, suite: Suite, how: signal.Signals
) -> None:
    suite()
    store = pytester.path / "s.sqlite"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--mathif-store={store}"]
    # two answers at a time, each about a second long: the run would take about 8 s
    with serving(token_seconds=0.03, capacity=2) as server:
        process = subprocess.Popen(
            [*command, f"--model={server.url}"],
            cwd=pytester.path,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while stored(store) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        kept = stored(store)
        process.send_signal(how)
        sent = time.monotonic()
        output, _ = process.communicate(timeout=30)
        elapsed = time.monotonic() - sent
        noticed = time.monotonic() + 5  # the server notices a closed stream at its next write
        while not server.aborted and time.monotonic() < noticed:
            time.sleep(0.05)
    assert elapsed < 10, output.decode()[-2000:]
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output.decode()[-2000:]
    assert 2 <= kept <= stored(store) < 15
    assert server.aborted >= 1  # streams in flight were closed, not left running
