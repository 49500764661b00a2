"""What a checkpoint store is: the `Store` protocol and the records it returns.

The workflow is the only caller. It keeps one session's state as a small JSON
manifest (`Checkpoint.state`) plus big data objects written with `write_data` and
named in `Checkpoint.data` by their content hash. Every store (the `FileStore`
and the `RedisStore`) implements exactly this protocol, so the engine
never knows which one it is using.

Contract shared by all stores:

- `commit` is optimistic: the caller passes the revision it loaded, and the commit
  is refused with `ConflictError` if another window or process committed since.
- Nothing read back is trusted before its signature is verified; a file that
  fails verification raises `IntegrityError` and is never unpickled.
- Objects returned by `read_data` may be shared with later callers through a
  small cache; treat them as read-only (copy a DataFrame before changing it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["SCHEMA_VERSION", "Checkpoint", "SessionInfo", "Store"]

#: Version of the manifest layout this code writes and reads.
SCHEMA_VERSION: int = 2


@dataclass(frozen=True)
class Checkpoint:
    """One committed state of a session, as stored.

    `state` and `data` are fresh copies owned by the caller; changing them
    changes nothing on disk (commit a new checkpoint instead).
    """

    session_id: str
    #: 1 after the first commit, +1 per committed change.
    revision: int
    #: The JSON-safe workflow state, exactly as committed.
    state: dict[str, Any]
    #: Logical name (for example "table") -> data ref (sha256 hex of the pickle).
    data: dict[str, str]
    #: ISO-8601 UTC time of the commit.
    updated: str
    #: ISO-8601 UTC time of the session's first commit ("" if not known).
    created: str = ""


@dataclass(frozen=True)
class SessionInfo:
    """A one-line description of a stored session, for the researcher view.

    The public (Voilà) app must never list sessions: ids are secrets.
    """

    session_id: str
    revision: int
    updated: str
    #: `state["stage"]` when it is text, else None.
    stage: str | None
    #: `state["label"]` (for example the uploaded file name) when text, else None.
    label: str | None
    #: ISO-8601 UTC time of the session's first commit ("" if not known).
    created: str = ""

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> SessionInfo:
        """Describe `checkpoint` (stage and label only when they are text)."""
        stage = checkpoint.state.get("stage")
        label = checkpoint.state.get("label")
        return cls(
            session_id=checkpoint.session_id,
            revision=checkpoint.revision,
            updated=checkpoint.updated,
            stage=stage if isinstance(stage, str) else None,
            label=label if isinstance(label, str) else None,
            created=checkpoint.created,
        )


@runtime_checkable
class Store(Protocol):
    """A checkpoint store: session manifests plus signed, content-addressed data."""

    def load(self, session_id: str) -> Checkpoint:
        """Return the latest checkpoint of a session.

        Raises `InputError` if there is no such session, `IntegrityError` if its
        manifest fails verification, and `StoreError` if it was written by a newer
        version of tpr_widgets (schema above `SCHEMA_VERSION`).
        """
        ...

    def commit(
        self,
        session_id: str,
        expected_revision: int,
        state: Mapping[str, Any],
        data: Mapping[str, str],
    ) -> Checkpoint:
        """Write the next checkpoint of a session and return it.

        `expected_revision` 0 creates the session (`ConflictError` if it exists);
        otherwise it must equal the stored revision (`ConflictError` if another
        window or process committed since). Every ref in `data` must have been
        written with `write_data` for this session (`StoreError` otherwise).
        `state` must be plain JSON (see `jsonsafe.to_jsonable`; `TypeError` if
        not).
        """
        ...

    def write_data(self, session_id: str, obj: object) -> str:
        """Pickle, sign and store `obj`; return its ref (sha256 hex of the pickle).

        Idempotent. May be called before the session's first commit. A ref must be
        committed within 10 minutes or it may be cleaned up.
        """
        ...

    def read_data(self, session_id: str, ref: str) -> object:
        """Return the object stored under `ref`, verified before it is unpickled.

        Raises `IntegrityError` if the file is missing, damaged, tampered with or
        belongs to another session; `InputError` if `ref` is not a well-formed
        ref; `StoreError` if genuine data cannot be unpickled by this installation
        (saved by another version). Treat the result as read-only.
        """
        ...

    def sessions(self) -> list[SessionInfo]:
        """Return the readable sessions, newest first (unreadable ones are logged)."""
        ...

    def delete(self, session_id: str) -> None:
        """Remove a session and its data; do nothing if it does not exist."""
        ...

    def remove_expired(
        self, max_age_days: float | None = None, *, now: float | None = None
    ) -> list[str]:
        """Remove sessions untouched for `max_age_days` (default: the setting
        `TPR_WIDGETS_RETENTION_DAYS`, else 30); never one in use. Return their ids.
        """
        ...
