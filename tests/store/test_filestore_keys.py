"""File store only: the signing secret from env keys and rotation, the key file,
racing creators. (The Redis store takes TPR_WIDGETS_SECRET only; see
`test_redis_store`.)
"""

from __future__ import annotations

import multiprocessing
import re
import sys
from pathlib import Path

import pytest
from _store_workers import open_and_write

from tpr_widgets.errors import IntegrityError, StoreError
from tpr_widgets.store import FileStore, new_session_id

KEY1 = "key-one-0123456789abcdef"
KEY2 = "key-two-fedcba9876543210"


def test_key_rotation(root: Path, sid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", KEY1)
    old = FileStore(root)
    old_ref = old.write_data(sid, {"written": "under key1"})
    old.commit(sid, 0, {"stage": "upload"}, {"old": old_ref})

    monkeypatch.setenv("TPR_WIDGETS_SECRET", f" {KEY2} , {KEY1} ")
    rotated = FileStore(root, cache_size=0)
    assert rotated.load(sid).revision == 1
    assert rotated.read_data(sid, old_ref) == {"written": "under key1"}
    new_ref = rotated.write_data(sid, {"written": "under key2"})
    rotated.commit(sid, 1, {"stage": "state"}, {"old": old_ref, "new": new_ref})

    monkeypatch.setenv("TPR_WIDGETS_SECRET", KEY2)
    only_new = FileStore(root, cache_size=0)
    assert only_new.load(sid).revision == 2
    assert only_new.read_data(sid, new_ref) == {"written": "under key2"}
    with pytest.raises(IntegrityError):
        only_new.read_data(sid, old_ref)

    monkeypatch.setenv("TPR_WIDGETS_SECRET", KEY1)
    only_old = FileStore(root, cache_size=0)
    with pytest.raises(IntegrityError):
        only_old.load(sid)
    with pytest.raises(IntegrityError):
        only_old.read_data(sid, new_ref)


def test_env_secret_means_no_key_file(
    root: Path, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", KEY1)
    FileStore(root).commit(sid, 0, {}, {})
    assert not (root / ".secret").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short", "at least 16"),
        (f"{KEY1},tiny", "at least 16"),
        ("", "empty key"),
        ("   ", "empty key"),
        (f"{KEY1},", "empty key"),
        (f"{KEY1},,{KEY2}", "empty key"),
    ],
)
def test_bad_env_secrets_are_refused(
    root: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", value)
    with pytest.raises(StoreError, match=message):
        FileStore(root)
    assert not (root / ".secret").exists()


def test_key_file_is_made_once_and_shared(root: Path, sid: str) -> None:
    first = FileStore(root)
    key = (root / ".secret").read_text(encoding="ascii")
    ref = first.write_data(sid, "shared")
    first.commit(sid, 0, {"n": 1}, {"t": ref})

    second = FileStore(root)

    assert re.fullmatch(r"[0-9a-f]{64}\n", key)
    assert (root / ".secret").read_text(encoding="ascii") == key
    assert second.load(sid).state == {"n": 1}
    assert second.read_data(sid, ref) == "shared"
    assert [p.name for p in root.iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_key_file_is_private(root: Path) -> None:
    FileStore(root)
    assert ((root / ".secret").stat().st_mode & 0o777) == 0o600


def test_damaged_key_file_is_refused(root: Path) -> None:
    FileStore(root)
    (root / ".secret").write_text("abc\n", encoding="ascii")
    with pytest.raises(StoreError, match="damaged"):
        FileStore(root)


def test_racing_processes_create_one_key(root: Path) -> None:
    """Processes opening a new store at once all sign with the same key."""
    context = multiprocessing.get_context("spawn")
    count = 6
    barrier = context.Barrier(count)
    results = context.Queue()
    sessions = [new_session_id() for _ in range(count)]
    workers = [
        context.Process(target=open_and_write, args=(str(root), s, barrier, results))
        for s in sessions
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert [r for r in reports if r[0] != "ok"] == []
    reader = FileStore(root)
    for _, session_id, ref in reports:
        assert reader.read_data(session_id, ref) == {"writer": session_id}
    assert sorted(p.name for p in root.iterdir()) == [".secret", "sessions"]
