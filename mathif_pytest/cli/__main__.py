"""``python -m mathif_pytest.cli``: the ``mathif`` command without its console script."""

from __future__ import annotations

from mathif_pytest.cli import main

raise SystemExit(main())
