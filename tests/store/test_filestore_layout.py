"""File store only: its folder layout, file modes, file times and trash folders.

What both backends promise is tested with the `backend` fixture elsewhere; these
are the file store's own ways of keeping that promise.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import pytest
from _store_helpers import data_path, manifest_path, session_dir

from tpr_widgets.store import FileStore, new_session_id
from tpr_widgets.store.retention import last_touched

DAY = 86_400.0


def _age(root: Path, sid: str, days: float) -> None:
    when = time.time() - days * DAY
    folder = session_dir(root, sid)
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (when, when), follow_symlinks=False)


def test_layout_of_a_committed_session(store: FileStore, root: Path, sid: str) -> None:
    ref = store.write_data(sid, {"rows": [1]})
    store.commit(sid, 0, {}, {"table": ref})

    assert sorted(p.name for p in session_dir(root, sid).iterdir()) == [
        ".lock",
        "data",
        "manifest.json",
    ]
    assert [p.name for p in (session_dir(root, sid) / "data").iterdir()] == [
        f"{ref}.pkl"
    ]
    assert manifest_path(root, sid).read_bytes().endswith(b"}\n")


def test_write_data_leaves_an_existing_file_in_place(
    store: FileStore, root: Path, sid: str
) -> None:
    first = store.write_data(sid, {"a": 1})
    inode = data_path(root, sid, first).stat().st_ino

    assert store.write_data(sid, {"a": 1}) == first
    assert data_path(root, sid, first).stat().st_ino == inode


def test_delete_leaves_no_folder(store: FileStore, root: Path, sid: str) -> None:
    store.write_data(sid, "x")
    store.commit(sid, 0, {}, {})
    store.delete(sid)
    assert list((root / "sessions").iterdir()) == []


def test_sessions_skips_folders_that_are_not_sessions(
    store: FileStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sid = new_session_id()
    store.commit(sid, 0, {}, {})
    (root / "sessions" / "not-a-session").mkdir()
    (root / "sessions" / ("0" * 32)).mkdir()  # a session folder, nothing committed

    with caplog.at_level(logging.WARNING):
        assert [info.session_id for info in store.sessions()] == [sid]
    assert caplog.text == ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_session_folder_contents_are_private(
    store: FileStore, root: Path, sid: str
) -> None:
    ref = store.write_data(sid, {"table": list(range(100))})
    store.commit(sid, 0, {}, {"table": ref})
    for path in (manifest_path(root, sid), data_path(root, sid, ref)):
        assert (path.stat().st_mode & 0o077) == 0
    assert (session_dir(root, sid).stat().st_mode & 0o077) == 0


def test_a_load_refreshes_the_folder_time(
    store: FileStore, root: Path, sid: str
) -> None:
    store.commit(sid, 0, {}, {})
    _age(root, sid, 40)
    assert last_touched(session_dir(root, sid)) < time.time() - 39 * DAY

    store.load(sid)

    assert last_touched(session_dir(root, sid)) > time.time() - 60


def test_only_session_folders_and_old_trash_are_removed(
    store: FileStore, root: Path
) -> None:
    sessions = root / "sessions"
    (sessions / "README.txt").write_text("not a session")
    (sessions / "NOT-A-SESSION").mkdir()
    old_trash = sessions / f".trash-{new_session_id()}-0a0b0c0d"
    new_trash = sessions / f".trash-{new_session_id()}-01020304"
    for trash in (old_trash, new_trash):
        trash.mkdir()
        (trash / "manifest.json").write_text("{}")
    when = time.time() - 31 * DAY
    for path in (sessions / "README.txt", sessions / "NOT-A-SESSION", old_trash):
        os.utime(path, (when, when))

    assert store.remove_expired() == []

    assert (sessions / "README.txt").exists() and (sessions / "NOT-A-SESSION").exists()
    assert not old_trash.exists() and new_trash.exists()
