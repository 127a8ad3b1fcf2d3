"""Split a raw model response into its reasoning and the answer segment the official scorer reads.

The official ``eval_if.py`` cuts every response with four string rules before it checks constraints
and grades correctness (``MATHIF_PROTOCOL.md`` §2, "Post-processing"), and throws the rest away.
:func:`split_response` applies the same rules and also keeps what they discard.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ResponseParts", "split_response"]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
ANSWER_OPEN = "<answer>"
ANSWER_CLOSE = "</answer>"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseParts:
    """One response, cut the way the official scorer cuts it.

    Attributes:
        raw: the response exactly as the model produced it.
        answer: the segment the official evaluator checks constraints on and grades.
        thinking: the reasoning: the text before the first ``</think>``, from after the first
            ``<think>`` if there is one before it; everything after ``<think>`` when the tag is
            never closed; ``""`` when the response has no think tag at all.
        think_opened: the response contains ``<think>``, or the prompt opened it (a chat
            template that pre-fills ``<think>``, as R1-distill, QwQ and Qwen3 do).
        think_closed: the response contains ``</think>``.
    """

    raw: str
    answer: str
    thinking: str
    think_opened: bool
    think_closed: bool


def _segment(text: str, delimiter: str, index: int) -> str:
    """The ``index``-th piece of ``text`` split at ``delimiter`` (the official ``split(d)[i]``)."""
    return text.split(delimiter, index + 1)[index]


def _official_answer(raw: str) -> str:
    """Apply the four official cuts, in the official order, to ``raw``."""
    text = raw
    if THINK_OPEN in text:
        text = _segment(text, THINK_OPEN, 1)
    if THINK_CLOSE in text:
        text = _segment(text, THINK_CLOSE, 1)
    if ANSWER_OPEN in text:
        text = _segment(text, ANSWER_OPEN, 1)
    if ANSWER_CLOSE in text:
        text = _segment(text, ANSWER_CLOSE, 0)
    return text


def _thinking(raw: str, *, opened: bool, closed: bool) -> str:
    """The reasoning text of ``raw``; see :class:`ResponseParts`."""
    if not (opened or closed):
        return ""
    text = raw.partition(THINK_CLOSE)[0] if closed else raw
    if THINK_OPEN in text:
        text = text.partition(THINK_OPEN)[2]
    return text


def split_response(
    text: str, *, unclosed_thinking_fails: bool = False, thinking_prefilled: bool = False
) -> ResponseParts:
    """Cut a response into the official answer segment and the reasoning it discards.

    The answer segment follows the official ``eval_if.py`` rules, applied in this order:

    1. if ``<think>`` occurs, keep the text after the first one, up to a second one if any;
    2. if ``</think>`` occurs, keep the text between the first and the second ``</think>``
       (or to the end);
    3. if ``<answer>`` occurs, keep the text after the first one;
    4. if ``</answer>`` occurs, keep the text before the first one.

    So ``"a</think>b</think>c"`` gives ``"b"``, ``"<think>a<think>b</think>c"`` gives ``"a"``
    and ``"x</think><answer>y</answer>z"`` gives ``"y"``.

    **A missing delimiter** is not an error. Officially, a response without ``</think>`` (a model
    without think tags, or one truncated at the token limit while still reasoning) is checked and
    graded as a whole, reasoning included. With ``unclosed_thinking_fails=True`` (the
    ``Deviations`` field of that name) a response that opens ``<think>`` but never closes it gets
    an empty answer instead, so that a truncated chain of thought can neither satisfy a
    constraint nor be graded correct by accident. A response with no think tag at all is not
    affected.

    Args:
        text: the raw model response.
        unclosed_thinking_fails: score an unclosed ``<think>`` as an empty answer.
        thinking_prefilled: the prompt already opened ``<think>`` (the chat template pre-fills
            it), so the response is inside the thinking from its start: it counts as opened.
            The answer segment is still cut from the raw text, as officially.

    Returns:
        The parts; ``answer`` is the exact string the official evaluator checks and grades
        (or ``""`` under the deviation above).
    """
    opened = thinking_prefilled or THINK_OPEN in text
    closed = THINK_CLOSE in text
    answer = "" if unclosed_thinking_fails and opened and not closed else _official_answer(text)
    return ResponseParts(
        raw=text,
        answer=answer,
        thinking=_thinking(text, opened=opened, closed=closed),
        think_opened=opened,
        think_closed=closed,
    )
