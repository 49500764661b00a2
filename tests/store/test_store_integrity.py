"""Nothing unverified is trusted: tampered, truncated, copied and hostile files."""

from __future__ import annotations

import hashlib
import json
import pathlib
import pickle
import shutil
import sys
from pathlib import Path

import pytest
from _store_helpers import data_path, manifest_path, session_dir

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store import FileStore, new_session_id
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


def _committed(store: FileStore, sid: str) -> str:
    ref = store.write_data(sid, {"table": list(range(100))})
    store.commit(sid, 0, {"stage": "upload", "n": 1}, {"table": ref})
    return ref


def _rewrite_manifest(root: Path, sid: str, **changes: object) -> None:
    path = manifest_path(root, sid)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(changes)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _resign(root: Path, sid: str, doc: dict[str, object]) -> None:
    """Write `doc` as a manifest correctly signed with the store's key file."""
    keys = Keyring([(root / ".secret").read_text(encoding="ascii").strip()])
    body = {key: value for key, value in doc.items() if key != "mac"}
    body["mac"] = keys.sign_manifest(sid, canonical_json(body))
    manifest_path(root, sid).write_bytes(canonical_json(body))


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
    store: FileStore, root: Path, sid: str, changes: dict[str, object]
) -> None:
    _committed(store, sid)
    _rewrite_manifest(root, sid, **changes)

    with pytest.raises(IntegrityError, match="failed verification"):
        store.load(sid)


def test_unchanged_manifest_in_another_format_still_verifies(
    store: FileStore, root: Path, sid: str
) -> None:
    _committed(store, sid)
    _rewrite_manifest(root, sid)  # same content, different spacing and order
    assert store.load(sid).revision == 1


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
    store: FileStore, root: Path, sid: str, content: bytes
) -> None:
    _committed(store, sid)
    manifest_path(root, sid).write_bytes(content)

    with pytest.raises(IntegrityError):
        store.load(sid)


def test_manifest_copied_into_another_session_is_refused(
    store: FileStore, root: Path, sid: str
) -> None:
    other = new_session_id()
    _committed(store, sid)
    store.commit(other, 0, {}, {})
    shutil.copyfile(manifest_path(root, sid), manifest_path(root, other))

    with pytest.raises(IntegrityError):
        store.load(other)


def test_manifest_signed_for_another_id_inside_is_refused(
    store: FileStore, root: Path, sid: str
) -> None:
    _committed(store, sid)
    doc = json.loads(manifest_path(root, sid).read_text(encoding="utf-8"))
    doc["session_id"] = new_session_id()
    _resign(root, sid, doc)

    with pytest.raises(IntegrityError, match="another session"):
        store.load(sid)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_newer_schema_names_both_versions(
    store: FileStore, root: Path, sid: str, signed: bool
) -> None:
    _committed(store, sid)
    doc = json.loads(manifest_path(root, sid).read_text(encoding="utf-8"))
    doc["schema"] = 99
    if signed:
        _resign(root, sid, doc)
    else:
        manifest_path(root, sid).write_text(json.dumps(doc), encoding="utf-8")

    with pytest.raises(StoreError) as error:
        store.load(sid)

    assert not isinstance(error.value, IntegrityError)
    assert "99" in str(error.value) and "schema 2" in str(error.value)


@pytest.mark.parametrize("where", ["magic", "mac", "pickle-start", "pickle-end"])
def test_tampered_data_byte_is_refused(
    store: FileStore, root: Path, sid: str, where: str
) -> None:
    ref = _committed(store, sid)
    path = data_path(root, sid, ref)
    raw = bytearray(path.read_bytes())
    offset = {
        "magic": 0,
        "mac": len(MAGIC) + 5,
        "pickle-start": len(MAGIC) + 32 + 2,
        "pickle-end": len(raw) - 2,
    }[where]
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))

    with pytest.raises(IntegrityError, match="failed verification"):
        FileStore(root).read_data(sid, ref)


@pytest.mark.parametrize("keep", [0, 5, len(MAGIC) + 31, -1])
def test_truncated_data_is_refused(
    store: FileStore, root: Path, sid: str, keep: int
) -> None:
    ref = _committed(store, sid)
    path = data_path(root, sid, ref)
    path.write_bytes(path.read_bytes()[:keep])

    with pytest.raises(IntegrityError):
        FileStore(root).read_data(sid, ref)


def test_data_copied_from_another_session_is_refused(
    store: FileStore, root: Path, sid: str
) -> None:
    other = new_session_id()
    ref = _committed(store, sid)
    store.commit(other, 0, {}, {})
    target = data_path(root, other, ref)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_path(root, sid, ref), target)

    with pytest.raises(IntegrityError, match="failed verification"):
        FileStore(root).read_data(other, ref)
    assert FileStore(root).read_data(sid, ref) == {"table": list(range(100))}


def test_genuine_file_under_another_ref_is_refused(
    store: FileStore, root: Path, sid: str
) -> None:
    ref = store.write_data(sid, "one")
    other_ref = store.write_data(sid, "two")
    shutil.copyfile(data_path(root, sid, ref), data_path(root, sid, other_ref))

    with pytest.raises(IntegrityError, match="does not match"):
        FileStore(root).read_data(sid, other_ref)


def _planted_files(root: Path, sid: str, payload: bytes) -> dict[str, bytes]:
    other_key = Keyring(["a-completely-different-key"])
    own_key = Keyring([(root / ".secret").read_text(encoding="ascii").strip()])
    return {
        "no-header": payload,
        "zero-mac": MAGIC + b"\x00" * 32 + payload,
        "short-mac": MAGIC + b"\x01" * 8 + payload,
        "other-key": MAGIC + other_key.sign_data(sid, payload) + payload,
        "other-session": MAGIC + own_key.sign_data(new_session_id(), payload) + payload,
    }


@pytest.mark.parametrize(
    "variant", ["no-header", "zero-mac", "short-mac", "other-key", "other-session"]
)
def test_hostile_pickle_is_never_unpickled(
    store: FileStore,
    root: Path,
    sid: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variant: str,
) -> None:
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(Evil(control)))
    assert control.exists(), "the payload must really run code when unpickled"

    marker = tmp_path / "marker"
    payload = pickle.dumps(Evil(marker), protocol=5)
    ref = hashlib.sha256(payload).hexdigest()
    planted = data_path(root, sid, ref)
    store.write_data(sid, "make the data folder")
    planted.write_bytes(_planted_files(root, sid, payload)[variant])
    store.commit(sid, 0, {"stage": "upload"}, {"table": ref})
    calls: list[object] = []
    monkeypatch.setattr(pickle, "loads", calls.append)

    with pytest.raises(IntegrityError):
        store.read_data(sid, store.load(sid).data["table"])

    assert calls == []
    assert not marker.exists()


def test_genuine_data_this_installation_cannot_unpickle_is_a_store_error(
    store: FileStore, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = store.write_data(sid, Vanishing())
    monkeypatch.delitem(globals(), "Vanishing")

    with pytest.raises(StoreError, match="cannot be read by this installation"):
        FileStore(store.root).read_data(sid, ref)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_session_folder_contents_are_private(
    store: FileStore, root: Path, sid: str
) -> None:
    ref = _committed(store, sid)
    for path in (manifest_path(root, sid), data_path(root, sid, ref)):
        assert (path.stat().st_mode & 0o077) == 0
    assert (session_dir(root, sid).stat().st_mode & 0o077) == 0
