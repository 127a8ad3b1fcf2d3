"""Language checker ``language:response_language``, and deterministic language detection."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import ClassVar

from mathif_pytest.constraints._args import ACCEPTS, VALIDATE
from mathif_pytest.constraints._base import Verdict
from mathif_pytest.constraints._langdetect import detector_class as _detector_class
from mathif_pytest.constraints._langdetect import factory as _factory
from mathif_pytest.constraints._langdetect import profiles_dir as _profiles_dir

__all__ = ["ResponseLanguage", "detect_language", "supported_languages"]


@functools.cache
def supported_languages() -> frozenset[str]:
    """The codes langdetect can return ("es", "zh-cn", ...), read from its profile files."""
    return frozenset(p.name for p in _profiles_dir().iterdir() if not p.name.startswith("."))


def _language_problem(code: str) -> str | None:
    """Why ``code`` is not a language langdetect can detect, or None if it is one."""
    known = supported_languages()
    if code in known:
        return None
    regional = [k for k in sorted(known) if k.startswith(code.lower() + "-")]  # "zh" -> "zh-cn"
    hint = regional or difflib.get_close_matches(code.lower(), sorted(known), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"is not a language langdetect can detect (got {code!r}){suggestion}"


def detect_language(text: str) -> str | None:
    """Detect the language of ``text`` like ``langdetect.detect``, but deterministically.

    Args:
        text: any text.

    Returns:
        A langdetect code such as "en", or None where langdetect raises (no letters at all: "123").
    """
    factory, undetectable = _factory()
    detector = _detector_class()(factory)
    detector.append(text)
    try:
        return str(detector.detect())
    except undetectable:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseLanguage:
    """The whole response (maths and LaTeX included) must be detected as ``language``.

    As officially, text whose language cannot be detected at all counts as followed.
    """

    constraint_id: ClassVar[str] = "language:response_language"
    language: str = field(
        metadata={VALIDATE: _language_problem, ACCEPTS: "a langdetect code such as 'es' or 'zh-cn'"}
    )

    def check(self, response: str) -> Verdict:
        """Judge one response; see the class docstring."""
        found = detect_language(response)
        if found is None:
            detail = (
                "language could not be detected (no letters); counted as followed, as officially"
            )
            return Verdict(constraint_id=self.constraint_id, followed=True, detail=detail)
        followed = found == self.language
        detail = f"detected language {found!r}; needs {self.language!r}"
        return Verdict(constraint_id=self.constraint_id, followed=followed, detail=detail)
