"""File store only: cleanup after a commit keeps what is referenced or fresh (by
file time) and drops old leftovers. The Redis store does this with TTLs (see
`test_redis_store`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from _store_helpers import data_path, session_dir

from tpr_widgets.store import FileStore
from tpr_widgets.store.filestore import CLEANUP_GRACE_SECONDS


def _age(path: Path, seconds: float = CLEANUP_GRACE_SECONDS + 60) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_cleanup_keeps_referenced_and_fresh_files(
    store: FileStore, root: Path, sid: str
) -> None:
    r1 = store.write_data(sid, "revision 1")
    store.commit(sid, 0, {}, {"table": r1})
    r2 = store.write_data(sid, "revision 2")
    store.commit(sid, 1, {}, {"table": r2})
    orphan_old = store.write_data(sid, "never committed, old")
    orphan_fresh = store.write_data(sid, "never committed, fresh")
    r3 = store.write_data(sid, "revision 3")
    for ref in (r1, r2, orphan_old, r3):
        _age(data_path(root, sid, ref))

    store.commit(sid, 2, {}, {"table": r3})

    assert data_path(root, sid, r3).exists(), "referenced by the new manifest"
    assert data_path(root, sid, r2).exists(), "referenced by the previous one"
    assert data_path(root, sid, orphan_fresh).exists(), "inside the grace period"
    assert not data_path(root, sid, r1).exists(), "old, no longer referenced"
    assert not data_path(root, sid, orphan_old).exists(), "old, never referenced"
    assert store.read_data(sid, r3) == "revision 3"


def test_cleanup_removes_old_temp_files_only(
    store: FileStore, root: Path, sid: str
) -> None:
    store.commit(sid, 0, {}, {"t": store.write_data(sid, 1)})
    folder, data = session_dir(root, sid), session_dir(root, sid) / "data"
    old_temps = [folder / ".tmp-abc.part", data / ".tmp-def.part"]
    fresh_temp = data / ".tmp-fresh.part"
    other = data / "README.txt"
    for path in [*old_temps, fresh_temp, other]:
        path.write_bytes(b"partial")
    for path in [*old_temps, other]:
        _age(path)

    store.commit(sid, 1, {}, {})

    assert [p.exists() for p in old_temps] == [False, False]
    assert fresh_temp.exists() and other.exists()


def test_rewriting_an_old_file_protects_it_from_cleanup(
    store: FileStore, root: Path, sid: str
) -> None:
    """write_data of an existing old file refreshes it, so it survives cleanup."""
    ref = store.write_data(sid, "written long ago")
    store.commit(sid, 0, {}, {})
    _age(data_path(root, sid, ref))

    assert store.write_data(sid, "written long ago") == ref
    store.commit(sid, 1, {}, {})
    store.commit(sid, 2, {}, {"table": ref})

    assert store.read_data(sid, ref) == "written long ago"
