"""Fresh-store runs under xdist, repeated: no "database is locked", ever (issue 13).

CI runs a few repetitions; ``MATHIF_STRESS_RUNS=50`` runs the full count (50 under ``-n 2``,
20 under ``-n 4``, as the README's reliability figures state).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

_FULL = int(os.environ.get("MATHIF_STRESS_RUNS", "0"))


@pytest.mark.parametrize(
    ("workers", "runs"),
    [(2, _FULL or 3), (4, round(_FULL * 0.4) or 2)],
    ids=["n2", "n4"],
)
def test_fresh_store_runs_under_xdist_never_error(
    pytester: pytest.Pytester,
    suite: Callable[..., Path],
    write_replay: Callable[..., Path],
    workers: int,
    runs: int,
) -> None:
    suite()
    replay = write_replay(correct=lambda uid: True)
    failures = []
    for attempt in range(runs):
        store = pytester.path / f"fresh-{attempt}" / "store.sqlite"
        result = pytester.runpytest_subprocess(
            "-n", str(workers), "-p", "no:cacheprovider", "--model", str(replay),
            f"--mathif-store={store}", "--mathif-gate=correctness>=0.9",
        )  # fmt: skip
        outcomes = result.parseoutcomes()
        if result.ret != 0 or outcomes.get("errors") or outcomes.get("error"):
            failures.append((attempt, result.ret, outcomes, result.stdout.str()[-400:]))
    assert failures == [], f"{len(failures)} of {runs} fresh-store runs failed: {failures[:1]}"
