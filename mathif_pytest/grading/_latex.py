"""LaTeX to plain text, as the official PRM800K normalisation does it (through ``pylatexenc``).

``pylatexenc`` is imported on first use, so importing the grading package stays cheap.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from mathif_pytest.grading._memo import memoized

__all__ = ["latex_to_text"]

_FRACTION_SPELLINGS = (("\\tfrac", "\\frac"), ("\\dfrac", "\\frac"), ("\\frac", " \\frac"))
_SYMBOLS = (
    ("\u221a", "sqrt"),  # √
    ("\u03c0", "pi"),  # π
    ("\u221e", "inf"),  # ∞
    ("\u222a", "U"),  # union
    ("\u00b7", "*"),  # middle dot
    ("\u00d7", "*"),  # multiplication sign
)


class _Converter(Protocol):
    def latex_to_text(self, latex: str) -> str: ...


@cache
def _converter() -> _Converter:
    from pylatexenc import latex2text

    # pylatexenc reports malformed LaTeX through `logging`; keep it off the user's stderr.
    logging.getLogger("pylatexenc").addHandler(logging.NullHandler())
    converter: _Converter = latex2text.LatexNodes2Text()
    return converter


@memoized
def latex_to_text(expr: str) -> str:
    r"""Render LaTeX as text and spell the symbols the grader's expression parser expects.

    ``\dfrac``/``\tfrac`` become ``\frac`` and a space goes before each ``\frac`` (so that
    ``7\frac{3}{4}`` reads as a mixed number); then the square root, pi, infinity, union,
    middle-dot and multiplication signs become ``sqrt pi inf U * *``.

    Raises:
        Exception: whatever ``pylatexenc`` raises on input it cannot handle (including
            ``RecursionError`` on very deep nesting); the caller keeps the input unchanged.
    """
    for old, new in _FRACTION_SPELLINGS:
        expr = expr.replace(old, new)
    text = _converter().latex_to_text(expr)
    for old, new in _SYMBOLS:
        text = text.replace(old, new)
    return text.strip()
