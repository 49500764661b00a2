"""Schema versioning: old manifests migrate step by step, newer ones are refused.

Each migration is tested on its own with a document built here, and end to end
with a checkpoint of the old layout written in code (signed the way that
version signed it) into a real store folder.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from _store_helpers import manifest_path, session_dir

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store import SCHEMA_VERSION, FileStore
from tpr_widgets.store.jsonsafe import canonical_json
from tpr_widgets.store.migrations import FIELDS, MIGRATIONS, migrate, v1_to_v2
from tpr_widgets.store.signing import Keyring

V1_UPDATED = "2025-03-01T10:20:30.000000+00:00"
V1_STATE = {
    "stage": "age_group",
    "selections": {"state": "Kwara", "facility_level": "primary"},
    "label": "export.xlsx",
}


def _v1_doc(sid: str) -> dict[str, object]:
    """A schema-1 manifest body exactly as that version wrote it (no mac)."""
    return {
        "schema": 1,
        "session_id": sid,
        "revision": 4,
        "updated": V1_UPDATED,
        "state": copy.deepcopy(V1_STATE),
        "data": {},
    }


def _write_signed(root: Path, sid: str, body: dict[str, object]) -> None:
    keys = Keyring([(root / ".secret").read_text(encoding="ascii").strip()])
    signed = {**body, "mac": keys.sign_manifest(sid, canonical_json(body))}
    session_dir(root, sid).mkdir(parents=True, exist_ok=True)
    manifest_path(root, sid).write_bytes(canonical_json(signed) + b"\n")


def test_every_version_below_the_current_has_a_step() -> None:
    assert SCHEMA_VERSION == 2
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))
    assert sorted(FIELDS) == list(range(1, SCHEMA_VERSION + 1))


def test_v1_to_v2_adds_created_from_updated_and_is_pure(sid: str) -> None:
    doc = _v1_doc(sid)
    before = copy.deepcopy(doc)

    migrated = v1_to_v2(doc)

    assert doc == before, "a migration must not change its input"
    assert migrated == {**before, "schema": 2, "created": V1_UPDATED}
    assert set(migrated) == FIELDS[2]


def test_migrate_leaves_a_current_document_alone(sid: str) -> None:
    doc = {**_v1_doc(sid), "schema": 2, "created": "2025-01-01T00:00:00+00:00"}
    assert migrate(doc) == doc


def test_migrate_refuses_a_gap_in_the_chain(
    sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tpr_widgets.store.migrations.MIGRATIONS", {})
    with pytest.raises(ValueError, match="no migration from schema 1"):
        migrate(_v1_doc(sid))


def test_a_v1_checkpoint_loads_and_the_next_commit_writes_v2(
    store: FileStore, root: Path, sid: str
) -> None:
    _write_signed(root, sid, _v1_doc(sid))

    loaded = store.load(sid)
    assert (loaded.revision, loaded.state, loaded.data) == (4, V1_STATE, {})
    assert loaded.updated == V1_UPDATED and loaded.created == V1_UPDATED
    assert [info.created for info in store.sessions()] == [V1_UPDATED]

    after = store.commit(sid, 4, {**V1_STATE, "stage": "test_method"}, {})
    on_disk = json.loads(manifest_path(root, sid).read_text(encoding="utf-8"))
    assert on_disk["schema"] == 2 and on_disk["revision"] == 5
    assert on_disk["created"] == V1_UPDATED  # kept across commits
    assert after.created == V1_UPDATED and after.updated != V1_UPDATED
    assert store.load(sid).state["stage"] == "test_method"


def test_a_v1_checkpoint_with_a_v2_field_is_refused(
    store: FileStore, root: Path, sid: str
) -> None:
    _write_signed(root, sid, {**_v1_doc(sid), "created": V1_UPDATED})
    with pytest.raises(IntegrityError, match="unexpected fields"):
        store.load(sid)


def test_a_v1_checkpoint_changed_after_signing_is_refused(
    store: FileStore, root: Path, sid: str
) -> None:
    _write_signed(root, sid, _v1_doc(sid))
    doc = json.loads(manifest_path(root, sid).read_text(encoding="utf-8"))
    doc["state"]["stage"] = "results"
    manifest_path(root, sid).write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(IntegrityError, match="bad signature"):
        store.load(sid)


def test_new_sessions_record_their_creation_time(store: FileStore, sid: str) -> None:
    first = store.commit(sid, 0, {"n": 1}, {})
    second = store.commit(sid, 1, {"n": 2}, {})
    assert first.created == first.updated
    assert second.created == first.created and second.updated >= first.updated


def test_a_newer_schema_names_both_versions(
    store: FileStore, root: Path, sid: str
) -> None:
    _write_signed(root, sid, {**_v1_doc(sid), "schema": 3, "created": V1_UPDATED})
    with pytest.raises(StoreError) as error:
        store.load(sid)
    assert not isinstance(error.value, IntegrityError)
    assert "schema 3" in str(error.value) and "schema 2" in str(error.value)
