"""Grader: batches, cache, parallel workers, time limits on any thread, and clean shutdown."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from mathif_pytest.grading import AnswerGrade, Grade, Grader

#: Needs sympy (a worker) and takes seconds there whatever the hash seed (a big polynomial; a
#: trigonometric sum is not reliable: its simplification path depends on set ordering).
SLOW = ("1", "\\boxed{(x+y+1)**40}")
#: Needs sympy, but is quick.
SYMBOLIC = ("2\\sqrt{113}", "\\boxed{\\sqrt{452}}")
BATCH = [
    ("52", "\\boxed{52}"),
    SYMBOLIC,
    ("52", "\\boxed{53}"),
    ("x^2+2x+1", "\\boxed{(x+1)^2}"),
    SYMBOLIC,
    ("\\frac{1}{2}", "\\boxed{0.5}"),
    ("3R^2", "\\boxed{3 r^2}"),
    ("x+1", "\\boxed{x+2}"),
]


def _count_worker_calls(grader: Grader, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every request the grader sends to its worker pool."""
    calls: list[object] = []
    real_call = grader._pool.call

    def counting(payload: dict[str, object], timeout: float) -> dict[str, object]:
        calls.append(payload)
        return real_call(payload, timeout)

    monkeypatch.setattr(grader._pool, "call", counting)
    return calls


def _running(pids: tuple[int, ...]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def test_grade_many_keeps_order_and_matches_single_grades(grader: Grader) -> None:
    batch = grader.grade_many(BATCH)
    assert [g.reference for g in batch] == [ref for ref, _ in BATCH]
    assert batch == [grader.grade(ref, text) for ref, text in BATCH]
    assert [g.outcome is AnswerGrade.CORRECT for g in batch] == [
        True, True, False, True, True, True, True, False
    ]  # fmt: skip


def test_cache_grades_a_repeated_answer_without_the_worker(
    grader: Grader, monkeypatch: pytest.MonkeyPatch
) -> None:
    grader.grade("2\\sqrt{2}", "\\boxed{\\sqrt{8}}")
    calls = _count_worker_calls(grader, monkeypatch)
    again = grader.grade("2\\sqrt{2}", "So $\\boxed{\\sqrt{8}}$.")
    assert again.outcome is AnswerGrade.CORRECT
    assert calls == []


def test_naive_grader_sends_every_symbolic_answer_to_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Grader(cache=False) as naive:
        calls = _count_worker_calls(naive, monkeypatch)
        naive.grade_many([SYMBOLIC, SYMBOLIC, ("52", "\\boxed{52}")])
    assert len(calls) == 2


def test_parallel_grader_agrees_with_the_serial_one(grader: Grader) -> None:
    with Grader(jobs=2, cache=False) as parallel:
        assert parallel.grade_many(BATCH) == grader.grade_many(BATCH)
        assert len(parallel.worker_pids) == 2


def test_timeout_gives_ungradable_and_a_fresh_worker_takes_over() -> None:
    with Grader(timeout=0.5) as quick:
        quick.grade(*SYMBOLIC)  # start the worker outside the measured call
        first_pids = quick.worker_pids
        started = time.monotonic()
        grade = quick.grade(*SLOW)
        elapsed = time.monotonic() - started
        assert grade.outcome is AnswerGrade.UNGRADABLE
        assert grade.detail == "grading timed out after 0.5 s"
        assert elapsed < 3.0
        assert not _running(first_pids)
        assert quick.grade(*SYMBOLIC).outcome is AnswerGrade.CORRECT
        assert quick.worker_pids != first_pids


def test_tiny_timeout_forces_ungradable_and_spares_answers_without_sympy() -> None:
    with Grader(timeout=0.001) as hasty:
        assert hasty.grade("x^2+2x+1", "\\boxed{(x+1)^2 + 0*x^9}").outcome is AnswerGrade.UNGRADABLE
        assert hasty.grade("52", "\\boxed{52}").outcome is AnswerGrade.CORRECT  # no sympy needed


def test_time_limit_holds_off_the_main_thread() -> None:
    results: list[tuple[Grade, float]] = []

    def work(grader: Grader) -> None:
        started = time.monotonic()
        grade = grader.grade(*SLOW)
        results.append((grade, time.monotonic() - started))

    with Grader(timeout=0.5) as quick:
        quick.grade(*SYMBOLIC)
        thread = threading.Thread(target=work, args=(quick,))
        thread.start()
        thread.join(timeout=30)
    assert not thread.is_alive()
    [(grade, elapsed)] = results
    assert grade.outcome is AnswerGrade.UNGRADABLE
    assert elapsed < 3.0


def test_close_stops_the_workers_and_later_sympy_steps_are_ungradable() -> None:
    closing = Grader()
    closing.grade(*SYMBOLIC)
    pids = closing.worker_pids
    assert _running(pids)
    closing.close()
    assert not _running(pids)
    after = closing.grade("x+1", "\\boxed{1+x+0}")
    assert after.outcome is AnswerGrade.UNGRADABLE
    assert "closed" in after.detail
    assert closing.grade("52", "\\boxed{52}").outcome is AnswerGrade.CORRECT


def test_interpreter_exit_leaves_no_worker_and_does_not_hang(tmp_path: object) -> None:
    script = textwrap.dedent(
        """
        from mathif_pytest.grading import grade_answer
        from mathif_pytest.grading.answer import _shared_grader
        assert grade_answer("2\\\\sqrt{113}", "\\\\boxed{\\\\sqrt{452}}").correct
        print(*_shared_grader().worker_pids)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert time.monotonic() - started < 30
    pids = tuple(int(pid) for pid in done.stdout.split())
    assert len(pids) == 1
    deadline = time.monotonic() + 5
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pids)
    assert done.stderr == ""


def test_importing_the_grading_package_loads_neither_sympy_nor_pylatexenc() -> None:
    code = "import sys, mathif_pytest.grading; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = done.stdout
    assert "'sympy'" not in modules
    assert "'pylatexenc'" not in modules


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"timeout": 0}, "timeout=0 is invalid"), ({"jobs": 0}, "jobs=0 is invalid")],
    ids=["timeout", "jobs"],
)
def test_grader_rejects_invalid_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Grader(**kwargs)  # type: ignore[arg-type]
