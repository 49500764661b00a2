"""The errors tpr_widgets raises, in one place.

Every error a user can cause derives from `TPRWidgetsError` and carries a message
written for a health-programme analyst: what was wrong, the value that was wrong,
and what to do next. Code that catches them can show `str(error)` as it is.

- `InputError`: a bad file, column mapping or choice. Nothing was changed: the
  session, its stage and its data are exactly as before the call.
- `ConflictError`: the session was changed by another window or process since
  this one loaded it. Reload the session (`Workflow.resume`) and act again.
- `IntegrityError`: a stored file failed verification (tampered, truncated, from
  another session or another deployment). It was not loaded.
- `StoreError`: the checkpoint store could not be used (busy, unreachable, not
  writable). Nothing was half-written. `StoreUnavailableError`, its subclass, is
  the store being unreachable, read-only or full: the sessions in it are fine,
  so the app asks the user to try again rather than starting a new session.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "InputError",
    "IntegrityError",
    "StoreError",
    "StoreUnavailableError",
    "TPRWidgetsError",
    "TPRWidgetsWarning",
]


class TPRWidgetsError(Exception):
    """Base class of every error tpr_widgets raises on purpose."""


class InputError(TPRWidgetsError, ValueError):
    """A bad file, column or choice; the session is unchanged."""


class ConflictError(TPRWidgetsError):
    """The session changed in another window or process; reload it."""


class IntegrityError(TPRWidgetsError):
    """A stored file failed verification and was not loaded."""


class StoreError(TPRWidgetsError):
    """The checkpoint store could not be used; nothing was half-written."""


class StoreUnavailableError(StoreError):
    """The store is unreachable, read-only or full; its sessions are intact."""


class TPRWidgetsWarning(UserWarning):
    """A warning of our own (the test suite turns these into errors)."""
