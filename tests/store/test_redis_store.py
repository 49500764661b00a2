"""Redis store only: what Redis does differently from a folder.

TTLs (retention on every key, refreshed by load and commit; the grace period of
uncommitted and dropped data), key prefixes, the secret from the environment,
locations and passwords in messages, the lock's own expiry, the commit script's
compare-and-set, retried reads and lost answers. The contract both stores keep
is tested with the `backend` fixture in the other `test_store_*` files.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from _backends import SECRET, RedisBackend

from tests.redis_server import RedisServer, free_port
from tpr_widgets.errors import (
    ConflictError,
    InputError,
    StoreError,
    StoreUnavailableError,
)
from tpr_widgets.store import RedisStore, new_session_id, open_store
from tpr_widgets.store import redisstore as redisstore_module

DAY_MS = 86_400_000
#: The default retention period (30 days) in milliseconds: 2,592,000,000.
RETENTION_MS = 30 * DAY_MS
#: CLEANUP_GRACE_SECONDS (600 s) in milliseconds.
GRACE_MS = 600_000
#: How much a TTL may have run down between the store setting it and the test.
SLACK_MS = 5_000


@pytest.fixture
def rb(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisBackend]:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    found = RedisBackend(redis_url)
    yield found
    found.client.close()


def _about(value: int, expected: int) -> bool:
    return expected - SLACK_MS <= value <= expected


# -- TTLs ----------------------------------------------------------------------


def test_every_key_of_a_committed_session_lives_the_retention_period(
    rb: RedisBackend, sid: str
) -> None:
    store = rb.store
    ref = store.write_data(sid, {"rows": [1, 2]})
    store.commit(sid, 0, {"stage": "state"}, {"table": ref})

    assert rb.leftovers(sid) == sorted(
        rb.key(sid, part) for part in ("manifest", "touched", "refs", f"data:{ref}")
    )
    for part in ("manifest", "touched", "refs", f"data:{ref}"):
        assert _about(rb.pttl(sid, part), RETENTION_MS), part
    assert float(rb.client.get(rb.key(sid, "touched"))) == pytest.approx(
        time.time(), abs=5
    )
    assert rb.client.smembers(rb.key(sid, "refs")) == {ref.encode()}


def test_a_session_without_data_lives_a_day_until_it_has_some(
    rb: RedisBackend, sid: str
) -> None:
    store = rb.store
    store.commit(sid, 0, {"stage": "upload"}, {})  # a page opened and left
    day_ms = 86_400_000
    assert _about(rb.pttl(sid, "manifest"), day_ms)
    assert _about(rb.pttl(sid, "touched"), day_ms)
    store.load(sid)
    assert _about(rb.pttl(sid, "manifest"), day_ms)  # a load keeps it short

    ref = store.write_data(sid, {"rows": [1]})
    store.commit(sid, 1, {"stage": "state"}, {"table": ref})
    for part in ("manifest", "touched", f"data:{ref}"):
        assert _about(rb.pttl(sid, part), RETENTION_MS), part


def test_the_retention_setting_is_the_ttl(
    rb: RedisBackend, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_RETENTION_DAYS", "2")
    store = rb.open()
    store.commit(sid, 0, {}, {"t": store.write_data(sid, "x")})

    assert _about(rb.pttl(sid, "manifest"), 2 * DAY_MS)  # 172,800,000 ms
    assert _about(rb.pttl(sid, "touched"), 2 * DAY_MS)


def test_load_restarts_the_ttl_of_the_session_and_its_data(
    rb: RedisBackend, sid: str
) -> None:
    store = rb.store
    ref = store.write_data(sid, "table")
    store.commit(sid, 0, {}, {"table": ref})
    for part in ("manifest", "touched", "refs", f"data:{ref}"):
        rb.client.pexpire(rb.key(sid, part), 60_000)

    rb.open().load(sid)

    for part in ("manifest", "touched", "refs", f"data:{ref}"):
        assert _about(rb.pttl(sid, part), RETENTION_MS), part


def test_load_records_a_touch_even_when_the_touched_key_is_gone(
    rb: RedisBackend, sid: str
) -> None:
    rb.store.commit(sid, 0, {}, {})
    rb.client.delete(rb.key(sid, "touched"))

    assert rb.store.remove_expired() == []  # falls back to the commit time
    rb.store.load(sid)

    # Recreated, with the TTL of a session that holds no data yet: one day.
    assert _about(rb.pttl(sid, "touched"), 86_400_000)
    assert rb.store.remove_expired() == []


def test_a_session_without_a_touched_key_expires_by_its_commit_time(
    rb: RedisBackend, sid: str
) -> None:
    rb.store.commit(sid, 0, {}, {})
    rb.client.delete(rb.key(sid, "touched"))

    assert rb.store.remove_expired(30, now=time.time() + 29 * 86_400) == []
    assert rb.store.remove_expired(30, now=time.time() + 31 * 86_400) == [sid]
    assert rb.leftovers(sid) == []


def test_data_of_the_previous_checkpoint_gets_the_grace_ttl(
    rb: RedisBackend, sid: str
) -> None:
    store = rb.store
    r1 = store.write_data(sid, "revision 1")
    store.commit(sid, 0, {}, {"table": r1})
    r2 = store.write_data(sid, "revision 2")
    store.commit(sid, 1, {}, {"table": r2, "same": r2})

    assert _about(rb.pttl(sid, f"data:{r1}"), GRACE_MS)
    assert _about(rb.pttl(sid, f"data:{r2}"), RETENTION_MS)
    assert rb.open(cache_size=0).read_data(sid, r1) == "revision 1"  # still readable

    rb.client.pexpire(rb.key(sid, f"data:{r1}"), 30_000)
    store.commit(sid, 2, {}, {})

    assert _about(rb.pttl(sid, f"data:{r2}"), GRACE_MS)
    assert 25_000 < rb.pttl(sid, f"data:{r1}") <= 30_000, "a grace TTL only shrinks"


def test_uncommitted_data_lives_the_grace_period(rb: RedisBackend, sid: str) -> None:
    store = rb.store
    ref = store.write_data(sid, "not committed yet")

    assert _about(rb.pttl(sid, f"data:{ref}"), GRACE_MS)
    assert _about(rb.pttl(sid, "refs"), RETENTION_MS)
    assert rb.get_manifest(sid) is None


def test_uncommitted_and_dropped_data_really_expire(
    rb: RedisBackend, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redisstore_module, "CLEANUP_GRACE_SECONDS", 0.3)
    store = rb.open(cache_size=0)
    kept = store.write_data(sid, "kept")
    store.commit(sid, 0, {}, {"table": kept})
    dropped = store.write_data(sid, "dropped by the next commit")
    store.commit(sid, 1, {}, {"table": dropped})
    store.commit(sid, 2, {}, {"table": kept})
    never = store.write_data(sid, "never committed")

    time.sleep(0.6)

    assert rb.stored_refs(sid) == {kept}
    assert store.load(sid).data == {"table": kept}
    assert store.read_data(sid, kept) == "kept"
    with pytest.raises(StoreError, match=r"'late' .* was not written"):
        store.commit(sid, 3, {}, {"late": never})


def test_writing_data_again_restores_its_grace_but_never_shortens_its_ttl(
    rb: RedisBackend, sid: str
) -> None:
    store = rb.store
    loose = store.write_data(sid, "written long ago")
    rb.client.pexpire(rb.key(sid, f"data:{loose}"), 1_000)
    committed = store.write_data(sid, "committed")
    store.commit(sid, 0, {}, {"table": committed})

    assert store.write_data(sid, "written long ago") == loose
    assert store.write_data(sid, "committed") == committed

    assert _about(rb.pttl(sid, f"data:{loose}"), GRACE_MS)
    assert _about(rb.pttl(sid, f"data:{committed}"), RETENTION_MS)


# -- keys and prefixes ---------------------------------------------------------


def test_two_prefixes_on_one_server_keep_apart(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, sid: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    tag = uuid.uuid4().hex[:8]
    one = RedisStore(f"{redis_server.url}?prefix=one-{tag}")
    two = RedisStore(f"{redis_server.url}?prefix=one-{tag}.two")
    other = new_session_id()
    one.commit(sid, 0, {"in": "one"}, {"t": one.write_data(sid, "one's data")})
    two.commit(sid, 0, {"in": "two"}, {"t": two.write_data(sid, "two's data")})
    two.commit(other, 0, {"in": "two only"}, {})

    assert [info.session_id for info in one.sessions()] == [sid]
    assert sorted(info.session_id for info in two.sessions()) == sorted([sid, other])
    assert one.load(sid).state == {"in": "one"}
    assert two.read_data(sid, two.load(sid).data["t"]) == "two's data"
    with pytest.raises(InputError, match="no saved session"):
        one.load(other)

    one.delete(sid)
    assert two.load(sid).state == {"in": "two"}
    assert one.remove_expired(now=time.time() + 365 * 86_400) == []
    assert sorted(two.remove_expired(now=time.time() + 365 * 86_400)) == sorted(
        [sid, other]
    )


def test_the_default_prefix_is_tpr_widgets(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    store = RedisStore(redis_server.url)
    assert store.prefix == "tpr_widgets"
    assert repr(store) == f"RedisStore({redis_server.url!r}, prefix='tpr_widgets')"


@pytest.mark.parametrize(
    "prefix",
    ["", "a b", "x*", "a:b", "{tag}", "ü", "p" * 65],
    ids=["empty", "space", "glob", "colon", "braces", "non-ascii", "too-long"],
)
def test_a_bad_prefix_is_a_store_error(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    with pytest.raises(StoreError, match=r"key prefix .* is not allowed; use 1 to 64"):
        open_store(f"redis://127.0.0.1:6379/0?prefix={prefix}")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://127.0.0.1:6379/0?foo=bar", "has a parameter 'foo' it cannot use"),
        ("redis://127.0.0.1:6379/0?db=3", "has a parameter 'db' it cannot use"),
        (
            "redis://127.0.0.1:6379/0?ssl_ca_certs=/etc/ca.pem",
            "has a parameter 'ssl_ca_certs' it cannot use",
        ),
        ("redis://127.0.0.1:6379/0?prefix=a&prefix=b", "gives 'prefix' twice"),
        ("redis:///0", "names no host"),
        ("redis://127.0.0.1:6379/x", "has a database that is not a number"),
        ("redis://127.0.0.1:abc/0", "has a port that is not 1 to 65535"),
        ("redis://127.0.0.1:99999/0", "has a port that is not 1 to 65535"),
        ("redis://127.0.0.1:0/0", "has a port that is not 1 to 65535"),
        ("redis://[::1]x:6379/0", "has a port that is not 1 to 65535"),
        ("redis://:pw@[::1:6379/0", "cannot be read as a URL"),
        ("redis://:pa/ss@127.0.0.1:6379/0", "must be percent-encoded"),
        ("redis://:pw@" + "a" * 64 + ":6379/0", "has a host name that cannot be used"),
        ("rediss://h:6379/0?ssl_keyfile=/k.pem", "ssl_keyfile without ssl_certfile"),
        ("rediss://h:6379/0?ssl_cert_reqs=bogus", "gives ssl_cert_reqs a value other"),
    ],
)
def test_a_store_url_the_store_cannot_use_is_refused_at_once(
    monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    with pytest.raises(StoreError) as error:
        open_store(url)
    assert problem in str(error.value)
    assert "Give it as redis://[:password@]host:port/db" in str(error.value)


@pytest.mark.parametrize(
    "location",
    [" redis://:hunter2@127.0.0.1:6379/0", "redis:/127.0.0.1:6379", "REDIS:h"],
)
def test_a_mistyped_redis_url_is_never_taken_for_a_folder(
    location: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError) as error:
        open_store(location)
    assert "looks like a Redis URL" in str(error.value)
    assert "hunter2" not in str(error.value)
    assert list(tmp_path.iterdir()) == []  # no folder was made


def test_a_store_url_is_shown_without_password_and_with_its_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    store = open_store(
        "rediss://app:hunter2@redis.internal:6380/3?prefix=p1&ssl_ca_certs=/ca.pem"
    )
    assert isinstance(store, RedisStore)
    assert store.location == "rediss://redis.internal:6380/3"
    assert store.prefix == "p1"
    assert open_store("redis://127.0.0.1").location == "redis://127.0.0.1/0"
    assert open_store("redis://[::1]:6379/2").location == "redis://[::1]:6379/2"
    encoded = open_store("redis://tpr:p%40ss%2Fw@redis.internal:6379/0")
    assert encoded.location == "redis://redis.internal:6379/0"


def test_listing_reads_in_batches(
    rb: RedisBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redisstore_module, "_LIST_BATCH", 2)
    ids = [new_session_id() for _ in range(5)]
    for n, each in enumerate(ids):
        rb.store.commit(each, 0, {"n": n}, {})

    listed = rb.store.sessions()

    assert [info.session_id for info in listed] == ids[::-1]


# -- the secret, locations and passwords ---------------------------------------


def test_no_secret_is_a_clear_store_error(redis_url: str) -> None:
    with pytest.raises(StoreError) as error:
        open_store(redis_url)
    message = str(error.value)
    assert message.startswith("The Redis store needs TPR_WIDGETS_SECRET")
    assert "same long random value" in message and "on every machine" in message


def test_no_secret_stops_a_new_workflow_with_that_message(redis_url: str) -> None:
    from tpr_widgets.workflow import Workflow

    with pytest.raises(StoreError, match="needs TPR_WIDGETS_SECRET"):
        Workflow.new(redis_url)


@pytest.mark.parametrize(("value", "message"), [("", "empty key"), ("short", "16")])
def test_a_bad_secret_is_a_store_error(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", value)
    with pytest.raises(StoreError, match=message):
        open_store(redis_url)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2-pass@127.0.0.1:{port}/0",
        "redis://admin:hunter2-pass@127.0.0.1:{port}/0?prefix=p",
        "redis://:hunter2-pass@127.0.0.1:99999/0",
        "redis://:hunter2-pass@127.0.0.1:{port}/notadb",
    ],
    ids=["password", "user-password", "bad-port", "bad-db"],
)
def test_the_password_is_in_no_message(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    sid: str,
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    url = url.format(port=free_port())  # nothing listens there
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        try:
            store = open_store(url)
            messages += [repr(store), str(getattr(store, "location", ""))]
            for call in (lambda: store.load(sid), lambda: store.commit(sid, 0, {}, {})):
                with pytest.raises(StoreError) as error:
                    call()
                messages.append(str(error.value))
        except StoreError as error:
            messages.append(str(error))

    assert messages, "no message was produced"
    assert all("Redis" in each or "redis://" in each for each in messages), messages
    for text in [*messages, caplog.text]:
        assert "hunter2" not in text


@pytest.fixture
def own_server(start_redis_server: Callable[..., RedisServer]) -> RedisServer:
    """A redis-server of the test's own, with a password (the shared one has none)."""
    return start_redis_server(password="right-pass-0123")


def test_a_wrong_password_is_a_store_error_without_it(
    own_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    sid: str,
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    wrong = open_store(own_server.url.replace("redis://", "redis://:hunter2-pass@"))
    right = open_store(own_server.url.replace("redis://", "redis://:right-pass-0123@"))

    with caplog.at_level(logging.DEBUG), pytest.raises(StoreError) as error:
        wrong.load(sid)
    right.commit(sid, 0, {"n": 1}, {})

    assert (
        "(Redis) refused the password or user name this app "
        "was given (AuthenticationError)" in str(error.value)
    )
    for text in (str(error.value), repr(wrong), repr(right), caplog.text):
        assert "hunter2" not in text and "right-pass" not in text
    assert right.load(sid).state == {"n": 1}


def test_a_full_server_says_it_is_full_and_keeps_the_session(
    own_server: RedisServer, monkeypatch: pytest.MonkeyPatch, sid: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    url = own_server.url.replace("redis://", "redis://:right-pass-0123@")
    admin = redis.Redis.from_url(url)
    store = open_store(url)
    ref = store.write_data(sid, b"small table")
    store.commit(sid, 0, {"stage": "state"}, {"table": ref})
    used = int(admin.info("memory")["used_memory"])
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", str(used + 512 * 1024))

    with pytest.raises(StoreUnavailableError) as error:
        store.write_data(sid, b"x" * (2 * 1024 * 1024))

    assert "is full (it reached its memory limit)" in str(error.value)
    assert "Nothing was half-written" in str(error.value)
    again = open_store(url).load(sid)
    assert again.revision == 1 and again.state == {"stage": "state"}
    assert open_store(url).read_data(sid, ref) == b"small table"


# -- ids, locks, the commit script, reads and lost answers ---------------------


class _NoServer:
    """Stands in for the connection: any use at all is a test failure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the server was used: {name}")


@pytest.mark.parametrize("bad", ["", "../x", "A" * 32, "0" * 31, "*", None])
def test_bad_ids_are_refused_before_the_server_is_used(
    rb: RedisBackend, bad: Any
) -> None:
    store = rb.open()
    store._redis = _NoServer()
    for call in (
        lambda: store.load(bad),
        lambda: store.commit(bad, 0, {}, {}),
        lambda: store.write_data(bad, "x"),
        lambda: store.read_data(bad, "ab" * 32),
        lambda: store.delete(bad),
    ):
        with pytest.raises(InputError):
            call()
    with pytest.raises(InputError):
        store.read_data(new_session_id(), "../" + "a" * 61)


def test_the_writer_lock_has_its_own_expiry(rb: RedisBackend, sid: str) -> None:
    store = rb.open(lock_seconds=0.4)
    store.commit(sid, 0, {}, {})
    with store._locked(sid, 1.0):
        assert 300 < rb.pttl(sid, "lock") <= 400
    assert rb.pttl(sid, "lock") == -2
    with rb.store._locked(sid, 1.0):
        assert 29_000 < rb.pttl(sid, "lock") <= 30_000  # LOCK_SECONDS


def test_a_dead_writers_lock_expires_on_its_own(rb: RedisBackend, sid: str) -> None:
    rb.store.commit(sid, 0, {"n": 1}, {})
    rb.client.set(rb.key(sid, "lock"), "a writer that died", px=400)
    store = rb.open(lock_timeout=5.0)

    started = time.monotonic()
    assert store.commit(sid, 1, {"n": 2}, {}).revision == 2
    waited = time.monotonic() - started

    assert 0.2 < waited < 2.0
    assert rb.pttl(sid, "lock") == -2


def test_the_commit_script_itself_refuses_a_stale_revision(
    rb: RedisBackend, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = rb.store
    store.commit(sid, 0, {"n": 1}, {})
    stale = store.load(sid)
    store.commit(sid, 1, {"n": 2}, {})
    before = rb.get_manifest(sid)
    # As if another writer committed between our read and our script (its lock
    # expired): the revision check in Python passes, the script's must not.
    monkeypatch.setattr(store, "_read_current", lambda _sid: stale)

    with pytest.raises(ConflictError, match="revision 2, you had 1"):
        store.commit(sid, 1, {"n": "lost update"}, {})
    assert rb.get_manifest(sid) == before


def test_reads_are_retried_when_the_connection_drops(
    rb: RedisBackend, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = rb.open()
    store.commit(sid, 0, {"n": 1}, {})
    real_get = store._redis.get
    failures = iter([True, True, False, True, True, True])

    def flaky_get(key: str) -> Any:
        if next(failures):
            raise redis.ConnectionError("Connection reset by peer")
        return real_get(key)

    monkeypatch.setattr(store._redis, "get", flaky_get)

    assert store.load(sid).state == {"n": 1}  # third try
    with pytest.raises(StoreError) as error:
        store.load(sid)  # three failures in a row
    assert str(error.value).startswith(
        f"The session {sid[:6]}… could not be loaded: the session store (Redis) "
    )
    assert "(ConnectionError). Try again in a moment" in str(error.value)


@pytest.mark.parametrize("landed", [True, False], ids=["landed", "not-landed"])
def test_a_commit_whose_answer_was_lost_is_settled_by_reading_back(
    rb: RedisBackend, sid: str, monkeypatch: pytest.MonkeyPatch, landed: bool
) -> None:
    store = rb.open()
    store.commit(sid, 0, {"n": 1}, {})
    real_script = store._commit_script

    def answer_lost(**kwargs: Any) -> Any:
        if landed:
            real_script(**kwargs)
        raise redis.ConnectionError("Connection closed by server.")

    monkeypatch.setattr(store, "_commit_script", answer_lost)

    if landed:
        assert store.commit(sid, 1, {"n": 2}, {}).revision == 2
        assert rb.open().load(sid).state == {"n": 2}
    else:
        with pytest.raises(StoreError, match="could not be saved") as error:
            store.commit(sid, 1, {"n": 2}, {})
        assert "Nothing was half-written" in str(error.value)
        assert rb.open().load(sid).state == {"n": 1}
    assert rb.pttl(sid, "lock") == -2


# -- an unreachable server -----------------------------------------------------


@contextlib.contextmanager
def _timed(limit: float) -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < limit


def test_the_app_gets_one_clear_message_when_redis_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, sid: str
) -> None:
    from tpr_widgets import workflow as workflow_module
    from tpr_widgets.workflow import Workflow

    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    monkeypatch.setattr(workflow_module, "_last_expiry", {})
    port = free_port()  # nothing listens there
    url = f"redis://127.0.0.1:{port}/0"

    with _timed(10), pytest.raises(StoreError) as resumed:
        Workflow.resume(url, sid)
    with _timed(10), pytest.raises(StoreError) as started:
        Workflow.new(url)
    with _timed(10), pytest.raises(StoreError) as listed:
        Workflow.sessions(url)

    unreachable = (
        "the session store (Redis) is unreachable or not answering "
        "(ConnectionError). Try again in a moment, or tell the administrator. "
        "Nothing was half-written."
    )
    assert (
        str(resumed.value)
        == f"The session {sid[:6]}… could not be loaded: {unreachable}"
    )
    assert str(started.value).endswith(f"could not be saved: {unreachable}")
    assert str(started.value).startswith("The session ")
    assert str(listed.value) == f"The store could not be listed: {unreachable}"
    for error in (resumed, started, listed):
        assert "\n" not in str(error.value) and "Traceback" not in str(error.value)
        assert error.value.__cause__ is None and error.value.__suppress_context__
