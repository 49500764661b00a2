"""The cross-process lock that serialises the writers of one session.

A `filelock.FileLock` on `<session folder>/.lock` (an OS-level `flock` on POSIX,
released by the kernel if the holder dies, so a killed process never leaves a
session locked). Only writers take it; readers rely on atomic renames instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from tpr_widgets.errors import StoreError
from tpr_widgets.store.ids import short_id

__all__ = ["POLL_SECONDS", "locked"]

#: How often a waiting writer retries; commits hold the lock for milliseconds,
#: so a short interval keeps waiting writers fair and the UI responsive.
POLL_SECONDS = 0.005


@contextlib.contextmanager
def locked(session_dir: Path, session_id: str, timeout: float) -> Iterator[None]:
    """Hold the session's lock; `StoreError` ("busy") after `timeout` seconds."""
    lock = FileLock(session_dir / ".lock")
    try:
        lock.acquire(timeout=timeout, poll_interval=POLL_SECONDS)
    except Timeout:
        raise StoreError(
            f"The session {short_id(session_id)} is busy: another window or "
            f"process has been saving it for over {timeout:g} s. Try again in a "
            "moment."
        ) from None
    try:
        yield
    finally:
        lock.release()
