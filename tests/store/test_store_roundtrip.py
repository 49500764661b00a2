"""Store basics on both backends: commit/load, revisions, conflicts, data refs,
listing, delete, the writer lock; and what `open_store` gives for a location.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from _backends import Backend

from tpr_widgets.errors import ConflictError, InputError, IntegrityError, StoreError
from tpr_widgets.store import (
    SCHEMA_VERSION,
    Checkpoint,
    FileStore,
    RedisStore,
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
    assert {
        "Checkpoint",
        "SessionInfo",
        "FileStore",
        "RedisStore",
        "open_store",
    } <= set(__import__("tpr_widgets.store", fromlist=["x"]).__all__)
    sid = new_session_id()
    assert len(sid) == 32 and set(sid) <= set("0123456789abcdef")


def test_commit_load_round_trip(backend: Backend, sid: str) -> None:
    store = backend.store
    ref = store.write_data(sid, {"rows": [1, 2, 3]})

    created = store.commit(sid, 0, STATE, {"table": ref})
    loaded = backend.open().load(sid)

    assert isinstance(store, Store)
    assert created == loaded
    assert loaded.session_id == sid and loaded.revision == 1
    assert loaded.state == STATE and loaded.data == {"table": ref}
    assert loaded.updated.endswith("+00:00")
    assert loaded.created == loaded.updated
    assert backend.open().read_data(sid, loaded.data["table"]) == {"rows": [1, 2, 3]}


def test_revision_increments(backend: Backend, sid: str) -> None:
    store = backend.store
    revisions = [store.commit(sid, 0, {"n": 0}, {}).revision]
    for n in range(1, 5):
        revisions.append(store.commit(sid, revisions[-1], {"n": n}, {}).revision)

    assert revisions == [1, 2, 3, 4, 5]
    assert backend.open().load(sid).state == {"n": 4}


def test_stale_revision_is_a_conflict_and_changes_nothing(
    backend: Backend, sid: str
) -> None:
    store = backend.store
    store.commit(sid, 0, {"n": 1}, {})
    store.commit(sid, 1, {"n": 2}, {})
    before = backend.get_manifest(sid)

    with pytest.raises(ConflictError) as error:
        store.commit(sid, 1, {"n": "stale"}, {})
    with pytest.raises(ConflictError, match="revision 2, you had 7"):
        store.commit(sid, 7, {"n": "future"}, {})

    assert "revision 2, you had 1" in str(error.value)
    assert "reload" in str(error.value)
    assert backend.get_manifest(sid) == before
    assert store.load(sid).state == {"n": 2}


def test_creating_an_existing_session_is_a_conflict(backend: Backend, sid: str) -> None:
    store = backend.store
    store.commit(sid, 0, {"n": 1}, {})
    before = backend.get_manifest(sid)

    with pytest.raises(ConflictError, match=r"already exists \(revision 1\)"):
        store.commit(sid, 0, {"n": "again"}, {})

    assert backend.get_manifest(sid) == before


def test_commit_into_a_missing_session_creates_nothing(
    backend: Backend, sid: str
) -> None:
    with pytest.raises(InputError, match="no saved session"):
        backend.store.commit(sid, 3, {}, {})
    assert backend.leftovers(sid) == []


def test_load_of_a_missing_session_is_an_input_error(backend: Backend) -> None:
    with pytest.raises(InputError, match="no saved session") as error:
        backend.store.load(new_session_id())
    assert not isinstance(error.value, KeyError)


def test_refs_must_exist_for_this_session(backend: Backend, sid: str) -> None:
    store = backend.store
    other = new_session_id()
    foreign_ref = store.write_data(other, "belongs to another session")
    store.commit(sid, 0, {}, {})
    before = backend.get_manifest(sid)

    with pytest.raises(StoreError, match=r"'table' .* was not written"):
        store.commit(sid, 1, {}, {"table": foreign_ref})
    with pytest.raises(StoreError, match="was not written"):
        store.commit(sid, 1, {}, {"table": "0" * 64})
    with pytest.raises(InputError, match="not valid"):
        store.commit(sid, 1, {}, {"table": "../../etc/passwd"})

    assert backend.get_manifest(sid) == before
    assert store.load(sid).revision == 1


def test_a_ref_whose_data_was_removed_cannot_be_committed(
    backend: Backend, sid: str
) -> None:
    store = backend.store
    kept = store.write_data(sid, "kept")
    gone = store.write_data(sid, "gone")
    backend.remove_data(sid, gone)

    with pytest.raises(StoreError, match=r"'second' .* was not written"):
        store.commit(sid, 0, {}, {"first": kept, "second": gone})
    assert backend.get_manifest(sid) is None
    assert store.commit(sid, 0, {}, {"first": kept}).data == {"first": kept}


def test_returned_state_is_a_copy(backend: Backend, sid: str) -> None:
    state = {"selections": {"state": "Kano"}}
    checkpoint = backend.store.commit(sid, 0, state, {})

    state["selections"]["state"] = "changed after commit"
    checkpoint.state["selections"]["state"] = "changed in the checkpoint"

    assert backend.store.load(sid).state == {"selections": {"state": "Kano"}}


def test_write_data_is_idempotent_and_works_before_first_commit(
    backend: Backend, sid: str
) -> None:
    store = backend.store
    first = store.write_data(sid, {"a": 1})
    stored = backend.get_data(sid, first)

    assert store.write_data(sid, {"a": 1}) == first
    assert backend.get_data(sid, first) == stored
    second = store.write_data(sid, {"a": 2})
    assert second != first and len(first) == len(second) == 64
    assert backend.stored_refs(sid) == {first, second}
    assert backend.get_manifest(sid) is None


@pytest.mark.parametrize("damage", ["garbage", "bit-flip"])
def test_write_data_repairs_damaged_data(
    backend: Backend, sid: str, damage: str
) -> None:
    store = backend.store
    ref = store.write_data(sid, [1, 2, 3])
    genuine = backend.get_data(sid, ref)
    assert genuine is not None
    if damage == "garbage":
        backend.put_data(sid, ref, b"garbage")
    else:  # the same length, one bit of the pickle changed
        backend.put_data(
            sid, ref, genuine[:-3] + bytes([genuine[-3] ^ 1]) + genuine[-2:]
        )
    with pytest.raises(IntegrityError):
        backend.open(cache_size=0).read_data(sid, ref)

    assert store.write_data(sid, [1, 2, 3]) == ref
    assert backend.get_data(sid, ref) == genuine
    assert backend.open().read_data(sid, ref) == [1, 2, 3]


def test_read_data_of_missing_data_is_an_integrity_error(
    backend: Backend, sid: str
) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        backend.store.read_data(sid, "ab" * 32)


def test_read_data_cache_is_per_session_and_forgotten_on_delete(
    backend: Backend, sid: str
) -> None:
    store = backend.store
    ref = store.write_data(sid, {"big": "table"})
    first = store.read_data(sid, ref)

    assert store.read_data(sid, ref) is first
    with pytest.raises(IntegrityError):
        store.read_data(new_session_id(), ref)
    store.delete(sid)
    with pytest.raises(IntegrityError, match="missing"):
        store.read_data(sid, ref)


def test_delete_removes_everything_of_the_session(backend: Backend, sid: str) -> None:
    store = backend.store
    other = new_session_id()
    store.commit(other, 0, {"n": "other"}, {"t": store.write_data(other, "other")})
    old = store.write_data(sid, "x")
    store.commit(sid, 0, {}, {"t": old})
    store.commit(sid, 1, {}, {"t": store.write_data(sid, "y")})
    store.write_data(sid, "never committed")
    assert backend.leftovers(sid) != []

    store.delete(sid)
    store.delete(sid)
    store.delete(new_session_id())

    assert backend.leftovers(sid) == []
    with pytest.raises(InputError):
        store.load(sid)
    assert [info.session_id for info in store.sessions()] == [other]
    assert store.load(other).state == {"n": "other"}


def test_sessions_newest_first_with_stage_and_label(backend: Backend) -> None:
    store = backend.store
    a, b, c = new_session_id(), new_session_id(), new_session_id()
    store.commit(a, 0, {"stage": "upload", "label": "a.csv"}, {})
    store.commit(b, 0, {"stage": "state", "label": 5}, {})
    store.commit(c, 0, {}, {})
    store.commit(a, 1, {"stage": "period", "label": "a.csv"}, {})

    listed = backend.open().sessions()

    assert [info.session_id for info in listed] == [a, c, b]
    assert listed[0] == SessionInfo(
        a, 2, listed[0].updated, "period", "a.csv", listed[0].created
    )
    assert listed[0].created < listed[0].updated
    assert (listed[1].stage, listed[1].label, listed[1].revision) == (None, None, 1)
    assert (listed[2].stage, listed[2].label) == ("state", None)


def test_sessions_of_an_empty_store_is_empty(backend: Backend) -> None:
    assert backend.store.sessions() == []


def test_sessions_skips_unreadable_and_uncommitted(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    store = backend.store
    good, bad, uncommitted = new_session_id(), new_session_id(), new_session_id()
    store.commit(good, 0, {"stage": "upload"}, {})
    store.commit(bad, 0, {"stage": "upload"}, {})
    backend.put_manifest(bad, b'{"schema": 1, "trunc')
    store.write_data(uncommitted, "only data so far")

    with caplog.at_level(logging.WARNING):
        listed = store.sessions()

    assert [info.session_id for info in listed] == [good]
    assert bad[:6] in caplog.text and bad not in caplog.text


def test_lock_timeout_is_a_busy_store_error(backend: Backend, sid: str) -> None:
    store = backend.open(lock_timeout=0.2)
    store.commit(sid, 0, {}, {})

    with backend.hold_lock(sid), pytest.raises(StoreError, match="busy") as error:
        store.commit(sid, 1, {}, {})

    assert "over 0.2 s. Try again" in str(error.value)
    assert store.load(sid).revision == 1
    assert store.commit(sid, 1, {}, {}).revision == 2


def test_delete_waits_for_the_lock_too(backend: Backend, sid: str) -> None:
    store = backend.open(lock_timeout=0.2)
    store.commit(sid, 0, {"n": 1}, {})

    with backend.hold_lock(sid), pytest.raises(StoreError, match="busy"):
        store.delete(sid)

    assert store.load(sid).state == {"n": 1}


def test_log_lines_shorten_session_ids(
    backend: Backend, sid: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tpr_widgets.store"):
        backend.store.commit(sid, 0, {}, {})
        backend.store.load(sid)

    assert "committed session" in caplog.text and "loaded session" in caplog.text
    assert f"{sid[:6]}…" in caplog.text and sid not in caplog.text
    assert " ms" in caplog.text


def test_checkpoint_is_frozen(backend: Backend, sid: str) -> None:
    checkpoint = backend.store.commit(sid, 0, {}, {})
    with pytest.raises(AttributeError):
        checkpoint.revision = 5
    assert isinstance(checkpoint, Checkpoint)


# -- open_store -------------------------------------------------------------


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


def test_open_store_gives_a_redis_store_for_a_redis_url(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, sid: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", "a-shared-secret-of-the-deployment")
    store = open_store(redis_url)
    shouted = redis_url.replace("redis://", "REDIS://")

    assert isinstance(store, RedisStore)
    assert store.prefix == redis_url.rsplit("prefix=", 1)[1]
    store.commit(sid, 0, {"n": 1}, {})
    assert isinstance(open_store(shouted), RedisStore)
    assert open_store(shouted).load(sid).state == {"n": 1}
    monkeypatch.setenv("TPR_WIDGETS_HOME", redis_url)
    assert open_store().load(sid).state == {"n": 1}


def test_open_store_refuses_other_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="looks like a URL"):
        open_store("s3://bucket/prefix")
    assert list(tmp_path.iterdir()) == []
