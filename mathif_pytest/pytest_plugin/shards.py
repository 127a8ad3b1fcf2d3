"""``--mathif-shard I/N`` in pytest: deselect the MathIF cases of the other shards.

Registered only when the option is given. The share is decided per sample uid
(:mod:`mathif_pytest.batch.shards`), so the N shards of one command are disjoint and cover it
whatever else selects or adds cases (``-k``, ``-m``, suites).
"""

from __future__ import annotations

import pytest

from mathif_pytest.batch.shards import Shard
from mathif_pytest.pytest_plugin.collection import SPEC_KEY

__all__ = ["ShardSelection"]


class ShardSelection:
    """A pytest plugin object keeping one shard's MathIF cases (other tests are kept)."""

    def __init__(self, shard: Shard) -> None:
        """Keep the cases of ``shard``."""
        self.shard = shard

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Deselect the other shards' cases (collection hook, last: after cases are added)."""
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            spec = item.stash.get(SPEC_KEY, None)
            (keep if spec is None or self.shard.holds(spec.sample.uid) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
