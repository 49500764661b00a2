"""Nothing unverified is trusted, on either backend: tampered, truncated, copied
and hostile manifests and data are refused, and a hostile pickle never runs.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import pickle
from pathlib import Path

import pytest
from _backends import Backend

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store import Store, new_session_id
from tpr_widgets.store.datafile import MAGIC
from tpr_widgets.store.jsonsafe import canonical_json
from tpr_widgets.store.signing import Keyring


class Evil:
    """Unpickling this touches a marker file: proof that code would have run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (pathlib.Path.touch, (self.marker,))


class Vanishing:
    """A class the test removes, as a newer or older version of the code would."""


def _committed(store: Store, sid: str) -> str:
    ref = store.write_data(sid, {"table": list(range(100))})
    store.commit(sid, 0, {"stage": "upload", "n": 1}, {"table": ref})
    return ref


def _manifest_doc(backend: Backend, sid: str) -> dict[str, object]:
    raw = backend.get_manifest(sid)
    assert raw is not None
    doc: dict[str, object] = json.loads(raw)
    return doc


def _rewrite_manifest(backend: Backend, sid: str, **changes: object) -> None:
    doc = _manifest_doc(backend, sid)
    doc.update(changes)
    backend.put_manifest(sid, json.dumps(doc).encode("utf-8"))


def _resign(backend: Backend, sid: str, doc: dict[str, object]) -> None:
    """Write `doc` as a manifest correctly signed with the deployment's key."""
    body = {key: value for key, value in doc.items() if key != "mac"}
    body["mac"] = backend.keyring().sign_manifest(sid, canonical_json(body))
    backend.put_manifest(sid, canonical_json(body))


def _data(backend: Backend, sid: str, ref: str) -> bytes:
    raw = backend.get_data(sid, ref)
    assert raw is not None
    return raw


@pytest.mark.parametrize(
    "changes",
    [
        {"state": {"stage": "results", "n": 1}},
        {"revision": 7},
        {"data": {}},
        {"updated": "2001-01-01T00:00:00+00:00"},
        {"mac": "00" * 32},
        {"mac": "not hex"},
    ],
    ids=["state", "revision", "data", "updated", "zero-mac", "bad-mac"],
)
def test_tampered_manifest_is_refused(
    backend: Backend, sid: str, changes: dict[str, object]
) -> None:
    _committed(backend.store, sid)
    _rewrite_manifest(backend, sid, **changes)

    with pytest.raises(IntegrityError, match="failed verification"):
        backend.store.load(sid)


def test_unchanged_manifest_in_another_format_still_verifies(
    backend: Backend, sid: str
) -> None:
    _committed(backend.store, sid)
    _rewrite_manifest(backend, sid)  # same content, different spacing and order
    assert backend.store.load(sid).revision == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"schema": 1, "session_id": "abc',
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b'{"schema": 1, "revision": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "truncated", "binary", "array", "nan", "deep"],
)
def test_damaged_manifest_is_refused(
    backend: Backend, sid: str, content: bytes
) -> None:
    _committed(backend.store, sid)
    backend.put_manifest(sid, content)

    with pytest.raises(IntegrityError):
        backend.store.load(sid)
    with pytest.raises(IntegrityError):
        backend.store.commit(sid, 1, {"stage": "state"}, {})
    assert backend.get_manifest(sid) == content


def test_truncated_manifest_is_refused_at_every_length(
    backend: Backend, sid: str
) -> None:
    _committed(backend.store, sid)
    genuine = _manifest_doc(backend, sid)
    raw = backend.get_manifest(sid)
    assert raw is not None and raw.endswith(b"}\n")

    for keep in range(0, len(raw) - 2, 7):
        backend.put_manifest(sid, raw[:keep])
        with pytest.raises(IntegrityError, match="failed verification"):
            backend.store.load(sid)
    backend.put_manifest(sid, raw)
    assert backend.store.load(sid).revision == genuine["revision"] == 1


def test_manifest_copied_into_another_session_is_refused(
    backend: Backend, sid: str
) -> None:
    other = new_session_id()
    _committed(backend.store, sid)
    backend.store.commit(other, 0, {}, {})
    raw = backend.get_manifest(sid)
    assert raw is not None
    backend.put_manifest(other, raw)

    with pytest.raises(IntegrityError, match="bad signature"):
        backend.store.load(other)
    assert backend.store.load(sid).state == {"stage": "upload", "n": 1}


def test_manifest_signed_for_another_id_inside_is_refused(
    backend: Backend, sid: str
) -> None:
    _committed(backend.store, sid)
    doc = _manifest_doc(backend, sid)
    doc["session_id"] = new_session_id()
    _resign(backend, sid, doc)

    with pytest.raises(IntegrityError, match="another session"):
        backend.store.load(sid)


def test_manifest_signed_with_another_key_is_refused(
    backend: Backend, sid: str
) -> None:
    _committed(backend.store, sid)
    body = {k: v for k, v in _manifest_doc(backend, sid).items() if k != "mac"}
    body["mac"] = Keyring(["not-the-deployment-key"]).sign_manifest(
        sid, canonical_json(body)
    )
    backend.put_manifest(sid, canonical_json(body))

    with pytest.raises(IntegrityError, match="bad signature"):
        backend.store.load(sid)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_newer_schema_names_both_versions(
    backend: Backend, sid: str, signed: bool
) -> None:
    _committed(backend.store, sid)
    doc = _manifest_doc(backend, sid)
    doc["schema"] = 99
    if signed:
        _resign(backend, sid, doc)
    else:
        backend.put_manifest(sid, json.dumps(doc).encode("utf-8"))

    with pytest.raises(StoreError) as error:
        backend.store.load(sid)

    assert not isinstance(error.value, IntegrityError)
    assert "schema 99" in str(error.value) and "schema 2" in str(error.value)
    assert "Upgrade tpr_widgets" in str(error.value)


@pytest.mark.parametrize("where", ["magic", "mac", "pickle-start", "pickle-end"])
def test_tampered_data_byte_is_refused(backend: Backend, sid: str, where: str) -> None:
    ref = _committed(backend.store, sid)
    raw = bytearray(_data(backend, sid, ref))
    offset = {
        "magic": 0,
        "mac": len(MAGIC) + 5,
        "pickle-start": len(MAGIC) + 32 + 2,
        "pickle-end": len(raw) - 2,
    }[where]
    raw[offset] ^= 0x01
    backend.put_data(sid, ref, bytes(raw))

    with pytest.raises(IntegrityError, match="failed verification"):
        backend.open().read_data(sid, ref)


@pytest.mark.parametrize("keep", [0, 5, len(MAGIC) + 31, -1])
def test_truncated_data_is_refused(backend: Backend, sid: str, keep: int) -> None:
    ref = _committed(backend.store, sid)
    backend.put_data(sid, ref, _data(backend, sid, ref)[:keep])

    with pytest.raises(IntegrityError):
        backend.open().read_data(sid, ref)


def test_data_copied_from_another_session_is_refused(
    backend: Backend, sid: str
) -> None:
    other = new_session_id()
    ref = _committed(backend.store, sid)
    backend.store.commit(other, 0, {}, {})
    backend.put_data(other, ref, _data(backend, sid, ref))

    with pytest.raises(IntegrityError, match="bad signature"):
        backend.open().read_data(other, ref)
    assert backend.open().read_data(sid, ref) == {"table": list(range(100))}


def test_genuine_data_under_another_ref_is_refused(backend: Backend, sid: str) -> None:
    store = backend.store
    ref = store.write_data(sid, "one")
    other_ref = store.write_data(sid, "two")
    backend.put_data(sid, other_ref, _data(backend, sid, ref))

    with pytest.raises(IntegrityError, match="does not match"):
        backend.open().read_data(sid, other_ref)


def _planted(keys: Keyring, sid: str, payload: bytes) -> dict[str, bytes]:
    other_key = Keyring(["a-completely-different-key"])
    return {
        "no-header": payload,
        "zero-mac": MAGIC + b"\x00" * 32 + payload,
        "short-mac": MAGIC + b"\x01" * 8 + payload,
        "other-key": MAGIC + other_key.sign_data(sid, payload) + payload,
        "other-session": MAGIC + keys.sign_data(new_session_id(), payload) + payload,
    }


@pytest.mark.parametrize(
    "variant", ["no-header", "zero-mac", "short-mac", "other-key", "other-session"]
)
def test_hostile_pickle_is_never_unpickled(
    backend: Backend,
    sid: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variant: str,
) -> None:
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(Evil(control)))
    assert control.exists(), "the payload must really run code when unpickled"

    store = backend.store
    marker = tmp_path / "marker"
    payload = pickle.dumps(Evil(marker), protocol=5)
    ref = hashlib.sha256(payload).hexdigest()
    store.write_data(sid, "make the data folder")
    backend.put_data(sid, ref, _planted(backend.keyring(), sid, payload)[variant])
    store.commit(sid, 0, {"stage": "upload"}, {"table": ref})
    calls: list[object] = []
    monkeypatch.setattr(pickle, "loads", calls.append)

    with pytest.raises(IntegrityError, match="failed verification"):
        backend.open().read_data(sid, backend.open().load(sid).data["table"])

    assert calls == []
    assert not marker.exists()


def test_genuine_data_this_installation_cannot_unpickle_is_a_store_error(
    backend: Backend, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = backend.store.write_data(sid, Vanishing())
    monkeypatch.delitem(globals(), "Vanishing")

    with pytest.raises(StoreError, match="cannot be read by this installation"):
        backend.open().read_data(sid, ref)
