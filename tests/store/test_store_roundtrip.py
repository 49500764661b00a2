"""FileStore basics: commit/load, revisions, conflicts, data refs, open_store."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from _store_helpers import data_path, manifest_path, session_dir
from filelock import FileLock

from tpr_widgets.errors import ConflictError, InputError, IntegrityError, StoreError
from tpr_widgets.store import (
    SCHEMA_VERSION,
    Checkpoint,
    FileStore,
    SessionInfo,
    Store,
    new_session_id,
    open_store,
)

STATE: dict[str, Any] = {
    "stage": "age_group",
    "label": "kano_2023.xlsx",
    "selections": {"state": "Kano", "facility_level": "primary"},
    "summary": {"records": 1234, "completeness": 0.875, "notes": ["a", "b"]},
    "flags": [],
    "missing": None,
    "ok": True,
    "text": "Ọ̀yọ́ — ünïcode",
}


def test_exports_match_the_interface() -> None:
    assert SCHEMA_VERSION == 2
    assert {"Checkpoint", "SessionInfo", "FileStore", "open_store"} <= set(
        __import__("tpr_widgets.store", fromlist=["x"]).__all__
    )
    sid = new_session_id()
    assert len(sid) == 32 and set(sid) <= set("0123456789abcdef")


def test_commit_load_round_trip(store: FileStore, sid: str) -> None:
    ref = store.write_data(sid, {"rows": [1, 2, 3]})

    created = store.commit(sid, 0, STATE, {"table": ref})
    loaded = store.load(sid)

    assert isinstance(store, Store)
    assert created == loaded
    assert loaded.session_id == sid and loaded.revision == 1
    assert loaded.state == STATE and loaded.data == {"table": ref}
    assert loaded.updated.endswith("+00:00")
    assert store.read_data(sid, loaded.data["table"]) == {"rows": [1, 2, 3]}


def test_revision_increments(store: FileStore, sid: str) -> None:
    revisions = [store.commit(sid, 0, {"n": 0}, {}).revision]
    for n in range(1, 5):
        revisions.append(store.commit(sid, revisions[-1], {"n": n}, {}).revision)

    assert revisions == [1, 2, 3, 4, 5]
    assert store.load(sid).state == {"n": 4}


def test_stale_revision_is_a_conflict_and_changes_nothing(
    store: FileStore, root: Path, sid: str
) -> None:
    store.commit(sid, 0, {"n": 1}, {})
    store.commit(sid, 1, {"n": 2}, {})
    before = manifest_path(root, sid).read_bytes()

    with pytest.raises(ConflictError) as error:
        store.commit(sid, 1, {"n": "stale"}, {})
    with pytest.raises(ConflictError):
        store.commit(sid, 7, {"n": "future"}, {})

    assert "revision 2, you had 1" in str(error.value)
    assert "reload" in str(error.value)
    assert manifest_path(root, sid).read_bytes() == before


def test_creating_an_existing_session_is_a_conflict(
    store: FileStore, root: Path, sid: str
) -> None:
    store.commit(sid, 0, {"n": 1}, {})
    before = manifest_path(root, sid).read_bytes()

    with pytest.raises(ConflictError, match="already exists"):
        store.commit(sid, 0, {"n": "again"}, {})

    assert manifest_path(root, sid).read_bytes() == before


def test_commit_into_a_missing_session_creates_nothing(
    store: FileStore, root: Path, sid: str
) -> None:
    with pytest.raises(InputError, match="no saved session"):
        store.commit(sid, 3, {}, {})
    assert not session_dir(root, sid).exists()


def test_load_of_a_missing_session_is_an_input_error(store: FileStore) -> None:
    with pytest.raises(InputError, match="no saved session") as error:
        store.load(new_session_id())
    assert not isinstance(error.value, KeyError)


def test_refs_must_exist_for_this_session(
    store: FileStore, root: Path, sid: str
) -> None:
    other = new_session_id()
    foreign_ref = store.write_data(other, "belongs to another session")
    store.commit(sid, 0, {}, {})
    before = manifest_path(root, sid).read_bytes()

    with pytest.raises(StoreError, match="was not written"):
        store.commit(sid, 1, {}, {"table": foreign_ref})
    with pytest.raises(StoreError, match="was not written"):
        store.commit(sid, 1, {}, {"table": "0" * 64})
    with pytest.raises(InputError, match="not valid"):
        store.commit(sid, 1, {}, {"table": "../../etc/passwd"})

    assert manifest_path(root, sid).read_bytes() == before


def test_returned_state_is_a_copy(store: FileStore, sid: str) -> None:
    state = {"selections": {"state": "Kano"}}
    checkpoint = store.commit(sid, 0, state, {})

    state["selections"]["state"] = "changed after commit"
    checkpoint.state["selections"]["state"] = "changed in the checkpoint"

    assert store.load(sid).state == {"selections": {"state": "Kano"}}


def test_write_data_is_idempotent_and_works_before_first_commit(
    store: FileStore, root: Path, sid: str
) -> None:
    first = store.write_data(sid, {"a": 1})
    inode = data_path(root, sid, first).stat().st_ino

    assert store.write_data(sid, {"a": 1}) == first
    assert data_path(root, sid, first).stat().st_ino == inode
    assert store.write_data(sid, {"a": 2}) != first
    assert len(first) == 64


def test_write_data_repairs_a_damaged_file(
    store: FileStore, root: Path, sid: str
) -> None:
    ref = store.write_data(sid, [1, 2, 3])
    data_path(root, sid, ref).write_bytes(b"garbage")

    assert store.write_data(sid, [1, 2, 3]) == ref
    assert FileStore(root).read_data(sid, ref) == [1, 2, 3]


def test_read_data_of_a_missing_file_is_an_integrity_error(
    store: FileStore, sid: str
) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        store.read_data(sid, "ab" * 32)


def test_read_data_cache_is_per_session_and_forgotten_on_delete(
    store: FileStore, sid: str
) -> None:
    ref = store.write_data(sid, {"big": "table"})
    first = store.read_data(sid, ref)

    assert store.read_data(sid, ref) is first
    with pytest.raises(IntegrityError):
        store.read_data(new_session_id(), ref)
    store.delete(sid)
    with pytest.raises(IntegrityError, match="missing"):
        store.read_data(sid, ref)


def test_delete(store: FileStore, root: Path, sid: str) -> None:
    store.write_data(sid, "x")
    store.commit(sid, 0, {}, {})

    store.delete(sid)
    store.delete(sid)
    store.delete(new_session_id())

    assert list((root / "sessions").iterdir()) == []
    with pytest.raises(InputError):
        store.load(sid)


def test_sessions_newest_first_with_stage_and_label(store: FileStore) -> None:
    a, b, c = new_session_id(), new_session_id(), new_session_id()
    store.commit(a, 0, {"stage": "upload", "label": "a.csv"}, {})
    store.commit(b, 0, {"stage": "state", "label": 5}, {})
    store.commit(c, 0, {}, {})
    store.commit(a, 1, {"stage": "period", "label": "a.csv"}, {})

    listed = store.sessions()

    assert [info.session_id for info in listed] == [a, c, b]
    assert listed[0] == SessionInfo(
        a, 2, listed[0].updated, "period", "a.csv", listed[0].created
    )
    assert listed[0].created < listed[0].updated
    assert (listed[2].stage, listed[2].label) == ("state", None)


def test_sessions_skips_unreadable_and_uncommitted(
    store: FileStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad, uncommitted = new_session_id(), new_session_id(), new_session_id()
    store.commit(good, 0, {"stage": "upload"}, {})
    store.commit(bad, 0, {"stage": "upload"}, {})
    manifest_path(root, bad).write_text('{"schema": 1, "trunc', encoding="utf-8")
    store.write_data(uncommitted, "only data so far")
    (root / "sessions" / "not-a-session").mkdir()

    with caplog.at_level(logging.WARNING):
        listed = store.sessions()

    assert [info.session_id for info in listed] == [good]
    assert bad[:6] in caplog.text and bad not in caplog.text


def test_lock_timeout_is_a_busy_store_error(root: Path, sid: str) -> None:
    store = FileStore(root, lock_timeout=0.2)
    store.commit(sid, 0, {}, {})

    with (
        FileLock(session_dir(root, sid) / ".lock"),
        pytest.raises(StoreError, match="busy") as error,
    ):
        store.commit(sid, 1, {}, {})

    assert "Try again" in str(error.value)
    assert store.commit(sid, 1, {}, {}).revision == 2


def test_log_lines_shorten_session_ids(
    store: FileStore, sid: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tpr_widgets.store"):
        store.commit(sid, 0, {}, {})
        store.load(sid)

    assert "committed session" in caplog.text and "loaded session" in caplog.text
    assert f"{sid[:6]}…" in caplog.text and sid not in caplog.text
    assert " ms" in caplog.text


def test_open_store_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = open_store(tmp_path / "explicit")
    monkeypatch.setenv("TPR_WIDGETS_HOME", str(tmp_path / "from_env"))
    from_env = open_store()
    monkeypatch.delenv("TPR_WIDGETS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    default = open_store()

    assert isinstance(explicit, FileStore) and isinstance(from_env, FileStore)
    assert isinstance(default, FileStore)
    assert explicit.root == tmp_path / "explicit"
    assert from_env.root == tmp_path / "from_env"
    assert default.root == tmp_path / "home" / ".tpr_widgets"
    if sys.platform != "win32":
        assert (os.stat(explicit.root).st_mode & 0o777) == 0o700


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "REDIS://x"])
def test_open_store_redis_is_not_available_yet(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Redis store is not available yet"):
        open_store(url)


def test_open_store_refuses_other_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="looks like a URL"):
        open_store("s3://bucket/prefix")
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_is_frozen(store: FileStore, sid: str) -> None:
    checkpoint = store.commit(sid, 0, {}, {})
    with pytest.raises(AttributeError):
        checkpoint.revision = 5  # type: ignore[misc]
    assert isinstance(checkpoint, Checkpoint)
