"""The file store on Windows: no directory fsync, no renaming a locked folder.

Windows cannot open a directory to fsync it and cannot rename a folder that
holds an open file. These tests make this machine behave that way and check the
store still commits, loads, deletes and expires sessions.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from _store_helpers import session_dir

from tpr_widgets.errors import InputError
from tpr_widgets.store import FileStore, fsutil, new_session_id


@pytest.fixture
def windows_like(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsutil, "_WINDOWS", True)
    real_fsync, real_replace = os.fsync, os.replace

    def no_directory_fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise PermissionError(13, "Access is denied")
        real_fsync(fd)

    def no_folder_rename(src: object, dst: object) -> None:
        if os.path.isdir(src):  # type: ignore[arg-type]
            raise PermissionError(32, "The file is in use", str(src))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", no_directory_fsync)
    monkeypatch.setattr(os, "replace", no_folder_rename)


@pytest.mark.usefixtures("windows_like")
def test_commit_load_delete_without_directory_fsync(root: Path) -> None:
    store = FileStore(root)
    sid = new_session_id()
    ref = store.write_data(sid, {"rows": [1, 2, 3]})
    store.commit(sid, 0, {"stage": "state"}, {"table": ref})
    store.commit(sid, 1, {"stage": "age_group"}, {"table": ref})

    assert FileStore(root).load(sid).state == {"stage": "age_group"}
    assert FileStore(root).read_data(sid, ref) == {"rows": [1, 2, 3]}

    store.delete(sid)
    with pytest.raises(InputError):
        store.load(sid)
    assert not session_dir(root, sid).exists()


@pytest.mark.usefixtures("windows_like")
def test_expiry_without_folder_rename(root: Path) -> None:
    store = FileStore(root)
    sid = new_session_id()
    store.commit(sid, 0, {"stage": "upload"}, {})
    when = time.time() - 40 * 86_400
    for path in [*session_dir(root, sid).rglob("*"), session_dir(root, sid)]:
        os.utime(path, (when, when))

    assert store.remove_expired() == [sid]
    assert not session_dir(root, sid).exists()
