"""Crash-safe file writes for the file store.

A file is never written in place. Its bytes go to a unique temporary file in the
same directory (`tempfile.mkstemp`, so two writers never share a temp name),
which is flushed and fsynced, then renamed over the target with `os.replace`
(atomic), and finally the directory itself is fsynced so the rename survives a
power cut. A crash at any instant leaves either the old file or the new one.
Temporary files orphaned by a crash are removed later by `remove_stale_temps`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "TEMP_PREFIX",
    "atomic_write",
    "fsync_dir",
    "make_private_dir",
    "remove_stale_temps",
]

#: Every temporary file of the store starts with this (and nothing else does).
TEMP_PREFIX = ".tmp-"

_WINDOWS = sys.platform == "win32"


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries to disk (no-op on Windows, which cannot)."""
    if _WINDOWS:
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> None:
    """Create `path` (mode 0700) and its parents if missing, durably."""
    if path.is_dir():
        return
    make_private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
        fsync_dir(path.parent)


def atomic_write(path: Path, *chunks: bytes) -> None:
    """Replace `path` with the concatenated `chunks`, atomically and durably."""
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


def remove_stale_temps(directory: Path, older_than: float) -> int:
    """Remove temp files in `directory` not modified for `older_than` seconds."""
    removed = 0
    cutoff = time.time() - older_than
    with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file(follow_symlinks=False) and (
                    entry.stat(follow_symlinks=False).st_mtime < cutoff
                ):
                    os.unlink(entry.path)
                    removed += 1
    return removed
