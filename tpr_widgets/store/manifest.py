"""The manifest: one session's checkpoint as signed JSON, and its verification.

On disk a manifest is one JSON object::

    {"schema": 2, "session_id": "...", "revision": 3, "updated": "...",
     "created": "...", "state": {...}, "data": {"table": "<sha256 hex>"},
     "mac": "<hex>"}

`mac` is HMAC-SHA256 over the canonical JSON of every other field, with the
session id bound in (see `signing`). `decode_manifest` checks the signature in
constant time before it trusts any field, then checks that the session id inside
is the one asked for and that every field has its expected type.

The one field read before verification is `schema`: a manifest from a newer
version of tpr_widgets may be signed differently, and "upgrade tpr_widgets" is a
more useful answer than "tampered". Nothing else from an unverified file is used.
An older schema is verified as it was signed, then migrated (see `migrations`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store.base import SCHEMA_VERSION, Checkpoint
from tpr_widgets.store.ids import short_id
from tpr_widgets.store.jsonsafe import canonical_json
from tpr_widgets.store.migrations import FIELDS, migrate
from tpr_widgets.store.signing import Keyring

__all__ = ["decode_manifest", "encode_manifest"]

_REF = re.compile(r"[0-9a-f]{64}", re.ASCII)


def encode_manifest(keyring: Keyring, checkpoint: Checkpoint) -> bytes:
    """Return the signed manifest bytes for `checkpoint`."""
    body: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "session_id": checkpoint.session_id,
        "revision": checkpoint.revision,
        "updated": checkpoint.updated,
        "created": checkpoint.created or checkpoint.updated,
        "state": checkpoint.state,
        "data": checkpoint.data,
    }
    mac = keyring.sign_manifest(checkpoint.session_id, canonical_json(body))
    return canonical_json({**body, "mac": mac}) + b"\n"


def _refuse(session_id: str, reason: str) -> IntegrityError:
    return IntegrityError(
        f"The saved session {short_id(session_id)} failed verification ({reason}) "
        "and was not loaded. It may have been damaged, changed by hand, or written "
        "with another secret key. Start a new session, or ask the administrator "
        "to restore the store (its folder or Redis data) and its key."
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


def decode_manifest(keyring: Keyring, session_id: str, raw: bytes) -> Checkpoint:
    """Verify manifest bytes read from session `session_id`'s folder.

    Raises `IntegrityError` if they fail verification and `StoreError` if they
    were written by a newer version (schema above `SCHEMA_VERSION`).
    """
    try:
        doc = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse(session_id, "not valid JSON; the file may be truncated") from None
    if not isinstance(doc, dict):
        raise _refuse(session_id, "not a JSON object")

    schema = doc.get("schema")
    if type(schema) is int and schema > SCHEMA_VERSION:
        raise StoreError(
            f"The saved session {short_id(session_id)} was written by a newer "
            f"version of tpr_widgets (manifest schema {schema}); this version "
            f"reads schema {SCHEMA_VERSION}. Upgrade tpr_widgets to resume it."
        )

    mac = doc.pop("mac", None)
    if type(mac) is not str:
        raise _refuse(session_id, "no signature")
    try:
        body = canonical_json(doc)
    except (TypeError, ValueError, UnicodeEncodeError):
        raise _refuse(session_id, "not canonical JSON") from None
    if not keyring.verify_manifest(session_id, body, mac):
        raise _refuse(session_id, "bad signature")

    # Signed by us from here on; the checks below catch our own bugs and
    # hand-made files signed with a leaked key, not ordinary tampering.
    fields = FIELDS.get(schema) if type(schema) is int else None
    if fields is None:
        raise _refuse(session_id, f"unknown schema {schema!r}")
    if set(doc) != fields:
        raise _refuse(session_id, f"unexpected fields {sorted(set(doc) ^ fields)}")
    if type(doc["updated"]) is not str:
        raise _refuse(session_id, "bad time")
    doc = migrate(doc)
    if doc["session_id"] != session_id:
        raise _refuse(session_id, "it belongs to another session")
    revision, updated = doc["revision"], doc["updated"]
    state, data = doc["state"], doc["data"]
    if type(revision) is not int or revision < 1:
        raise _refuse(session_id, "bad revision")
    created = doc["created"]
    if type(created) is not str or type(state) is not dict:
        raise _refuse(session_id, "bad time or state")
    if type(data) is not dict or not all(
        type(ref) is str and _REF.fullmatch(ref) for ref in data.values()
    ):
        raise _refuse(session_id, "bad data references")

    return Checkpoint(
        session_id=session_id,
        revision=revision,
        state=state,
        data=data,
        updated=updated,
        created=created,
    )
