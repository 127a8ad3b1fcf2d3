"""CI shards: ``--mathif-shard I/N`` keeps a stable, hash-based share of the selected cases.

A case belongs to shard ``sha256(uid) mod N``: the same on every machine and Python (no
``hash()`` salt), independent of which other cases are selected, so the N shards of one command
are disjoint and together cover it. A sample in two suites (constrained and not) lands in the
same shard, so each shard's store holds whole samples.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Shard", "parse_shard"]

_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, uid: str) -> bool:
        """Whether the sample ``uid`` belongs to this shard."""
        digest = hashlib.sha256(uid.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index


def parse_shard(text: str) -> Shard:
    """Read ``I/N`` (``0 <= I < N``).

    Raises:
        ValueError: another form, or ``I`` out of range (the message shows the right form).
    """
    found = _FORM.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not I/N; use e.g. 0/4 (the first of four shards)")
    index, count = int(found.group(1)), int(found.group(2))
    if count < 1 or index >= count:
        raise ValueError(
            f"{text!r} is out of range: shards of {count} are numbered 0 to {max(count - 1, 0)}"
        )
    return Shard(index=index, count=count)
