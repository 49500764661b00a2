"""Session ids and data refs: how they are made and checked before use.

Session ids are secrets (whoever holds one can resume the session), so they are
made by the server with `secrets` and every id that arrives from outside is
checked against a strict pattern before it is joined onto any path. Data refs are
content hashes (sha256 hex) and are checked the same way. Neither is ever echoed
in full into an error message or a log line.
"""

from __future__ import annotations

import re
import secrets

from tpr_widgets.errors import InputError

__all__ = [
    "new_session_id",
    "short_id",
    "validate_ref",
    "validate_session_id",
]

_SESSION_ID = re.compile(r"[0-9a-f]{32}", re.ASCII)
_REF = re.compile(r"[0-9a-f]{64}", re.ASCII)
_PREVIEW_CHARS = 8


def new_session_id() -> str:
    """Return a fresh session id: 32 lowercase hex characters (128 random bits)."""
    return secrets.token_hex(16)


def short_id(value: str) -> str:
    """Shorten a (valid) session id or ref for logs and messages: `1a2b3c…`."""
    return f"{value[:6]}…"


def _preview(value: str) -> str:
    """A short, escaped preview of a bad value, safe to show and to log."""
    head = ascii(value[:_PREVIEW_CHARS])
    more = f" and {len(value) - _PREVIEW_CHARS} more characters"
    return head + (more if len(value) > _PREVIEW_CHARS else "")


def _plain_str(value: object, what: str) -> str:
    """Return `value` as an exact `str` (not a subclass), or raise InputError."""
    if not isinstance(value, str):
        raise InputError(
            f"The {what} must be text, but a {type(value).__name__} was given. "
            "Use the value exactly as tpr_widgets produced it."
        )
    # Note: `str.__str__` turns a str subclass into a plain str with the same
    # characters, so an overridden __eq__ or __getitem__ cannot fool the check.
    return str.__str__(value)


def validate_session_id(value: object) -> str:
    """Return `value` if it is a well-formed session id, else raise `InputError`.

    A session id is exactly 32 lowercase hex characters, as `new_session_id`
    makes them. This runs before any filesystem access, so ids such as `..`,
    `a/b` or one with a NUL byte never reach a path.
    """
    text = _plain_str(value, "session id")
    if len(text) != 32 or _SESSION_ID.fullmatch(text) is None:
        raise InputError(
            f"The session id {_preview(text)} is not valid: a session id is "
            "exactly 32 characters 0-9 and a-f. Check the link you used, or "
            "start a new session."
        )
    return text


def validate_ref(value: object) -> str:
    """Return `value` if it is a well-formed data ref (sha256 hex), else InputError.

    Refs are what `Store.write_data` returns: 64 lowercase hex characters.
    """
    text = _plain_str(value, "data reference")
    if len(text) != 64 or _REF.fullmatch(text) is None:
        raise InputError(
            f"The data reference {_preview(text)} is not valid: a data reference "
            "is exactly 64 characters 0-9 and a-f, as returned by write_data."
        )
    return text
