"""The Redis server stops (SIGKILL) while a writer commits in a loop.

Each round runs a server of the test's own (append-only, fsync on every write,
so an answered write is on disk), kills it at a random moment of a writer's
commit loop, starts it again on the same folder and port, and checks that the
session resumes with manifest, state and data that agree, at the last revision
the writer was told about or the next one (its answer lost), and that the
writer got one clear `StoreError`, not a traceback.

`TPR_STORE_SERVER_KILLS` (default 5) sets the number of rounds.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import sys
import time
from collections.abc import Callable

import pytest
from _backends import SECRET, RedisBackend
from _store_workers import commit_until_store_error

from tests.redis_server import RedisServer
from tpr_widgets.store import RedisStore, new_session_id

ROUNDS = int(os.environ.get("TPR_STORE_SERVER_KILLS", "5"))

_MESSAGE = re.compile(
    r"The session [0-9a-f]{6}… (could not be (saved|loaded): the session store "
    r"\(Redis\) is unreachable or not answering \(\w+\)\. Try again "
    r"in a moment, or tell the administrator\. Nothing was half-written\."
    r"|may not have been saved: the connection to the session store \(Redis\) "
    r"was lost \(\w+\)\. Reload the session once the store answers "
    r"again; it is at its last complete checkpoint\.)"
)


@pytest.fixture
def own_server(start_redis_server: Callable[..., RedisServer]) -> RedisServer:
    """A server of this test's own: killing it disturbs no other test."""
    return start_redis_server()


def test_the_message_pattern_matches_what_the_store_says() -> None:
    """Control: the pattern accepts both real messages and nothing else."""
    unreachable = (
        "The session abcdef… could not be saved: the session store (Redis) "
        "is unreachable or not answering (ConnectionError). Try again in "
        "a moment, or tell the administrator. Nothing was half-written."
    )
    lost = (
        "The session abcdef… may not have been saved: the connection to the "
        "session store (Redis) was lost (ConnectionError). Reload the "
        "session once the store answers again; it is at its last complete "
        "checkpoint."
    )
    assert _MESSAGE.fullmatch(unreachable) and _MESSAGE.fullmatch(lost)
    assert not _MESSAGE.fullmatch("Traceback (most recent call last):")
    assert not _MESSAGE.fullmatch(unreachable.replace("saved", "eaten"))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")
def test_stopping_the_server_mid_commit_leaves_a_session_that_resumes(
    own_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    url = f"{own_server.url}?prefix=crash"
    sid = new_session_id()
    store = RedisStore(url, lock_timeout=5.0)
    first = store.write_data(sid, {"rev": 1, "noise": b""})
    store.commit(
        sid, 0, {"rev": 1, "table_rev": 1, "stage": "period"}, {"table": first}
    )
    store.close()
    context = multiprocessing.get_context("spawn")
    rng = random.Random(20260301)
    revisions = [1]
    lost_answers = 0
    said: set[str] = set()

    for _ in range(ROUNDS):
        ready, results = context.Event(), context.Queue()
        acked = context.Value("q", 0, lock=False)
        writer = context.Process(
            target=commit_until_store_error, args=(url, sid, ready, acked, results)
        )
        writer.start()
        assert ready.wait(timeout=60), "the writer did not start"
        time.sleep(rng.uniform(0.02, 0.2))
        own_server.kill()
        report = results.get(timeout=60)
        writer.join(timeout=30)
        own_server.start()

        assert writer.exitcode == 0
        assert report[0] == "store-error", report[1]
        match = _MESSAGE.fullmatch(report[1])
        assert match, report[1]
        assert own_server.url not in report[1]  # the address goes to the log only
        said.add(report[1].split(": ", 1)[0][len("The session abcdef… ") :])

        checker = RedisStore(url, cache_size=0)
        checkpoint = checker.load(sid)
        assert checkpoint.revision in (acked.value, acked.value + 1), (
            checkpoint.revision,
            acked.value,
        )
        lost_answers += checkpoint.revision == acked.value + 1
        assert checkpoint.state["rev"] == checkpoint.revision
        table = checker.read_data(sid, checkpoint.data["table"])
        assert isinstance(table, dict) and table["rev"] == checkpoint.state["table_rev"]
        assert checkpoint.revision >= revisions[-1]
        revisions.append(checkpoint.revision)
        _check_keys(RedisBackend(url), checker, sid)
        checker.close()

    print(
        f"\n{ROUNDS} server kills: revision {revisions[0]} -> {revisions[-1]}, "
        f"{lost_answers} answers lost after the write, writer told: {sorted(said)}"
    )
    assert revisions[-1] > revisions[0], "the writer never committed"
    after = RedisStore(url, lock_timeout=5.0)
    resumed = after.load(sid)
    assert after.commit(
        sid, resumed.revision, resumed.state, resumed.data
    ).revision == (resumed.revision + 1)


def _check_keys(backend: RedisBackend, checker: RedisStore, sid: str) -> None:
    """Every key of the session has a TTL and every data blob verifies."""
    try:
        for key in backend.keys(sid):
            assert backend.client.pttl(key) > 0 or key.endswith(b":lock"), key
        for ref in backend.stored_refs(sid):
            checker.read_data(sid, ref)
    finally:
        backend.client.close()
