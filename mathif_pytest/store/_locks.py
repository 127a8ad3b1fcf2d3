"""File locks beside the store that record their holder, so a wait that times out names it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from mathif_pytest.errors import StoreError

__all__ = ["held_lock", "lock_holder"]


@contextmanager
def held_lock(path: Path, purpose: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the file lock ``path``, waiting at most ``timeout`` seconds (None: as long as it takes).

    While held, ``<path>.holder`` records this process (pid, host, purpose, since when), so that
    another process that times out waiting can say who is in the way.

    Raises:
        StoreError: the lock could not be had in time (naming the holder when known), or the
            lock file cannot be created (a read-only directory).
    """
    lock = FileLock(str(path), timeout=-1 if timeout is None else timeout)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(
            f"{path}: could not get the lock for {purpose} within {timeout:g} s; it is held by "
            f"{lock_holder(path)}; wait for that process or end it, or pass --mathif-store "
            "elsewhere"
        ) from None
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot create the lock file for {purpose} ({exc.strerror or exc}); the "
            "store's directory must be writable, or pass --mathif-store elsewhere"
        ) from None
    holder = _holder_path(path)
    try:
        _write_holder(holder, purpose)
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def lock_holder(path: Path) -> str:
    """Who holds the lock ``path``, as :func:`held_lock` recorded it, else "an unknown process"."""
    try:
        info = json.loads(_holder_path(path).read_text(encoding="utf-8"))
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(info["since"])))
        return f"pid {info['pid']} on {info['host']} ({info['purpose']}, since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "an unknown process"


def _holder_path(path: Path) -> Path:
    return path.with_name(path.name + ".holder")


def _write_holder(holder: Path, purpose: str) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose}
    with contextlib.suppress(OSError):  # only a courtesy to a waiting process's error message
        holder.write_text(json.dumps({**info, "since": time.time()}), encoding="utf-8")
