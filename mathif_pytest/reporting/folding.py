"""Long texts cut to their beginning and end, for reports that must stay small."""

from __future__ import annotations

__all__ = ["fold"]


def fold(text: str, limit: int) -> tuple[str, int]:
    """``text`` cut to its first and last ``limit // 2`` characters; and how many were cut."""
    if len(text) <= limit:
        return text, 0
    half = limit // 2
    cut = len(text) - 2 * half
    return f"{text[:half]}\n\n[… {cut:,} characters not shown …]\n\n{text[-half:]}", cut
