r"""Grade a final answer against the reference, deciding as the official MathIF grader does.

The official decision is ``compute_score(answer_segment, reference)[0]`` of the ``prime_math``
package (``MATHIF_PROTOCOL.md`` §2): extract the final answer, then a PRM800K stage, then a ToRA
stage. This package reproduces those decisions (measured: 100% agreement with the official code
on about 52,000 generated pairs) and differs on purpose only where the official code is unsafe,
timing-dependent or unreachable:

* **Model text is never executed.** The official code hands answers to ``eval`` (answers with
  ``\pi``, matrix answers) and to ``parse_expr``/``sympify`` (which ``eval`` too). Here Python's
  tokenizer and a whitelist parser build the same sympy objects (:mod:`._expr`). What the
  whitelist leaves out is graded "unparseable", i.e. not equal: sympy names other than common
  functions and constants (``N(2)``, ``Matrix(...)``, ``Symbol('x')``), names inside ``\pi``
  answers (the official ``eval`` would see ``pi`` or ``abs``), attribute access, keywords other
  than ``or``/``and``/``True``/``False``, sympy functions used as values.
* **One deadline per answer instead of per-step alarms.** The official steps each have a signal
  timeout (1 s for the ToRA parse/simplify/N steps, 10 s for the PRM800K one) after which the
  step counts as failed. Here the sympy work of one answer runs in a worker process under one
  wall-clock limit (``timeout``, 5 s by default), on any thread; past it the grade is
  ``UNGRADABLE``. So a simplification taking 1-5 s completes here, and one taking longer is
  ungradable rather than "not equal". Decisions do not depend on machine speed otherwise.
* **Resource bombs are refused up front** (integer powers over 100,000 bits, factorials of
  numbers over 10,000, decimal exponents over 10,000, nesting deeper than 100): the official
  code would hang until its alarm and then treat the step as failed, which is what refusing
  does.
* **Matrix branches are left out.** In the MathIF copy of the grader both ``pmatrix`` branches
  test for ``"egin{pmatrix}"`` written without a raw prefix, i.e. with a backspace, and never
  run. (Later verl versions fixed the literal; those would ``eval`` a list answer.)
* ``parse_latex`` is never used: it needs ANTLR 4.11, which the official requirements do not
  install (hydra-core pins 4.9), so there it always fails.
* An internal error of ours is ``UNGRADABLE`` instead of a crash.
* Answers that are string literals (``"236"``, typical under ``startend:quotation``) are decided
  as officially, where ``parse_expr``/``eval`` turn them into a Python string that ``N()``
  then sympifies (so ``"236"`` equals ``236``); the literal is decoded, never evaluated
  (:mod:`._strings`). An f-string, which the official code would run, stays unparseable.

``UNGRADABLE`` answers count as not correct, as the official metric would count them. The
opt-in ``Deviations`` ``accept_hash_answer``, ``no_percent_leniency`` and ``elementwise_lists``
change grading on purpose; all other defaults reproduce the official decisions.
"""

from __future__ import annotations

import threading

from mathif_pytest.grading._grader import Grader
from mathif_pytest.grading._grades import AnswerGrade, Grade
from mathif_pytest.grading._match import extract
from mathif_pytest.grading._steps import Config
from mathif_pytest.protocol import Deviations

__all__ = ["AnswerGrade", "Grade", "Grader", "extract_answer", "grade_answer"]


def extract_answer(text: str, *, accept_hash_answer: bool = False) -> str:
    r"""The final answer of a response's answer segment, as the official ``match_answer`` finds it.

    The cascade: cut after the last ``answer:``, ``answer is``, ``answers are`` (each in turn,
    case-insensitive); cut before the last ``is answer``, ``is the answer``, ``are answers``,
    ``are the answers``; take the content of the last ``\boxed{}`` (or ``\fbox{}``) by brace
    matching; cut at the last ``". "``; keep what follows the last ``be ``, ``is ``, ``are ``,
    ``=``, ``: `` or ``get `` (or those followed by a newline). With no box at all, the official
    grader grades whatever text is left, which is reproduced here.

    Args:
        text: the post-think answer segment (see :func:`~mathif_pytest.grading.split_response`).
        accept_hash_answer: when no ``\boxed{}`` is found, use the rest of the line after the
            last ``####`` (the GSM8K format; officially such answers are graded wrong).

    Returns:
        The extracted answer (possibly empty).
    """
    return extract(text, accept_hash_answer=accept_hash_answer).answer


_default_lock = threading.Lock()
_default_grader: Grader | None = None


def _shared_grader() -> Grader:
    global _default_grader
    with _default_lock:
        if _default_grader is None:
            _default_grader = Grader()
        return _default_grader


def grade_answer(
    reference: str,
    text: str,
    *,
    deviations: Deviations = Deviations(),  # noqa: B008 - frozen, so sharing it is safe
    timeout: float = 5.0,
) -> Grade:
    """Grade one answer segment against its reference, deciding as the official grader does.

    Extracts the final answer from ``text`` (see :func:`extract_answer`), then decides like the
    official ``compute_score(text, reference)[0]``. Uses a shared :class:`Grader` (one worker
    process, started on first need and stopped at interpreter exit).

    Args:
        reference: the reference answer (the data's ``answer`` field).
        text: the post-think answer segment (``split_response(raw).answer``).
        deviations: opt-in departures from the official protocol; ``accept_hash_answer`` and
            ``no_percent_leniency`` concern grading.
        timeout: wall-clock seconds allowed for the sympy part; past it the grade is
            ``UNGRADABLE``.

    Returns:
        The grade, with the extracted answer and a one-sentence detail.

    Raises:
        ValueError: ``timeout`` is not positive.
    """
    if not timeout > 0:
        raise ValueError(f"grade_answer: timeout={timeout!r} is invalid; use a positive number")
    config = Config(deviations, float(timeout))
    return _shared_grader()._grade_all([(reference, text)], config)[0]
