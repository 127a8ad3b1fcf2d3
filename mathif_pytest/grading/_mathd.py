r"""The Hendrycks MATH answer normalisation: the first, pure-string equality test of the grader.

Reimplemented from its documented behaviour (``MATHIF_PROTOCOL.md`` §2, "Grading"). A malformed
answer (a dangling ``\frac`` or ``\sqrt``, two ``\text{ `` unit groups) makes the official code
raise halfway and fall back to the stripped input; :class:`_Malformed` plays that role here.
"""

from __future__ import annotations

import re

from mathif_pytest.grading._memo import memoized

__all__ = ["normalize_answer"]

_TEXT_WRAPPER = re.compile(r"^\\text\{(?P<text>.+?)\}$")
_DELETIONS = ("\n", "\\!")
_REPLACEMENTS = (
    ("\\\\", "\\"),
    ("tfrac", "frac"),
    ("dfrac", "frac"),
    ("\\left", ""),
    ("\\right", ""),
    ("^{\\circ}", ""),
    ("^\\circ", ""),
    ("\\$", ""),
)


class _Malformed(Exception):
    """The answer trips one of the official helpers; the caller returns its input unchanged."""


def _drop_unit_suffix(text: str) -> str:
    r"""Cut a trailing ``\text{ unit}`` (only when there is exactly one)."""
    pieces = text.split("\\text{ ")
    if len(pieces) == 1:
        return text
    if len(pieces) != 2:
        raise _Malformed
    return pieces[0]


def _brace_sqrt(text: str) -> str:
    r"""``\sqrt3`` → ``\sqrt{3}``: brace a one-character radicand."""
    pieces = text.split("\\sqrt")
    out = [pieces[0]]
    for piece in pieces[1:]:
        if not piece:
            raise _Malformed
        out.append("\\sqrt" + (piece if piece[0] == "{" else "{" + piece[0] + "}" + piece[1:]))
    return "".join(out)


def _brace_fracs(text: str) -> str:
    r"""``\frac12`` → ``\frac{1}{2}``, ``\frac1{72}`` → ``\frac{1}{72}``."""
    pieces = text.split("\\frac")
    out = [pieces[0]]
    for piece in pieces[1:]:
        if not piece:
            raise _Malformed
        if piece[0] == "{":
            out.append("\\frac" + piece)
            continue
        if len(piece) < 2:
            return text
        first, second, rest = piece[0], piece[1], piece[2:]
        braced = "{" + first + "}" + (second if second == "{" else "{" + second + "}")
        out.append("\\frac" + braced + rest)
    return "".join(out)


def _slash_to_frac(text: str) -> str:
    r"""``3/4`` → ``\frac{3}{4}`` when both sides are plain integers written canonically."""
    pieces = text.split("/")
    if len(pieces) != 2:
        return text
    try:
        numerator, denominator = int(pieces[0]), int(pieces[1])
    except ValueError:
        return text
    if text != f"{numerator}/{denominator}":
        return text
    return "\\frac{" + str(numerator) + "}{" + str(denominator) + "}"


def _strip(text: str) -> str:
    for deleted in _DELETIONS:
        text = text.replace(deleted, "")
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    text = _drop_unit_suffix(text).replace("\\%", "")
    text = text.replace(" .", " 0.").replace("{.", "{0.")
    if not text:
        return text
    if text[0] == ".":
        text = "0" + text
    sides = text.split("=")
    if len(sides) == 2 and len(sides[0]) <= 2:
        text = sides[1]
    text = _brace_fracs(_brace_sqrt(text).replace(" ", ""))
    if text == "0.5":
        text = "\\frac{1}{2}"
    return _slash_to_frac(text)


@memoized
def normalize_answer(answer: str) -> str:
    r"""Normalise an answer the Hendrycks way (spaces, ``\left``, units, ``\frac12``, ``a/b``...).

    Args:
        answer: a reference or an extracted answer.

    Returns:
        The normalised string; two answers with equal normalisations are graded correct.
    """
    answer = answer.strip()
    match = _TEXT_WRAPPER.search(answer)
    if match is not None:
        answer = match.group("text").strip()
    try:
        return _strip(answer)
    except _Malformed:
        return answer
