"""The deployment secret and the HMAC signatures made with it.

Every manifest and data file is signed with HMAC-SHA256 under a per-deployment
secret and verified (in constant time) before anything in it is trusted, so a
file that did not come from this deployment is never unpickled.

Where the secret comes from, in order:

1. `TPR_WIDGETS_SECRET`: a comma-separated list of keys. The first key signs;
   every key is accepted when verifying, so a key is rotated by putting the new
   one first and dropping the old one once its sessions have expired. Several
   Voilà processes or machines sharing one store must share this value.
2. Otherwise a key file `<root>/.secret` (64 hex characters, mode 0600), made
   once. It is written completely to a temporary file and then hard-linked into
   place, which fails if the name exists (the same exclusive-create guarantee as
   `O_EXCL`, without a window in which another process could read a half-written
   key), so processes racing to create it all end up with the same key.

Keys shorter than 16 characters are refused. An empty `TPR_WIDGETS_SECRET` is
refused too, rather than silently falling back to a key file per machine.

Each signature binds a purpose tag and the session id, so a manifest or data file
copied from one session into another fails verification.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tpr_widgets.errors import StoreError

__all__ = [
    "KEY_FILE",
    "MIN_KEY_CHARS",
    "SECRET_ENV",
    "Keyring",
    "keyring_from_env",
    "load_keyring",
]

SECRET_ENV = "TPR_WIDGETS_SECRET"
KEY_FILE = ".secret"
MIN_KEY_CHARS = 16
MAC_BYTES = 32
_READ_ATTEMPTS = 10

_Bytes = bytes | memoryview

_MANIFEST_TAG = b"tpr_widgets manifest v1\x00"
_DATA_TAG = b"tpr_widgets data v1\x00"


class Keyring:
    """The keys of one deployment: the first signs, all of them verify."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise StoreError("No signing key was given; set TPR_WIDGETS_SECRET.")
        for key in keys:
            if len(key) < MIN_KEY_CHARS:
                raise StoreError(
                    f"A signing key of {len(key)} characters was given; keys must "
                    f"have at least {MIN_KEY_CHARS} characters. Use for example "
                    '`python -c "import secrets; print(secrets.token_hex(32))"`.'
                )
        self._keys = tuple(key.encode("utf-8") for key in keys)

    def __repr__(self) -> str:
        return f"Keyring(<{len(self._keys)} key(s) hidden>)"

    def _mac(self, key: bytes, tag: bytes, session_id: str, body: _Bytes) -> bytes:
        mac = hmac.new(key, tag, hashlib.sha256)
        mac.update(session_id.encode("ascii"))
        mac.update(b"\x00")
        mac.update(body)
        return mac.digest()

    def _verify(self, mac: bytes, tag: bytes, session_id: str, body: _Bytes) -> bool:
        # Note: every key is tried, so the time taken does not tell which matched.
        ok = False
        for key in self._keys:
            expected = self._mac(key, tag, session_id, body)
            ok = hmac.compare_digest(expected, mac) or ok
        return ok

    def sign_manifest(self, session_id: str, body: bytes) -> str:
        """Hex MAC of a manifest's canonical JSON (everything but "mac")."""
        return self._mac(self._keys[0], _MANIFEST_TAG, session_id, body).hex()

    def verify_manifest(self, session_id: str, body: bytes, mac_hex: str) -> bool:
        """True if `mac_hex` is a valid manifest MAC under any key."""
        try:
            mac = bytes.fromhex(mac_hex)
        except ValueError:
            return False
        return len(mac) == MAC_BYTES and self._verify(
            mac, _MANIFEST_TAG, session_id, body
        )

    def sign_data(self, session_id: str, pickled: _Bytes) -> bytes:
        """The 32-byte MAC of (session id, NUL, pickle bytes)."""
        return self._mac(self._keys[0], _DATA_TAG, session_id, pickled)

    def verify_data(self, session_id: str, pickled: _Bytes, mac: bytes) -> bool:
        """True if `mac` is a valid data MAC under any key."""
        return len(mac) == MAC_BYTES and self._verify(
            mac, _DATA_TAG, session_id, pickled
        )


def keyring_from_env(environ: Mapping[str, str] | None = None) -> Keyring | None:
    """Return the keyring `TPR_WIDGETS_SECRET` names, or None when it is unset."""
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV)
    if value is None:
        return None
    keys = [part.strip() for part in value.split(",")]
    if not any(keys) or not all(keys):
        raise StoreError(
            f"{SECRET_ENV} is set but has an empty key in it. Set it to one or "
            "more keys separated by commas (the first signs), or unset it to "
            "use a key file in the store folder."
        )
    return Keyring(keys)


def load_keyring(root: Path, environ: Mapping[str, str] | None = None) -> Keyring:
    """Return the keyring from `TPR_WIDGETS_SECRET`, else from `<root>/.secret`."""
    keyring = keyring_from_env(environ)
    if keyring is not None:
        return keyring
    return Keyring([_key_from_file(root / KEY_FILE)])


def _key_from_file(path: Path) -> str:
    if not path.exists():
        _create_key_file(path)
    key = ""
    for attempt in range(_READ_ATTEMPTS):
        try:
            key = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise StoreError(
                f"The key file {path} could not be read ({error}). Check its "
                f"permissions, or set {SECRET_ENV}."
            ) from None
        if len(key) >= MIN_KEY_CHARS:
            return key
        # Only the O_EXCL fallback below can expose a key file before its key is
        # written; give the writer a moment before calling the file damaged.
        if attempt + 1 < _READ_ATTEMPTS:
            time.sleep(0.05)
    raise StoreError(
        f"The key file {path} holds {len(key)} characters, fewer than "
        f"{MIN_KEY_CHARS}; it is damaged. Saved sessions cannot be verified "
        "without the original key: restore it from a backup, or remove the file "
        "to start with a new key (existing sessions will then be refused)."
    )


def _create_key_file(path: Path) -> None:
    """Write a new random key and put it in place unless one already exists."""
    key = secrets.token_hex(32) + "\n"
    try:
        fd, temp = tempfile.mkstemp(prefix=".tmp-secret-", dir=path.parent)
    except OSError as error:
        raise StoreError(
            f"A key file could not be created in {path.parent} ({error}). Make the "
            f"folder writable, or set {SECRET_ENV}."
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        try:
            # Note: link fails with FileExistsError if another process won the
            # race; then its complete key is the one everybody reads.
            os.link(temp, path)
        except FileExistsError:
            pass
        except OSError:
            _create_exclusive(path, key)
    except OSError as error:
        raise StoreError(
            f"A key file could not be created at {path} ({error}). Make the folder "
            f"writable, or set {SECRET_ENV}."
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _create_exclusive(path: Path, key: str) -> None:
    """Fallback for filesystems without hard links: create with O_EXCL."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.encode("ascii"))
        handle.flush()
        os.fsync(handle.fileno())
