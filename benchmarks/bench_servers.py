"""Throughput over several servers: responses/s of the openai backend against 1 and 2 stand-ins.

Each stand-in (tests/_vllm_stand_in.py) answers a request in a fixed time and serves a fixed
number at once, as a GPU's batch does, so one server's throughput is capacity / latency; with
two, least-outstanding-requests dispatch should double it. Both are measured in this run, the
same requests each time, and the ratio is printed (the target is at least 1.8).

Run: .venv/bin/python benchmarks/bench_servers.py [--requests 240] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _vllm_stand_in import serving

from mathif_pytest.backends import BackendConfig, GenerationRequest, SamplingSettings
from mathif_pytest.backends.openai import OpenAIBackend

SAMPLING = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16384, seed=0)


def _rate(urls: list[str], requests: list[GenerationRequest]) -> float:
    backend = OpenAIBackend(BackendConfig(name="openai", model=",".join(urls), sampling=SAMPLING))
    started = time.perf_counter()
    results = list(backend.generate(requests))
    elapsed = time.perf_counter() - started
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed, e.g. {failed[0]}")
    return len(results) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--capacity", type=int, default=8, help="requests a server runs at once")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    requests = [
        GenerationRequest(key=f"k{i}", uid=f"u{i}", sample=0, prompt=f"What is {i} + {i}?", seed=i)
        for i in range(args.requests)
    ]
    settings = {"request_seconds": args.latency, "capacity": args.capacity, "lifetime": 3600.0}
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serving(**settings)) for _ in range(2)]
        one, two = [], []
        for _ in range(args.repeat):
            one.append(_rate([servers[0].url], requests))
            two.append(_rate([s.url for s in servers], requests))
    ideal = args.capacity / args.latency
    print(
        f"{args.requests} requests, {args.latency:g} s each, {args.capacity} at once per server "
        f"(ideal {ideal:.0f} responses/s per server); median of {args.repeat}:"
    )
    print(f"  1 server : {statistics.median(one):6.1f} responses/s  {[round(r, 1) for r in one]}")
    print(f"  2 servers: {statistics.median(two):6.1f} responses/s  {[round(r, 1) for r in two]}")
    ratio = statistics.median(two) / statistics.median(one)
    print(f"  ratio 2 servers / 1 server: {ratio:.2f}x (target >= 1.8x)")


if __name__ == "__main__":
    main()
