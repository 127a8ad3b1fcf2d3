"""The worker machinery shared by scoring and grading: start, deadline, replace, close."""

from __future__ import annotations

import os
import signal
import time

import pytest

from mathif_pytest.workers import Worker, WorkerGone, WorkerSlots

#: A real handler: Grader's sympy steps.
SYMPY = "mathif_pytest.grading._remote"
REQUEST = {
    "reference": "2\\sqrt{113}",
    "extracted": "\\sqrt{452}",
    "include_percentage": True,
    "elementwise_lists": False,
    "tolerance": 1e-4,
    "memo": True,
}


def test_a_worker_whose_handler_cannot_load_fails_the_call_at_once() -> None:
    worker = Worker("mathif_pytest.no_such_handler")
    started = time.monotonic()
    with pytest.raises(WorkerGone, match="exited") as failed:
        worker.call(REQUEST, timeout=60)
    assert time.monotonic() - started < 30
    assert not failed.value.timed_out
    assert worker.process.returncode is not None  # reaped


def test_slots_replace_a_dead_worker_record_start_up_and_refuse_after_close() -> None:
    slots = WorkerSlots(1, SYMPY, "Owner")
    first = slots.get(0)
    assert first.call(REQUEST, timeout=30) == {"ok": True, "correct": True, "how": first_how()}
    os.kill(first.pid, signal.SIGKILL)
    first.process.wait()
    with pytest.raises(WorkerGone, match="exited"):
        first.call(REQUEST, timeout=30)
    second = slots.get(0)
    assert second.pid != first.pid
    assert second.call(REQUEST, timeout=30)["correct"] is True
    assert slots.pids() == (second.pid,)
    assert len(slots.startups()) == 2 and all(0 < s < 120 for s in slots.startups())
    slots.close()
    assert second.process.returncode is not None
    with pytest.raises(RuntimeError, match="Owner: used after close"):
        slots.get(0)


def first_how() -> str:
    """How the sympy step decides REQUEST (asked of the grading code in this process)."""
    from mathif_pytest.grading._remote import handle

    reply, retire = handle(REQUEST)
    assert retire is False
    return str(reply["how"])
