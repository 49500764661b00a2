"""The rules a commit follows, apart from the file handling around them.

`FileStore.commit` and `RedisStore.commit` use these so every store checks
arguments, revisions and cleanup the same way:

- `check_expected_revision` and `copy_plain` check the caller's arguments before
  anything is touched, and return copies the caller can no longer change.
- `check_refs` makes sure every ref a manifest names has its data file.
- `check_revision` is the optimistic-concurrency rule: 0 creates, otherwise the
  stored revision must be the one the caller loaded.
- `cleanup` removes data files named by neither the new nor the previous
  manifest, and temp files, once they are older than the grace period.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tpr_widgets.errors import ConflictError, InputError, StoreError
from tpr_widgets.store.base import Checkpoint
from tpr_widgets.store.fsutil import remove_stale_temps
from tpr_widgets.store.ids import short_id, validate_ref, validate_session_id
from tpr_widgets.store.jsonsafe import canonical_json, check_plain_json

__all__ = [
    "CLEANUP_GRACE_SECONDS",
    "check_expected_revision",
    "check_refs",
    "check_revision",
    "cleanup",
    "commit_arguments",
    "copy_plain",
    "missing_session",
    "next_checkpoint",
    "unknown_session",
    "unwritten_ref",
]

log = logging.getLogger(__name__)

#: Unreferenced data and temp files younger than this are never removed, so a
#: `write_data` whose ref is not committed yet keeps its file.
CLEANUP_GRACE_SECONDS = 600.0

_DATA_NAME = re.compile(r"([0-9a-f]{64})\.pkl", re.ASCII)


def check_expected_revision(expected_revision: object) -> None:
    """Refuse an `expected_revision` that is not an int >= 0."""
    if type(expected_revision) is not int:
        raise TypeError(
            "expected_revision must be an int (the revision you loaded, or 0 to "
            f"create the session), not {type(expected_revision).__name__}."
        )
    if expected_revision < 0:
        raise InputError(
            f"expected_revision {expected_revision} is negative; pass the revision "
            "you loaded, or 0 to create the session."
        )


def copy_plain(
    state: Mapping[str, Any], data: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check `state` is plain JSON and `data` maps names to refs; copy both.

    Raises `TypeError` for state that is not plain JSON (see `jsonsafe`) and
    `InputError` for a malformed ref.
    """
    if not isinstance(state, Mapping) or not isinstance(data, Mapping):
        raise TypeError(
            "state and data must be mappings (dicts), not "
            f"{type(state).__name__} and {type(data).__name__}."
        )
    state_dict, data_dict = dict(state), dict(data)
    check_plain_json(state_dict, "state")
    for name, ref in data_dict.items():
        if type(name) is not str:
            raise TypeError(f"data names must be text, not {name!r}.")
        validate_ref(ref)
    copied: dict[str, Any] = json.loads(canonical_json(state_dict))
    return copied, data_dict


def unwritten_ref(session_id: str, name: str, ref: str) -> StoreError:
    """The error for a commit naming data that is not (or no longer) stored."""
    return StoreError(
        f"The data {name!r} ({short_id(ref)}) was not written for session "
        f"{short_id(session_id)}, or was cleaned up. Call write_data for "
        "this session first, then commit its ref within "
        f"{CLEANUP_GRACE_SECONDS / 60:g} minutes."
    )


def commit_arguments(
    session_id: object,
    expected_revision: object,
    state: Mapping[str, Any],
    data: Mapping[str, str],
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Check a commit's arguments; return the session id and copies of both maps."""
    checked_id = validate_session_id(session_id)
    check_expected_revision(expected_revision)
    state_copy, data_copy = copy_plain(state, data)
    return checked_id, state_copy, data_copy


def check_refs(session_id: str, data: Mapping[str, str], session_dir: Path) -> None:
    """Raise `StoreError` unless every ref in `data` has a file in `session_dir`."""
    for name, ref in data.items():
        if not (session_dir / "data" / f"{ref}.pkl").is_file():
            raise unwritten_ref(session_id, name, ref)


def unknown_session(session_id: str) -> InputError:
    """The error for loading a session that is not in the store."""
    return InputError(
        f"There is no saved session with this id ({short_id(session_id)}) "
        "in this store. It may have expired or been deleted; start a new "
        "session."
    )


def next_checkpoint(
    session_id: str,
    expected_revision: int,
    state: dict[str, Any],
    data: dict[str, str],
    current: Checkpoint | None,
) -> Checkpoint:
    """The checkpoint a commit writes after `current` (None: the first one)."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    return Checkpoint(
        session_id=session_id,
        revision=expected_revision + 1,
        state=state,
        data=data,
        updated=now,
        created=current.created if current and current.created else now,
    )


def missing_session(session_id: str) -> InputError:
    """The error for a commit into a session that does not exist (any more)."""
    return InputError(
        f"There is no saved session with this id ({short_id(session_id)}) to save "
        "into; it may have been deleted in another window. Start a new session."
    )


def check_revision(session_id: str, expected: int, current: Checkpoint | None) -> None:
    """Raise `ConflictError` unless `expected` may follow the `current` checkpoint."""
    if expected == 0:
        if current is not None:
            raise ConflictError(
                f"A session with this id ({short_id(session_id)}) already exists "
                f"(revision {current.revision}); load it instead of creating it."
            )
        return
    if current is None:
        raise missing_session(session_id)
    if current.revision != expected:
        raise ConflictError(
            "This session was changed in another window or process (revision "
            f"{current.revision}, you had {expected}); reload it."
        )


def cleanup(session_dir: Path, keep: set[str], grace: float) -> int:
    """Remove old unreferenced data files and temp files of one session.

    The caller holds the session lock. Errors are logged, not raised: the commit
    that triggered the cleanup has already succeeded, and leftovers are retried
    at the next commit. Returns the number of files removed.
    """
    data_dir = session_dir / "data"
    cutoff = time.time() - grace
    removed = 0
    try:
        removed += remove_stale_temps(session_dir, grace)
        removed += remove_stale_temps(data_dir, grace)
        with os.scandir(data_dir) as entries:
            for entry in entries:
                match = _DATA_NAME.fullmatch(entry.name)
                if match is None or match.group(1) in keep:
                    continue
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
    except FileNotFoundError:
        pass
    except OSError as error:
        log.warning(
            "cleanup of session %s stopped: %s",
            short_id(session_dir.name),
            error.strerror or type(error).__name__,
        )
    if removed:
        log.info(
            "cleaned %d old file(s) of session %s", removed, short_id(session_dir.name)
        )
    return removed
