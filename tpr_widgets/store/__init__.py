"""Session checkpoints: where the workflow saves and resumes its state.

Every user action ends in a checkpoint: a small signed JSON manifest (the
workflow state, with a revision) plus signed, content-addressed pickles for big
data. Any process that shares the store resumes the session exactly; the public
Voilà app relies on it, so the store is a security boundary (ids are checked,
files are verified before anything is unpickled).

Use `open_store()` to get a `Store`: a `FileStore` for a folder, a `RedisStore`
for a `redis://` URL (several machines). The workflow codes against the `Store`
protocol only and never knows which one it is using.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tpr_widgets.errors import StoreError
from tpr_widgets.store.base import SCHEMA_VERSION, Checkpoint, SessionInfo, Store
from tpr_widgets.store.filestore import FileStore
from tpr_widgets.store.ids import new_session_id, validate_session_id
from tpr_widgets.store.redisstore import RedisStore

__all__ = [
    "HOME_ENV",
    "SCHEMA_VERSION",
    "Checkpoint",
    "FileStore",
    "RedisStore",
    "SessionInfo",
    "Store",
    "default_root",
    "new_session_id",
    "open_store",
    "validate_session_id",
]

#: Environment variable naming the store root when `open_store` gets none.
HOME_ENV = "TPR_WIDGETS_HOME"

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_NEAR_REDIS = re.compile(r"\s*rediss?\s*:", re.IGNORECASE)


def default_root() -> Path:
    """The store root used when none is given: `~/.tpr_widgets`."""
    return Path.home() / ".tpr_widgets"


def open_store(root: str | os.PathLike[str] | None = None) -> Store:
    """Open the checkpoint store at `root`, creating it (mode 0700) if missing.

    `root` None means `$TPR_WIDGETS_HOME`, else `~/.tpr_widgets`. A path gives a
    `FileStore`; a `redis://` or `rediss://` URL gives a `RedisStore` (which needs
    `TPR_WIDGETS_SECRET`). Any other URL is refused rather than taken for a folder
    name.
    """
    if root is None:
        root = os.environ.get(HOME_ENV) or default_root()
    text = os.fspath(root)
    if text.lower().startswith(("redis://", "rediss://")):
        return RedisStore(text)
    if _NEAR_REDIS.match(text):
        # Not a folder anybody means: taking it for one would put sessions (and
        # any password in it) in a local folder, not shared with other machines.
        raise StoreError(
            "The store location looks like a Redis URL but is not written "
            "redis://host:port/db (check for spaces around it and for both "
            "slashes). Give it exactly, or give a folder path."
        )
    if _URL.match(text):
        raise StoreError(
            f"The store location {text.split('://')[0][:20]!r}://... looks like a "
            "URL, but only folder paths and redis:// URLs are supported. Give a "
            "folder path, or redis://host:port/db."
        )
    return FileStore(text)
