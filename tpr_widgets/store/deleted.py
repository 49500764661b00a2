"""The store a `Workflow` holds after its session was deleted: it refuses all.

Swapping the real store for this one makes every later action of that workflow
object fail with one clear message before anything is written, so no data of a
deleted session can be saved again by a window that still shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tpr_widgets.errors import InputError
from tpr_widgets.store.base import Checkpoint, SessionInfo
from tpr_widgets.store.ids import short_id

__all__ = ["DeletedStore"]


class DeletedStore:
    """A `Store` for one deleted session: every call raises `InputError`."""

    def __init__(self, session_id: str) -> None:
        self._session_id = session_id

    def __repr__(self) -> str:
        return f"DeletedStore({short_id(self._session_id)!r})"

    def _refuse(self) -> InputError:
        return InputError(
            f"The session {short_id(self._session_id)} and its data were deleted; "
            "nothing more can be saved in it. Start a new session."
        )

    def load(self, session_id: str) -> Checkpoint:
        raise self._refuse()

    def commit(
        self,
        session_id: str,
        expected_revision: int,
        state: Mapping[str, Any],
        data: Mapping[str, str],
    ) -> Checkpoint:
        raise self._refuse()

    def write_data(self, session_id: str, obj: object) -> str:
        raise self._refuse()

    def read_data(self, session_id: str, ref: str) -> object:
        raise self._refuse()

    def sessions(self) -> list[SessionInfo]:
        raise self._refuse()

    def delete(self, session_id: str) -> None:
        return None

    def remove_expired(
        self, max_age_days: float | None = None, *, now: float | None = None
    ) -> list[str]:
        raise self._refuse()
