"""Retention: sessions untouched for the period go, sessions in use never do."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest
from _store_helpers import manifest_path, session_dir
from _store_workers import hold_lock

from tpr_widgets.errors import InputError
from tpr_widgets.store import FileStore, new_session_id
from tpr_widgets.store.retention import last_touched, retention_seconds

DAY = 86_400.0


def _saved(store: FileStore) -> str:
    sid = new_session_id()
    ref = store.write_data(sid, {"rows": [1, 2]})
    store.commit(sid, 0, {"stage": "state"}, {"table": ref})
    return sid


def _age(root: Path, sid: str, days: float) -> None:
    """Make every file time of a session `days` old."""
    when = time.time() - days * DAY
    folder = session_dir(root, sid)
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (when, when), follow_symlinks=False)


def test_retention_period_from_argument_setting_and_default() -> None:
    assert retention_seconds(environ={}) == 30 * DAY
    assert retention_seconds(environ={"TPR_WIDGETS_RETENTION_DAYS": "7"}) == 7 * DAY
    assert retention_seconds(environ={"TPR_WIDGETS_RETENTION_DAYS": " "}) == 30 * DAY
    assert retention_seconds(0.5, environ={}) == DAY / 2


@pytest.mark.parametrize("raw", ["soon", "0", "-3", "nan", "inf"])
def test_bad_retention_setting_is_refused_by_name(raw: str) -> None:
    with pytest.raises(InputError) as error:
        retention_seconds(environ={"TPR_WIDGETS_RETENTION_DAYS": raw})
    assert f"TPR_WIDGETS_RETENTION_DAYS={raw!r}" in str(error.value)


def test_default_keeps_29_days_and_removes_31(store: FileStore, root: Path) -> None:
    young, old = _saved(store), _saved(store)
    _age(root, young, 29)
    _age(root, old, 31)

    assert store.remove_expired() == [old]

    assert not session_dir(root, old).exists()
    assert store.load(young).state == {"stage": "state"}
    assert [info.session_id for info in store.sessions()] == [young]


def test_setting_changes_the_period(
    store: FileStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, gone = _saved(store), _saved(store)
    _age(root, kept, 6)
    _age(root, gone, 8)
    monkeypatch.setenv("TPR_WIDGETS_RETENTION_DAYS", "7")
    assert store.remove_expired() == [gone]
    assert session_dir(root, kept).is_dir()


def test_loading_counts_as_a_touch(store: FileStore, root: Path) -> None:
    sid = _saved(store)
    _age(root, sid, 40)
    assert last_touched(session_dir(root, sid)) < time.time() - 39 * DAY

    store.load(sid)  # the researcher reopens it

    assert store.remove_expired() == []
    assert store.load(sid).revision == 1


def test_a_commit_counts_as_a_touch(store: FileStore, root: Path) -> None:
    sid = _saved(store)
    _age(root, sid, 40)
    os.utime(manifest_path(root, sid))  # what a commit does to the manifest
    assert store.remove_expired() == []


def test_a_session_whose_lock_is_held_is_never_removed(
    store: FileStore, root: Path
) -> None:
    busy, idle = _saved(store), _saved(store)
    _age(root, busy, 90)
    _age(root, idle, 90)
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(
        target=hold_lock, args=(str(session_dir(root, busy) / ".lock"), held, release)
    )
    holder.start()
    try:
        assert held.wait(timeout=60)
        assert store.remove_expired() == [idle]
        assert store.load(busy).revision == 1
    finally:
        release.set()
        holder.join(timeout=30)
    _age(root, busy, 90)
    assert store.remove_expired() == [busy]  # once it is no longer in use


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


def test_a_new_workflow_runs_the_cleanup(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tpr_widgets import workflow as workflow_module
    from tpr_widgets.workflow import Workflow

    store = FileStore(root)
    old = _saved(store)
    _age(root, old, 31)
    monkeypatch.setattr(workflow_module, "_last_expiry", {})

    fresh = Workflow.new(root)

    assert not session_dir(root, old).exists()
    assert [info.session_id for info in store.sessions()] == [fresh.session_id]
