"""Signed data files: how an object becomes bytes on disk and back, safely.

A data file is a magic line, a 32-byte HMAC, then the pickle (protocol 5)::

    b"TPRW-DATA-1\\n" + HMAC(key, tag, session id, NUL, pickle) + pickle

Its ref (the file name and the value stored in the manifest) is the sha256 hex of
the pickle bytes, so the same object always gets the same ref. `verify` checks
the magic, the MAC (in constant time, against every accepted key) and the hash
BEFORE `unpickle` ever sees the bytes: unpickling runs code, so nothing that
could have come from outside this deployment is unpickled. The session id is in
the MAC, so a file copied from another session is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store.ids import short_id
from tpr_widgets.store.signing import MAC_BYTES, Keyring

__all__ = ["MAGIC", "encode", "refuse", "unpickle", "verify"]

MAGIC = b"TPRW-DATA-1\n"
PICKLE_PROTOCOL = 5
_HEADER = len(MAGIC) + MAC_BYTES


def encode(keyring: Keyring, session_id: str, obj: object) -> tuple[str, bytes, bytes]:
    """Return (ref, header, pickle bytes) for `obj`; the file is header + pickle."""
    try:
        pickled = pickle.dumps(obj, protocol=PICKLE_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise TypeError(
            f"A {type(obj).__name__} cannot be saved because it cannot be pickled "
            f"({error}). Save plain data such as a DataFrame instead."
        ) from error
    ref = hashlib.sha256(pickled).hexdigest()
    return ref, MAGIC + keyring.sign_data(session_id, pickled), pickled


def refuse(session_id: str, ref: str, reason: str) -> IntegrityError:
    return IntegrityError(
        f"The saved data {short_id(ref)} of session {short_id(session_id)} failed "
        f"verification ({reason}) and was not loaded. It may be damaged, copied "
        "from another session or written with another secret key. Upload the file "
        "again to rebuild it."
    )


def verify(keyring: Keyring, session_id: str, ref: str, raw: bytes) -> memoryview:
    """Return the verified pickle bytes of a data file, or raise IntegrityError."""
    if len(raw) < _HEADER:
        raise refuse(session_id, ref, "the file is truncated")
    view = memoryview(raw)
    if view[: len(MAGIC)] != MAGIC:
        raise refuse(session_id, ref, "it is not a tpr_widgets data file")
    mac = bytes(view[len(MAGIC) : _HEADER])
    pickled = view[_HEADER:]
    if not keyring.verify_data(session_id, pickled, mac):
        raise refuse(session_id, ref, "bad signature")
    digest = hashlib.sha256(pickled).hexdigest()
    if not hmac.compare_digest(digest, ref):
        raise refuse(session_id, ref, "its content does not match its name")
    return pickled


def unpickle(session_id: str, ref: str, pickled: memoryview) -> object:
    """Unpickle bytes that `verify` accepted (never call it on anything else)."""
    try:
        return pickle.loads(pickled)
    except Exception as error:
        # Verified bytes that fail to load were written by another version of
        # tpr_widgets or pandas: not tampering, but not readable here either.
        raise StoreError(
            f"The saved data {short_id(ref)} of session {short_id(session_id)} is "
            f"genuine but cannot be read by this installation ({type(error).__name__}"
            f": {error}). It was probably saved by another version of tpr_widgets "
            "or pandas; upload the file again."
        ) from error
