r"""Final-answer extraction: the official ``match_answer`` marker cascade and ``\boxed{}`` search.

Every cut below works like the official one, including its quirks: marker positions are found in
the lower-cased text but applied to the original, the LAST ``\boxed`` wins (``\fbox`` only when
there is no ``\boxed`` at all), an empty ``\boxed{}`` is ignored, and the trailing cuts run on
the box content too (``\boxed{x = 5}`` gives ``5``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Extraction", "extract"]

#: Cut after the last occurrence of each, one after another.
_AFTER_MARKERS = ("answer:", "answer is", "answers are")
#: Cut before the last occurrence of each, one after another.
_BEFORE_MARKERS = ("is answer", "is the answer", "are answers", "are the answers")
#: Applied to whatever is left (box content or text): keep what follows the last occurrence.
_TAIL_MARKERS = ("be ", "is ", "are ", "=", ": ", "get ", "be\n", "is\n", "are\n", ":\n", "get\n")
_HASH_MARK = "####"


@dataclass(frozen=True, slots=True)
class Extraction:
    """What :func:`extract` found: the answer string and how it was located."""

    answer: str
    boxed: bool
    hashed: bool = False


def _after_last(text: str, marker: str) -> str:
    index = text.lower().rfind(marker)
    return text if index == -1 else text[index + len(marker) :].strip()


def _before_last(text: str, marker: str) -> str:
    index = text.lower().rfind(marker)
    return text if index == -1 else text[:index].strip()


def last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed`` (else the last ``\fbox``) by brace matching, stripped.

    Like the official search, scanning starts at the command and takes the first ``{`` after it,
    wherever it is; ``None`` when there is no command, no brace, or the braces never balance.
    """
    start = text.rfind("\\boxed")
    if start < 0:
        start = text.rfind("\\fbox")
        if start < 0:
            return None
    opening = text.find("{", start)
    if opening < 0:
        return None
    depth = 0
    for position in range(opening, len(text)):
        char = text[position]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[opening + 1 : position].strip()
    return None


def _hash_answer(text: str) -> str | None:
    """The rest of the line after the last GSM8K-style ``####`` mark, if it is not empty."""
    start = text.rfind(_HASH_MARK)
    if start < 0:
        return None
    answer = text[start + len(_HASH_MARK) :].partition("\n")[0].strip()
    return answer or None


def extract(text: str, *, accept_hash_answer: bool = False) -> Extraction:
    r"""Run the official extraction cascade on the post-think answer segment.

    Args:
        text: the answer segment (see :func:`~mathif_pytest.grading.split_response`).
        accept_hash_answer: when no ``\boxed{}`` answer is found, use the rest of the line after
            the last ``####`` (then apply the same trailing cuts as to a box's content).

    Returns:
        The extracted answer; ``boxed`` tells whether it came from a ``\boxed{}``/``\fbox{}``.
    """
    response = text
    for marker in _AFTER_MARKERS:
        response = _after_last(response, marker)
    for marker in _BEFORE_MARKERS:
        response = _before_last(response, marker)
    boxed = last_boxed(response)
    hashed = None if boxed or not accept_hash_answer else _hash_answer(text)
    if boxed:
        response = boxed
    elif hashed is not None:
        response = hashed
    if ". " in response:
        cut = response.lower().rfind(". ")
        if cut != -1:
            response = response[:cut].strip()
    for marker in _TAIL_MARKERS:
        response = _after_last(response, marker)
    return Extraction(response, boxed=bool(boxed), hashed=hashed is not None)
