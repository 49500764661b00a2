"""Schema versioning: old manifests migrate step by step, newer ones are refused.

Each migration is tested on its own with a document built here, and end to end
with a checkpoint of the old layout written in code (signed the way that
version signed it) into a real store, on both backends.
"""

from __future__ import annotations

import copy
import json

import pytest
from _backends import Backend

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store import SCHEMA_VERSION
from tpr_widgets.store.jsonsafe import canonical_json
from tpr_widgets.store.migrations import FIELDS, MIGRATIONS, migrate, v1_to_v2

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


def _write_signed(backend: Backend, sid: str, body: dict[str, object]) -> None:
    mac = backend.keyring().sign_manifest(sid, canonical_json(body))
    backend.put_manifest(sid, canonical_json({**body, "mac": mac}) + b"\n")


def _stored(backend: Backend, sid: str) -> dict[str, object]:
    raw = backend.get_manifest(sid)
    assert raw is not None
    doc: dict[str, object] = json.loads(raw)
    return doc


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
    backend: Backend, sid: str
) -> None:
    _write_signed(backend, sid, _v1_doc(sid))

    loaded = backend.store.load(sid)
    assert (loaded.revision, loaded.state, loaded.data) == (4, V1_STATE, {})
    assert loaded.updated == V1_UPDATED and loaded.created == V1_UPDATED
    assert [info.created for info in backend.store.sessions()] == [V1_UPDATED]

    after = backend.store.commit(sid, 4, {**V1_STATE, "stage": "test_method"}, {})
    on_disk = _stored(backend, sid)
    assert on_disk["schema"] == 2 and on_disk["revision"] == 5
    assert on_disk["created"] == V1_UPDATED  # kept across commits
    assert after.created == V1_UPDATED and after.updated != V1_UPDATED
    assert backend.store.load(sid).state["stage"] == "test_method"


def test_a_v1_checkpoint_with_a_v2_field_is_refused(backend: Backend, sid: str) -> None:
    _write_signed(backend, sid, {**_v1_doc(sid), "created": V1_UPDATED})
    with pytest.raises(IntegrityError, match="unexpected fields"):
        backend.store.load(sid)


def test_a_v1_checkpoint_changed_after_signing_is_refused(
    backend: Backend, sid: str
) -> None:
    _write_signed(backend, sid, _v1_doc(sid))
    doc = _stored(backend, sid)
    doc["state"]["stage"] = "results"  # type: ignore[index]
    backend.put_manifest(sid, json.dumps(doc).encode("utf-8"))
    with pytest.raises(IntegrityError, match="bad signature"):
        backend.store.load(sid)


def test_new_sessions_record_their_creation_time(backend: Backend, sid: str) -> None:
    first = backend.store.commit(sid, 0, {"n": 1}, {})
    second = backend.store.commit(sid, 1, {"n": 2}, {})
    assert first.created == first.updated
    assert second.created == first.created and second.updated >= first.updated


def test_a_newer_schema_names_both_versions(backend: Backend, sid: str) -> None:
    _write_signed(backend, sid, {**_v1_doc(sid), "schema": 3, "created": V1_UPDATED})
    with pytest.raises(StoreError) as error:
        backend.store.load(sid)
    assert not isinstance(error.value, IntegrityError)
    assert "schema 3" in str(error.value) and "schema 2" in str(error.value)
