"""The exit-status policy of a MathIF run: one function, every branch documented."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mathif_pytest.gate import GateReport

__all__ = ["RunOutcome", "decide_exit_status"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """What happened in the pytest session, as the exit-status policy needs it.

    Attributes:
        pytest_status: the exit status pytest would return on its own.
        mathif_cases: MathIF cases that ran (passed or failed).
        mathif_failures: MathIF cases that failed on their constraints or answer.
        mathif_errors: MathIF cases that errored (backend error, missing response, crash).
        other_failures: failed or errored tests that are not MathIF cases.
        ungradable_share: share of MathIF responses whose answer could not be graded.
        max_ungradable: the largest tolerated ``ungradable_share``.
        strict: every failed MathIF case fails the run (pytest's own behaviour).
    """

    pytest_status: int
    mathif_cases: int
    mathif_failures: int
    mathif_errors: int
    other_failures: int
    ungradable_share: float = 0.0
    max_ungradable: float = 1.0
    strict: bool = False


#: pytest's exit codes (``pytest.ExitCode``), spelled here so the library need not import pytest.
OK, TESTS_FAILED, INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR, NO_TESTS_COLLECTED = 0, 1, 2, 3, 4, 5


def decide_exit_status(outcome: RunOutcome, gate: GateReport) -> int:
    """The run's exit status. The only place where this policy lives.

    1. Interrupts, internal errors, usage errors and "no tests collected" keep pytest's status.
    2. A session in which no MathIF case ran keeps pytest's status (nothing to gate).
    3. Errors anywhere (MathIF cases included), failures of tests that are not MathIF cases, and
       ungradable answers above ``max_ungradable`` fail the run (1): the gate never masks them.
    4. With ``strict``, any failed MathIF case fails the run (1).
    5. Otherwise failed MathIF cases are expected (most samples fail for any real model): the
       status is the gate's verdict, 0 when every threshold holds, else 1.
    """
    if outcome.pytest_status in (INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR, NO_TESTS_COLLECTED):
        return outcome.pytest_status
    if outcome.mathif_cases == 0:
        return outcome.pytest_status
    if outcome.mathif_errors or outcome.other_failures:
        return TESTS_FAILED
    if outcome.ungradable_share > outcome.max_ungradable:
        return TESTS_FAILED
    if outcome.strict and outcome.mathif_failures:
        return TESTS_FAILED
    if outcome.pytest_status not in (OK, TESTS_FAILED):
        return outcome.pytest_status
    return OK if gate.passed else TESTS_FAILED
