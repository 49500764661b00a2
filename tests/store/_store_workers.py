"""Child-process bodies for the store's concurrency and crash tests.

They live in a plain module (not a test module) so that `multiprocessing` with
the spawn start method can import them by name in the child.
"""

from __future__ import annotations

import os
import random
import time
import traceback
from typing import Any

from _backends import open_at

from tpr_widgets.errors import ConflictError, StoreError
from tpr_widgets.store import FileStore, Store


def load_commit_loop(
    root: str, session_id: str, writer: int, loops: int, barrier: Any, results: Any
) -> None:
    """Load then commit `loops` times; report (writer, successes, conflicts).

    `root` is a store folder or a redis:// URL.
    """
    try:
        store = open_at(root)
        successes = conflicts = 0
        rng = random.Random(writer)
        barrier.wait(timeout=60)
        for index in range(loops):
            checkpoint = store.load(session_id)
            time.sleep(rng.uniform(0.0, 0.002))  # widen the load-commit window
            state = {"rev": checkpoint.revision + 1, "writer": writer, "i": index}
            try:
                store.commit(session_id, checkpoint.revision, state, checkpoint.data)
            except ConflictError:
                conflicts += 1
            else:
                successes += 1
        results.put(("ok", writer, successes, conflicts))
    except BaseException:
        results.put(("error", writer, traceback.format_exc(), 0))


def _commit_next(store: Store, session_id: str) -> int:
    """Load and commit the next revision (new data every fourth); return it."""
    checkpoint = store.load(session_id)
    revision = checkpoint.revision + 1
    data = dict(checkpoint.data)
    table_rev = checkpoint.state["table_rev"]
    if revision % 4 == 0:
        payload = {"rev": revision, "noise": os.urandom(512)}
        data["table"] = store.write_data(session_id, payload)
        table_rev = revision
    state = {"rev": revision, "table_rev": table_rev, "stage": "period"}
    return store.commit(session_id, checkpoint.revision, state, data).revision


def commit_forever(
    root: str,
    session_id: str,
    ready: Any,
    acked: Any = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Commit as fast as possible until killed; new data every few revisions.

    Each state records the revision it was written with ("rev") and the revision
    whose data the "table" ref holds ("table_rev"), so a survivor can check that
    manifest, state and data agree. `acked` (a shared int, if given) holds the
    last revision whose `commit` returned: after a kill the stored revision must
    be that one or the next (killed after the write, before the return). `root`
    is a store folder or a redis:// URL, opened with `options`.
    """
    store = open_at(root, **(options or {}))
    if acked is not None:
        acked.value = store.load(session_id).revision
    ready.set()
    while True:
        committed = _commit_next(store, session_id)
        if acked is not None:
            acked.value = committed


def commit_until_store_error(
    url: str, session_id: str, ready: Any, acked: Any, results: Any
) -> None:
    """Commit in a loop until the store fails; report the error it gave.

    Reports ("store-error", message) for a `StoreError`, else ("error",
    traceback): anything but a clear `StoreError` is a failure of the test.
    """
    try:
        # A lock left by the writer before the server stopped expires quickly.
        store = open_at(url, socket_timeout=2.0, connect_timeout=2.0, lock_seconds=0.5)
        acked.value = store.load(session_id).revision
        ready.set()
        while True:
            acked.value = _commit_next(store, session_id)
    except StoreError as error:
        results.put(("store-error", str(error)))
    except BaseException:
        results.put(("error", traceback.format_exc()))


def open_and_write(root: str, session_id: str, barrier: Any, results: Any) -> None:
    """Open a store (racing to create its key file) and write one data file."""
    try:
        barrier.wait(timeout=60)
        store = FileStore(root)
        ref = store.write_data(session_id, {"writer": session_id})
        results.put(("ok", session_id, ref))
    except BaseException:
        results.put(("error", session_id, traceback.format_exc()))


def workflow_loop(
    root: str, session_id: str, writer: int, loops: int, barrier: Any, results: Any
) -> None:
    """Act on one session through `Workflow` `loops` times from its own process.

    Each round reloads the session and makes one change that depends on the
    stage it found (choose the age group, or go back to it), so two writers that
    loaded the same revision race for the same next revision. Reports
    ("ok", writer, revisions it committed, conflicts it was told about).
    """
    from tpr_widgets.workflow import Workflow

    try:
        workflow = Workflow.resume(root, session_id)  # a folder or a redis:// URL
        committed: list[int] = []
        conflicts = 0
        rng = random.Random(1000 + writer)
        barrier.wait(timeout=120)
        for _ in range(loops):
            workflow.reload()
            time.sleep(rng.uniform(0.0, 0.003))  # widen the load-commit window
            try:
                if workflow.stage == "age_group":
                    workflow.select("u5" if writer == 0 else "o5")
                else:
                    workflow.go_back("age_group")
            except ConflictError:
                conflicts += 1
            else:
                committed.append(workflow.revision)
        results.put(("ok", writer, committed, conflicts))
    except BaseException:
        results.put(("error", writer, traceback.format_exc(), 0))


def hold_lock(lock_path: str, held: Any, release: Any) -> None:
    """Hold a session's writer lock until `release` is set (as a commit would)."""
    from filelock import FileLock

    with FileLock(lock_path):
        held.set()
        release.wait(timeout=60)
