"""How long sessions are kept, and which ones are old enough to remove.

A session is removed once it has not been touched (opened, saved, or given new
data) for the retention period: `TPR_WIDGETS_RETENTION_DAYS` days, default 30.
"Touched" is read from the file times the store keeps up to date: the session
folder (refreshed by every load), its manifest (every commit) and its data
folder (every new data file). `FileStore.remove_expired` uses the functions here
and, in addition, skips any session whose writer lock is held at that moment,
so a session in use is never removed.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from tpr_widgets.errors import InputError

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "RETENTION_ENV",
    "TRASH_PREFIX",
    "last_touched",
    "old_sessions",
    "old_trash",
    "retention_seconds",
]

RETENTION_ENV = "TPR_WIDGETS_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 30
DAY_SECONDS = 86_400.0
#: A folder being deleted is renamed to this prefix first (see `FileStore.delete`).
TRASH_PREFIX = ".trash-"

_SESSION_NAME = re.compile(r"[0-9a-f]{32}", re.ASCII)


def retention_seconds(
    days: float | None = None, environ: Mapping[str, str] | None = None
) -> float:
    """The retention period in seconds: `days`, else the setting, else 30 days."""
    given = f"{days!r} days"
    if days is None:
        env = os.environ if environ is None else environ
        raw = (env.get(RETENTION_ENV) or "").strip()
        if not raw:
            return DEFAULT_RETENTION_DAYS * DAY_SECONDS
        given = f"the setting {RETENTION_ENV}={raw!r}"
        try:
            days = float(raw)
        except ValueError:
            days = float("nan")
    if not 0 < days < float("inf"):
        raise InputError(
            f"The retention period must be a positive number of days, but "
            f"{given} was given; use for example {DEFAULT_RETENTION_DAYS}, or unset "
            f"{RETENTION_ENV} for the default."
        )
    return float(days) * DAY_SECONDS


def last_touched(session_dir: Path) -> float:
    """The newest of the session folder's, manifest's and data folder's times."""
    newest = 0.0
    for path in (session_dir, session_dir / "manifest.json", session_dir / "data"):
        with contextlib.suppress(FileNotFoundError):
            newest = max(newest, path.stat(follow_symlinks=False).st_mtime)
    return newest


def old_sessions(sessions_dir: Path, cutoff: float) -> Iterator[str]:
    """Ids of session folders last touched before `cutoff` (a `time.time()`)."""
    with contextlib.suppress(FileNotFoundError), os.scandir(sessions_dir) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        if _SESSION_NAME.fullmatch(name) and last_touched(sessions_dir / name) < cutoff:
            yield name


def old_trash(sessions_dir: Path, cutoff: float) -> Iterator[Path]:
    """Folders left by a delete that stopped half-way, untouched since `cutoff`."""
    with contextlib.suppress(FileNotFoundError), os.scandir(sessions_dir) as entries:
        found = [Path(e.path) for e in entries if e.name.startswith(TRASH_PREFIX)]
    for path in found:
        with contextlib.suppress(FileNotFoundError):
            if path.stat(follow_symlinks=False).st_mtime < cutoff:
                yield path
