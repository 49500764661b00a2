"""Several processes on one session, on both backends: no lost updates, no torn
checkpoints, and a writer killed at any moment leaves the previous checkpoint or
the next one.

`TPR_STORE_LOOPS` (default 100 per writer) and `TPR_STORE_KILLS` (default 30)
make a longer soak run; the kill test at the size the issue asks for is
`TPR_STORE_KILLS=100 pytest tests/store -k killed_writer -s` (both backends).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import sys
import threading
import time
from typing import Any

import pytest
from _backends import Backend, FileBackend, RedisBackend
from _store_workers import commit_forever, load_commit_loop

from tpr_widgets.errors import ConflictError
from tpr_widgets.store import Store

LOOPS = int(os.environ.get("TPR_STORE_LOOPS", "100"))
KILLS = int(os.environ.get("TPR_STORE_KILLS", "30"))
#: A killed writer's Redis lock expires after this long in the kill test, so
#: the next writer waits for it instead of for the 30 s of a deployment.
KILLED_LOCK_SECONDS = 0.5


def test_two_processes_load_commit_loops(backend: Backend, sid: str) -> None:
    backend.store.commit(sid, 0, {"rev": 1, "writer": -1, "i": -1}, {})
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(
            target=load_commit_loop,
            args=(backend.location, sid, n, LOOPS, barrier, results),
        )
        for n in range(2)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()

    reader = backend.open()
    reads = 0
    while any(worker.is_alive() for worker in workers):
        raw = backend.get_manifest(sid)
        assert raw is not None
        json.loads(raw)  # what is stored always parses
        checkpoint = reader.load(sid)
        assert checkpoint.state["rev"] == checkpoint.revision
        reads += 1
    reports = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    elapsed = time.perf_counter() - started

    assert [r for r in reports if r[0] != "ok"] == [], reports
    successes = sum(r[2] for r in reports)
    conflicts = sum(r[3] for r in reports)
    final = reader.load(sid)
    print(
        f"\n{backend.name}: 2 x {LOOPS} load+commit: {successes} commits, "
        f"{conflicts} conflicts, {reads} concurrent reads, {elapsed:.2f} s"
    )
    assert successes + conflicts == 2 * LOOPS
    assert final.revision == successes + 1
    assert final.state["rev"] == final.revision
    assert successes >= LOOPS  # each round, at least one of the two wins


def test_threads_in_one_process_are_serialised_too(backend: Backend, sid: str) -> None:
    backend.store.commit(sid, 0, {"n": 0}, {})
    outcomes: list[str] = []

    def work() -> None:
        own = backend.open()
        for _ in range(50):
            checkpoint = own.load(sid)
            try:
                own.commit(sid, checkpoint.revision, {"n": 1}, {})
                outcomes.append("ok")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 200
    assert backend.open().load(sid).revision == outcomes.count("ok") + 1


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")
def test_killed_writer_leaves_a_consistent_checkpoint(
    backend: Backend, sid: str
) -> None:
    store = backend.store
    first = store.write_data(sid, {"rev": 1, "noise": b""})
    store.commit(
        sid, 0, {"rev": 1, "table_rev": 1, "stage": "period"}, {"table": first}
    )
    options: dict[str, Any] = {}
    if isinstance(backend, RedisBackend):
        options["lock_seconds"] = KILLED_LOCK_SECONDS
    context = multiprocessing.get_context("spawn")
    rng = random.Random(20240229)
    checker = backend.open(cache_size=0)
    revisions = [1]
    after_ack = locks_left = 0
    started = time.perf_counter()

    for _ in range(KILLS):
        ready = context.Event()
        acked = context.Value("q", 0, lock=False)
        child = context.Process(
            target=commit_forever, args=(backend.location, sid, ready, acked, options)
        )
        child.start()
        assert ready.wait(timeout=60), "the child did not start"
        time.sleep(rng.uniform(0.0, 0.06))
        child.kill()
        child.join(timeout=30)
        assert child.exitcode == -9, f"the child died on its own ({child.exitcode})"

        checkpoint = checker.load(sid)
        # The last commit that returned, or the one after it (killed between
        # the write and the return): never older, never further, never a mix.
        assert checkpoint.revision in (acked.value, acked.value + 1), (
            checkpoint.revision,
            acked.value,
        )
        after_ack += checkpoint.revision == acked.value + 1
        assert checkpoint.state["rev"] == checkpoint.revision
        table = checker.read_data(sid, checkpoint.data["table"])
        assert isinstance(table, dict) and table["rev"] == checkpoint.state["table_rev"]
        assert checkpoint.revision >= revisions[-1]
        revisions.append(checkpoint.revision)
        if isinstance(backend, RedisBackend):
            locks_left += _check_keys(backend, checker, sid)

    elapsed = time.perf_counter() - started
    if isinstance(backend, FileBackend):
        leftovers = f"{_check_files(backend, checker, sid)} orphaned temp files"
    else:
        leftovers = f"{locks_left} kills left the lock to expire"
    print(
        f"\n{backend.name}: {KILLS} kills: revision {revisions[0]} -> "
        f"{revisions[-1]}, {len(set(revisions))} distinct, {after_ack} killed "
        f"between write and return, {leftovers}, {elapsed:.2f} s"
    )
    assert revisions[-1] > revisions[0], "no child ever committed"
    after = store.load(sid)
    assert store.commit(sid, after.revision, after.state, after.data).revision == (
        after.revision + 1
    ), "a killed writer left the lock held"


def _check_files(backend: FileBackend, checker: Store, sid: str) -> int:
    """Every final-named data file verifies; everything else is a temp file."""
    temps = 0
    folder = backend.root / "sessions" / sid
    for each in (folder, folder / "data"):
        for path in each.iterdir():
            name = path.name
            if name.startswith(".tmp-"):
                temps += 1
            elif match := re.fullmatch(r"([0-9a-f]{64})\.pkl", name):
                checker.read_data(sid, match.group(1))
            else:
                assert name in {"manifest.json", ".lock", "data"}, name
    return temps


def _check_keys(backend: RedisBackend, checker: Store, sid: str) -> int:
    """Every key of the session expires some day and all its data verifies.

    Returns 1 if the killed writer left its lock, else 0. A lock left behind
    must expire on its own within `KILLED_LOCK_SECONDS`; this waits for that, so
    that the next writer is killed while it commits, not while it waits.
    """
    parts = {key.decode().split("}:", 1)[1] for key in backend.keys(sid)}
    assert {"manifest", "touched", "refs"} <= parts, parts
    assert parts - {"manifest", "touched", "refs", "lock"} == {
        f"data:{ref}" for ref in backend.stored_refs(sid)
    }
    for part in parts:
        left = backend.pttl(sid, part)
        assert left > 0 or left == -2, (part, left)  # -2: gone since the scan
    for ref in backend.stored_refs(sid):
        checker.read_data(sid, ref)
    if "lock" not in parts:
        return 0
    assert backend.pttl(sid, "lock") <= KILLED_LOCK_SECONDS * 1000
    deadline = time.monotonic() + KILLED_LOCK_SECONDS + 1.0
    while backend.pttl(sid, "lock") != -2:
        assert time.monotonic() < deadline, "the killed writer's lock did not expire"
        time.sleep(0.01)
    return 1
