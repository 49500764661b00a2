"""The checkpoint store on a (possibly shared) filesystem.

Layout under the store root::

    .secret                          signing key, unless TPR_WIDGETS_SECRET is set
    sessions/<id>/manifest.json      the signed checkpoint (see `manifest`)
    sessions/<id>/data/<ref>.pkl     signed pickles (see `datafile`)
    sessions/<id>/.lock              cross-process lock of the session's writers
    sessions/.trash-<id>-<hex>/      a session being deleted (never loaded)

Guarantees:

- Reads take no lock: the manifest is only ever replaced atomically
  (`fsutil.atomic_write`), so a reader sees the previous or the next checkpoint.
- `commit` holds the session lock while it reads and verifies the current
  manifest, compares revisions, writes the new manifest and cleans up. Data files
  are fsynced before the manifest that names them is written.
- Cleanup after a commit removes data files named by neither the new nor the
  previous manifest, and temp files, once they are older than
  `CLEANUP_GRACE_SECONDS`, so a concurrent `write_data` whose ref is not yet
  committed keeps its file (commit a written ref within that time).
- `remove_expired` removes sessions untouched for the retention period (see
  `retention`); a load refreshes the session folder's time, and a session whose
  lock is held is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tpr_widgets.errors import (
    StoreError,
    StoreUnavailableError,
    TPRWidgetsError,
)
from tpr_widgets.store import datafile
from tpr_widgets.store._lru import LRUCache
from tpr_widgets.store.base import Checkpoint, SessionInfo
from tpr_widgets.store.fsutil import atomic_write, make_private_dir
from tpr_widgets.store.ids import short_id, validate_ref, validate_session_id
from tpr_widgets.store.locking import locked
from tpr_widgets.store.manifest import decode_manifest, encode_manifest
from tpr_widgets.store.retention import (
    TRASH_PREFIX,
    last_touched,
    old_sessions,
    old_trash,
    retention_seconds,
)
from tpr_widgets.store.rules import (
    CLEANUP_GRACE_SECONDS,
    check_refs,
    check_revision,
    cleanup,
    commit_arguments,
    missing_session,
    next_checkpoint,
    unknown_session,
)
from tpr_widgets.store.signing import load_keyring

__all__ = ["CLEANUP_GRACE_SECONDS", "FileStore"]

log = logging.getLogger(__name__)

_SESSION_NAME = re.compile(r"[0-9a-f]{32}", re.ASCII)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class FileStore:
    """A `Store` in a folder, safe for several processes sharing that folder.

    The signing keys are read when the store is opened. Objects returned by
    `read_data` may come from a small in-process cache (`cache_size` entries,
    0 disables it) and must be treated as read-only.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        lock_timeout: float = 10.0,
        cache_size: int = 4,
    ) -> None:
        self.root = Path(root).expanduser()
        try:
            make_private_dir(self.root / "sessions")
        except OSError as error:
            raise StoreError(
                f"The store folder {self.root} could not be created ({error}). "
                "Choose a writable folder with TPR_WIDGETS_HOME."
            ) from None
        self._keys = load_keyring(self.root)
        self._lock_timeout = lock_timeout
        self._cache = LRUCache(cache_size)

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r})"

    # -- paths and locking -------------------------------------------------

    def _session_dir(self, session_id: str) -> Path:
        return self.root / "sessions" / session_id

    def _data_path(self, session_id: str, ref: str) -> Path:
        return self._session_dir(session_id) / "data" / f"{ref}.pkl"

    def _locked(self, session_id: str) -> contextlib.AbstractContextManager[None]:
        return locked(self._session_dir(session_id), session_id, self._lock_timeout)

    def _failed(self, session_id: str, action: str, error: OSError) -> StoreError:
        # The folder goes to the log only, since the message may be shown to the
        # public; the file name is left out of both, since it holds the full id.
        log.warning(
            "session %s could not be %s under %s: %s (errno %s)",
            short_id(session_id),
            action,
            self.root,
            error.strerror or type(error).__name__,
            error.errno,
        )
        return StoreUnavailableError(
            f"The session {short_id(session_id)} could not be {action} "
            f"({error.strerror or type(error).__name__}). The store folder may be "
            "unreachable, read-only or full; try again, or tell the administrator. "
            "The session is at its last complete checkpoint."
        )

    # -- manifests -----------------------------------------------------------

    def _read_current(self, session_id: str) -> Checkpoint | None:
        path = self._session_dir(session_id) / "manifest.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        return decode_manifest(self._keys, session_id, raw)

    def load(self, session_id: str) -> Checkpoint:
        session_id = validate_session_id(session_id)
        start = time.perf_counter()
        try:
            checkpoint = self._read_current(session_id)
        except OSError as error:
            raise self._failed(session_id, "loaded", error) from None
        if checkpoint is None:
            raise unknown_session(session_id)
        self.touch(session_id)
        log.info(
            "loaded session %s revision %d in %.1f ms",
            short_id(session_id),
            checkpoint.revision,
            _ms(start),
        )
        return checkpoint

    def commit(
        self,
        session_id: str,
        expected_revision: int,
        state: Mapping[str, Any],
        data: Mapping[str, str],
    ) -> Checkpoint:
        session_id, state_copy, data_copy = commit_arguments(
            session_id, expected_revision, state, data
        )
        start = time.perf_counter()

        try:
            if expected_revision == 0:
                make_private_dir(self._session_dir(session_id))
            elif not self._session_dir(session_id).is_dir():
                raise missing_session(session_id)
            with self._locked(session_id):
                current = self._read_current(session_id)
                check_revision(session_id, expected_revision, current)
                check_refs(session_id, data_copy, self._session_dir(session_id))
                checkpoint = next_checkpoint(
                    session_id, expected_revision, state_copy, data_copy, current
                )
                manifest = encode_manifest(self._keys, checkpoint)
                atomic_write(self._session_dir(session_id) / "manifest.json", manifest)
                keep = set(data_copy.values())
                keep.update(current.data.values() if current else ())
                cleanup(self._session_dir(session_id), keep, CLEANUP_GRACE_SECONDS)
        except OSError as error:
            raise self._failed(session_id, "saved", error) from None

        log.info(
            "committed session %s revision %d (%d bytes) in %.1f ms",
            short_id(session_id),
            checkpoint.revision,
            len(manifest),
            _ms(start),
        )
        return checkpoint

    # -- data files ----------------------------------------------------------

    def write_data(self, session_id: str, obj: object) -> str:
        session_id = validate_session_id(session_id)
        start = time.perf_counter()
        ref, header, pickled = datafile.encode(self._keys, session_id, obj)
        path = self._data_path(session_id, ref)

        try:
            if self._still_valid(session_id, ref, path):
                return ref
            make_private_dir(path.parent)
            atomic_write(path, header, pickled)
        except OSError as error:
            raise self._failed(session_id, "saved", error) from None

        log.info(
            "wrote data %s of session %s (%d bytes) in %.1f ms",
            short_id(ref),
            short_id(session_id),
            len(pickled),
            _ms(start),
        )
        return ref

    def _still_valid(self, session_id: str, ref: str, path: Path) -> bool:
        """True if `path` already holds this ref, refreshed against cleanup."""
        try:
            datafile.verify(self._keys, session_id, ref, path.read_bytes())
        except (FileNotFoundError, TPRWidgetsError):
            return False
        # Touch it under the lock: cleanup (also under the lock) then either ran
        # before (the file is gone, so we rewrite it) or sees a fresh mtime.
        with self._locked(session_id):
            try:
                os.utime(path)
            except FileNotFoundError:
                return False
        return True

    def read_data(self, session_id: str, ref: str) -> object:
        session_id = validate_session_id(session_id)
        ref = validate_ref(ref)
        hit, cached = self._cache.get((session_id, ref))
        if hit:
            return cached

        path = self._data_path(session_id, ref)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise datafile.refuse(session_id, ref, "the file is missing") from None
        except OSError as error:
            raise self._failed(session_id, "read", error) from None
        pickled = datafile.verify(self._keys, session_id, ref, raw)
        obj = datafile.unpickle(session_id, ref, pickled)
        self._cache.put((session_id, ref), obj)
        return obj

    # -- listing and deleting ------------------------------------------------

    def sessions(self) -> list[SessionInfo]:
        found: list[SessionInfo] = []
        try:
            names = sorted(os.listdir(self.root / "sessions"))
        except OSError as error:
            raise StoreError(
                f"The store folder {self.root} could not be listed ({error}). "
                "Check that it exists and is readable."
            ) from None
        for name in names:
            if _SESSION_NAME.fullmatch(name) is None:
                continue
            try:
                checkpoint = self._read_current(name)
            except TPRWidgetsError as error:
                log.warning("skipped session %s: %s", short_id(name), error)
                continue
            except OSError as error:
                log.warning("skipped session %s: %s", short_id(name), error.strerror)
                continue
            if checkpoint is None:
                log.debug("skipped session %s: nothing committed", short_id(name))
                continue
            found.append(SessionInfo.from_checkpoint(checkpoint))
        found.sort(key=lambda info: (info.updated, info.revision), reverse=True)
        return found

    def delete(self, session_id: str) -> None:
        session_id = validate_session_id(session_id)
        if self._session_dir(session_id).is_dir():
            try:
                with self._locked(session_id):
                    trash = self._take_away(session_id)
            except OSError as error:
                raise self._failed(session_id, "deleted", error) from None
            self._finish_removal(session_id, trash)
        self._cache.forget_session(session_id)

    def _take_away(self, session_id: str) -> Path:
        """Make the session unloadable in one step (lock held); return the rest."""
        session_dir = self._session_dir(session_id)
        suffix = secrets.token_hex(4)
        trash = session_dir.with_name(f"{TRASH_PREFIX}{session_id}-{suffix}")
        try:
            # One atomic step: from here no process can load the session.
            os.replace(session_dir, trash)
        except OSError:
            # Note: Windows cannot rename a folder holding an open lock
            # file; removing the manifest is then the commit point.
            (session_dir / "manifest.json").unlink(missing_ok=True)
            return session_dir
        return trash

    def _finish_removal(self, session_id: str, trash: Path) -> None:
        # Note: a crash right here leaves a `.trash-*` folder; it can no longer be
        # loaded or listed, and `remove_expired` removes it later.
        shutil.rmtree(trash, ignore_errors=True)
        self._cache.forget_session(session_id)
        log.info("deleted session %s", short_id(session_id))

    # -- retention -----------------------------------------------------------

    def touch(self, session_id: str) -> None:
        """Record that a session was opened, so retention counts from now."""
        session_id = validate_session_id(session_id)
        try:
            os.utime(self._session_dir(session_id))
        except OSError as error:  # a read-only store still resumes
            log.debug("could not touch session %s: %s", short_id(session_id), error)

    def remove_expired(
        self, max_age_days: float | None = None, *, now: float | None = None
    ) -> list[str]:
        """Remove sessions not touched for `max_age_days`; return their ids.

        `max_age_days` None means `TPR_WIDGETS_RETENTION_DAYS`, else 30. A session
        that was touched within the period, or whose lock is held (someone is
        saving it), is left alone; so is anything that is not a session folder.
        """
        cutoff = (time.time() if now is None else now) - retention_seconds(max_age_days)
        sessions_dir = self.root / "sessions"
        removed: list[str] = []
        for session_id in old_sessions(sessions_dir, cutoff):
            session_dir = self._session_dir(session_id)
            try:
                with locked(session_dir, session_id, 0.0):
                    # Checked again under the lock: a commit may just have landed.
                    if last_touched(session_dir) >= cutoff:
                        continue
                    trash = self._take_away(session_id)
            except StoreError:
                log.info("kept session %s: it is in use", short_id(session_id))
                continue
            except OSError as error:
                log.warning(
                    "could not remove old session %s: %s",
                    short_id(session_id),
                    error.strerror or type(error).__name__,
                )
                continue
            self._finish_removal(session_id, trash)
            removed.append(session_id)
        for trash in old_trash(sessions_dir, cutoff):
            shutil.rmtree(trash, ignore_errors=True)
        if removed:
            log.info(
                "removed %d session(s) older than the retention period", len(removed)
            )
        return removed
