"""The checkpoint store on a Redis server, shared by several machines.

Selected by a store location of the form ``redis://[:password@]host:port/db``
(or ``rediss://`` for TLS), optionally with ``?prefix=name`` to keep the keys of
several deployments apart on one server. The signing secret must be the same on
every machine, so it comes from `TPR_WIDGETS_SECRET` only; there is no key file
and no key is ever kept in Redis (whoever could write it could sign pickles).

Keys of one session, all with the hash tag ``{<id>}`` so that they live in one
slot and the commit script may touch them together::

    <prefix>:{<id>}:manifest      the signed checkpoint (see `manifest`)
    <prefix>:{<id>}:data:<ref>    signed pickles (see `datafile`)
    <prefix>:{<id>}:refs          every ref written for the session (for delete)
    <prefix>:{<id>}:touched       time of the last load or commit (for retention)
    <prefix>:{<id>}:lock          the writers' lock, with a timeout of its own

Guarantees, the same as the `FileStore`'s:

- A commit is one Lua script, which Redis runs atomically: it checks the stored
  revision (compare-and-set), checks that every ref the new manifest names has
  its data, then writes the manifest. A reader therefore never sees a manifest
  whose data is missing, and a dropped connection or a killed writer leaves the
  previous checkpoint or the next one, never a mix.
- Writers also hold a lock (``SET NX PX``) with its own expiry, so a writer that
  dies never leaves the session locked for longer than `LOCK_SECONDS` (or the
  store's `lock_seconds`).
- Nothing read back is unpickled before its signature is verified.
- Expiry: every key of a committed session carries the retention period as its
  Redis TTL (`TPR_WIDGETS_RETENTION_DAYS`, default 30), refreshed by every load
  and commit, so abandoned sessions disappear from Redis on their own; a
  session that holds no data yet (opened, nothing uploaded) lives at most
  `EMPTY_SESSION_SECONDS` (a day).
  `remove_expired` removes older ones at once, by the touched key (or, if that
  key was lost, by the time of the last commit). Data written but not committed
  lives `CLEANUP_GRACE_SECONDS`; data that the new checkpoint no longer names is
  kept that long too, for a reader that loaded the previous checkpoint.
- Reads (which change nothing) are retried on a dropped connection; writes are
  not, and a write whose answer was lost is settled by reading the manifest back.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tpr_widgets.errors import (
    ConflictError,
    IntegrityError,
    StoreError,
    StoreUnavailableError,
    TPRWidgetsError,
)
from tpr_widgets.store import datafile
from tpr_widgets.store._lru import LRUCache
from tpr_widgets.store.base import Checkpoint, SessionInfo
from tpr_widgets.store.ids import short_id, validate_ref, validate_session_id
from tpr_widgets.store.manifest import decode_manifest, encode_manifest
from tpr_widgets.store.retention import retention_seconds
from tpr_widgets.store.rules import (
    CLEANUP_GRACE_SECONDS,
    check_revision,
    commit_arguments,
    missing_session,
    next_checkpoint,
    unknown_session,
    unwritten_ref,
)
from tpr_widgets.store.signing import SECRET_ENV, Keyring, keyring_from_env

__all__ = ["DEFAULT_PREFIX", "EMPTY_SESSION_SECONDS", "LOCK_SECONDS", "RedisStore"]

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "tpr_widgets"
#: A writer's lock expires on its own after this long (a commit takes milliseconds).
LOCK_SECONDS = 30.0
#: A session that holds no data yet (no upload) lives at most this long.
EMPTY_SESSION_SECONDS = 86_400.0
#: Reads are tried this many times in all when the connection drops.
READ_ATTEMPTS = 3
_READ_PAUSES = (0.05, 0.25)
_POLL_SECONDS = 0.005
_LIST_BATCH = 200

_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
_MANIFEST_KEY = re.compile(
    r"([A-Za-z0-9_.-]{1,64}):\{([0-9a-f]{32})\}:manifest", re.ASCII
)

# KEYS: manifest, touched, refs, then `n` data keys the new manifest names, then
# the data keys only the previous manifest named. ARGV: expected revision, the
# new manifest, TTL ms, grace ms, n, the time of the commit.
_COMMIT = """
local expected = tonumber(ARGV[1])
local n = tonumber(ARGV[5])
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, doc = pcall(cjson.decode, raw)
  if not ok or type(doc) ~= 'table' or type(doc['revision']) ~= 'number' then
    return {'damaged', 0}
  end
  if expected == 0 then return {'exists', doc['revision']} end
  if doc['revision'] ~= expected then return {'conflict', doc['revision']} end
elseif expected ~= 0 then
  return {'missing', 0}
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[3 + i]) == 0 then return {'noref', i} end
end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('SET', KEYS[2], ARGV[6], 'PX', ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
for i = 1, n do redis.call('PEXPIRE', KEYS[3 + i], ttl) end
local grace = tonumber(ARGV[4])
for i = 4 + n, #KEYS do
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or left > grace then redis.call('PEXPIRE', KEYS[i], grace) end
end
return {'ok', expected + 1}
"""

# KEYS: a data key. ARGV: the expected length and SHA-1 hex of its value, the
# grace ms. 1 if exactly that value is there (and now lives at least the grace
# period), else 0: damaged or differently signed data is written again.
_KEEP_DATA = """
if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
if redis.sha1hex(redis.call('GET', KEYS[1])) ~= ARGV[2] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left >= 0 and left < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

# KEYS: manifest, touched, refs, then the data keys the manifest names. ARGV:
# TTL ms, the time now. Restarts the retention period of a session that still
# exists (and records the touch even if the touched key was lost).
_REFRESH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[1])
for i = 1, #KEYS do
  if i ~= 2 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return 1
"""

# KEYS: a lock. ARGV: the holder's token. Release only a lock we still hold.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

T = TypeVar("T")


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _as_bytes(raw: object) -> bytes | None:
    """A value as Redis returned it (bytes, or None for a missing key)."""
    if raw is None or isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8")
    raise StoreError(f"The session store answered with a {type(raw).__name__}.")


def _why(error: Exception) -> str:
    """What a Redis error says about the server, in words for the message."""
    if isinstance(error, redis.AuthenticationError):
        return "refused the password or user name this app was given"
    text = str(error)
    if text.startswith("OOM") or "maxmemory" in text:
        return "is full (it reached its memory limit)"
    if text.startswith("READONLY"):
        return "is a read-only replica"
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return "is unreachable or not answering"
    return "refused the request"


#: Query parameters a store URL may carry besides ``prefix`` (TLS files, for
#: ``rediss://`` only); anything else is refused rather than passed on.
TLS_PARAMETERS = frozenset(
    {
        "ssl_ca_certs",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_cert_reqs",
        "ssl_check_hostname",
    }
)
_DB = re.compile(r"/?([0-9]{1,5})?", re.ASCII)


def _bad_location(shown: str, problem: str) -> StoreError:
    return StoreError(
        f"The Redis store location {shown} {problem}. Give it as "
        "redis://[:password@]host:port/db (db a number, default 0), optionally "
        "with ?prefix=name; rediss:// for TLS, which may add ssl_ca_certs, "
        "ssl_certfile, ssl_keyfile, ssl_cert_reqs or ssl_check_hostname."
    )


# Where the host part of a URL ends: after the last "@" (the password is
# before it), a name, an IPv4 address or an [IPv6] address, then ":port".
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
    r"|\[[0-9A-Fa-f:.]+\]",
    re.ASCII,
)
_ENCODE = (
    "A password holding '/', '#', '?', '@' or ':' must be percent-encoded "
    "(for example %2F for '/')."
)
_TLS_VALUES = {
    "ssl_cert_reqs": {"none", "optional", "required"},
    "ssl_check_hostname": {"true", "false"},
}


def _host_and_port(shown: str, netloc: str) -> tuple[str, int | None]:
    """The host (as written, brackets kept) and port of a URL's netloc."""
    address = netloc.rpartition("@")[2]
    if address.startswith("["):
        host, _, rest = address.partition("]")
        host += "]"
    else:
        host, _, rest = address.partition(":")
        rest = f":{rest}" if _ else ""
    if not host:
        raise _bad_location(shown, f"names no host. {_ENCODE}")
    if _HOST.fullmatch(host) is None:
        raise _bad_location(shown, f"has a host name that cannot be used. {_ENCODE}")
    if not rest:
        return host, None
    digits = rest[1:] if rest.startswith(":") else ""
    if not digits.isdigit() or not 0 < int(digits) < 65536:
        raise _bad_location(shown, f"has a port that is not 1 to 65535. {_ENCODE}")
    return host, int(digits)


def split_location(url: str) -> tuple[str, str, str]:
    """Return (connection URL, key prefix, printable location) of a store URL.

    Everything the connection would only trip over later is refused here, with
    one `StoreError`. The printable location has no password, so it can be
    logged (it is not shown to the public: it names an internal server).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _bad_location("given", f"cannot be read as a URL. {_ENCODE}") from None
    scheme = parts.scheme.lower()
    host, port = _host_and_port(f"{scheme}://...", parts.netloc)
    shown = f"{scheme}://{host}" + (f":{port}" if port else "")
    db = _DB.fullmatch(parts.path)
    if db is None:
        raise _bad_location(f"{shown}/...", "has a database that is not a number")
    shown += f"/{db.group(1) or 0}"
    prefix = DEFAULT_PREFIX
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in seen:
            raise _bad_location(shown, f"gives {name[:30]!r} twice")
        seen.add(name)
        if name == "prefix":
            prefix = value
        elif name in TLS_PARAMETERS and scheme == "rediss":
            allowed = _TLS_VALUES.get(name)
            if allowed is not None and value.lower() not in allowed:
                raise _bad_location(
                    shown, f"gives {name} a value other than {', '.join(allowed)}"
                )
            kept.append((name, value))
        else:
            raise _bad_location(shown, f"has a parameter {name[:30]!r} it cannot use")
    if "ssl_keyfile" in seen and "ssl_certfile" not in seen:
        raise _bad_location(shown, "gives ssl_keyfile without ssl_certfile")
    if _PREFIX.fullmatch(prefix) is None:
        raise StoreError(
            f"The Redis key prefix {prefix[:70]!r} is not allowed; use 1 to 64 "
            "letters, digits, '_', '.' or '-' (for example ?prefix=tpr_widgets)."
        )
    connect = urlunsplit(
        (scheme, parts.netloc, f"/{db.group(1) or 0}", urlencode(kept), "")
    )
    return connect, prefix, shown


def _shared_keyring() -> Keyring:
    keyring = keyring_from_env()
    if keyring is None:
        raise StoreError(
            f"The Redis store needs {SECRET_ENV}: the signing secret that every "
            "machine of the deployment shares. Set it to the same long random value "
            '(for example from `python -c "import secrets; print(secrets.token_hex'
            '(32))"`) on every machine.'
        )
    return keyring


class RedisStore:
    """A `Store` on a Redis server, safe for several processes and machines.

    `url` is ``redis://host:port/db`` (see the module text). Objects returned by
    `read_data` may come from a small in-process cache (`cache_size` entries,
    0 disables it) and must be treated as read-only. A writer waits up to
    `lock_timeout` seconds for the session's lock; a lock whose holder died
    expires after `lock_seconds`.
    """

    def __init__(
        self,
        url: str,
        *,
        lock_timeout: float = 10.0,
        cache_size: int = 4,
        socket_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        lock_seconds: float = LOCK_SECONDS,
    ) -> None:
        connect, self.prefix, self.location = split_location(url)
        self._keys = _shared_keyring()
        self._ttl_ms = int(retention_seconds() * 1000)
        self._grace_ms = int(CLEANUP_GRACE_SECONDS * 1000)
        self._lock_timeout = lock_timeout
        self._lock_ms = max(1, int(lock_seconds * 1000))
        self._cache = LRUCache(cache_size)
        try:
            self._redis = redis.Redis.from_url(
                connect,
                socket_timeout=socket_timeout,
                socket_connect_timeout=connect_timeout,
                # Commands are never retried behind our back: a write whose
                # answer was lost is settled by `_settle`, reads by `_read`.
                retry=Retry(NoBackoff(), 0),
                health_check_interval=30,
            )
        except ValueError as error:
            raise StoreError(
                f"The Redis store location {self.location} is not usable ({error}). "
                "Give it as redis://host:port/db."
            ) from None
        self._commit_script = self._redis.register_script(_COMMIT)
        self._keep_script = self._redis.register_script(_KEEP_DATA)
        self._refresh_script = self._redis.register_script(_REFRESH)
        self._unlock_script = self._redis.register_script(_UNLOCK)

    def __repr__(self) -> str:
        return f"RedisStore({self.location!r}, prefix={self.prefix!r})"

    def close(self) -> None:
        """Close the connections to the server (the store can be used again)."""
        self._redis.close()

    # -- keys and connection handling -----------------------------------------

    def _key(self, session_id: str, part: str) -> str:
        return f"{self.prefix}:{{{session_id}}}:{part}"

    def _data_key(self, session_id: str, ref: str) -> str:
        return self._key(session_id, f"data:{ref}")

    def _session_keys(self, session_id: str) -> list[str]:
        return [self._key(session_id, part) for part in ("manifest", "touched", "refs")]

    def _unreachable(
        self, session_id: str | None, action: str, error: Exception
    ) -> StoreError:
        what = f"The session {short_id(session_id)}" if session_id else "The store"
        log.warning(
            "%s could not be %s at %s: %s: %s",
            what,
            action,
            self.location,
            type(error).__name__,
            error,
        )
        return StoreUnavailableError(
            f"{what} could not be {action}: the session store (Redis) "
            f"{_why(error)} ({type(error).__name__}). Try again "
            "in a moment, or tell the administrator. Nothing was half-written."
        )

    def _read(self, session_id: str | None, action: str, call: Callable[[], T]) -> T:
        """Run a read (which changes nothing), retrying a dropped connection."""
        for attempt in range(READ_ATTEMPTS):
            try:
                return call()
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if attempt + 1 == READ_ATTEMPTS:
                    raise self._unreachable(session_id, action, error) from None
                time.sleep(_READ_PAUSES[min(attempt, len(_READ_PAUSES) - 1)])
            except redis.RedisError as error:
                raise self._unreachable(session_id, action, error) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, session_id: str | None, action: str, key: str) -> bytes | None:
        """GET one key, retried on a dropped connection."""
        return _as_bytes(self._read(session_id, action, lambda: self._redis.get(key)))

    @contextlib.contextmanager
    def _locked(self, session_id: str, timeout: float) -> Iterator[None]:
        """Hold the session's writer lock; `StoreError` ("busy") after `timeout`."""
        key = self._key(session_id, "lock")
        token = secrets.token_hex(16)
        deadline = time.monotonic() + timeout
        try:
            while not self._redis.set(key, token, nx=True, px=self._lock_ms):
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"The session {short_id(session_id)} is busy: another window "
                        f"or process has been saving it for over {timeout:g} s. Try "
                        "again in a moment."
                    )
                time.sleep(_POLL_SECONDS)
        except redis.RedisError as error:
            raise self._unreachable(session_id, "saved", error) from None
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):
                # Note: if this fails the lock expires on its own (lock_seconds).
                self._unlock_script(keys=[key], args=[token])

    # -- manifests -------------------------------------------------------------

    def _read_current(self, session_id: str) -> Checkpoint | None:
        key = self._key(session_id, "manifest")
        raw = self._get(session_id, "loaded", key)
        if raw is None:
            return None
        return decode_manifest(self._keys, session_id, raw)

    def load(self, session_id: str) -> Checkpoint:
        session_id = validate_session_id(session_id)
        start = time.perf_counter()
        checkpoint = self._read_current(session_id)
        if checkpoint is None:
            raise unknown_session(session_id)
        self._refresh(session_id, checkpoint)
        log.info(
            "loaded session %s revision %d in %.1f ms",
            short_id(session_id),
            checkpoint.revision,
            _ms(start),
        )
        return checkpoint

    def _refresh(self, session_id: str, checkpoint: Checkpoint) -> None:
        """Restart the retention period of a session and the data it names."""
        keys = self._session_keys(session_id)
        keys += [
            self._data_key(session_id, ref)
            for ref in sorted(set(checkpoint.data.values()))
        ]
        try:
            ttl = self._ttl_for(checkpoint.data)
            self._refresh_script(keys=keys, args=[ttl, repr(time.time())])
        except redis.RedisError as error:  # a read-only replica still resumes
            log.debug("could not touch session %s: %s", short_id(session_id), error)

    def _ttl_for(self, data: Mapping[str, str]) -> int:
        """The TTL of a session's keys: the retention period, or at most
        `EMPTY_SESSION_SECONDS` while the session holds no data (a page that
        was opened and left, which a public app sees many of)."""
        if data:
            return self._ttl_ms
        return min(self._ttl_ms, int(EMPTY_SESSION_SECONDS * 1000))

    def commit(
        self,
        session_id: str,
        expected_revision: int,
        state: Mapping[str, Any],
        data: Mapping[str, str],
    ) -> Checkpoint:
        session_id, state_copy, data_copy = commit_arguments(
            session_id, expected_revision, state, data
        )
        start = time.perf_counter()

        with self._locked(session_id, self._lock_timeout):
            current = self._read_current(session_id)
            check_revision(session_id, expected_revision, current)
            checkpoint = next_checkpoint(
                session_id, expected_revision, state_copy, data_copy, current
            )
            manifest = encode_manifest(self._keys, checkpoint)
            names = sorted(set(data_copy.values()))
            dropped = sorted(set(current.data.values()) - set(names)) if current else []
            keys = self._session_keys(session_id)
            keys += [self._data_key(session_id, ref) for ref in names + dropped]
            args: list[bytes | int | str] = [
                expected_revision,
                manifest,
                self._ttl_for(data_copy),
                self._grace_ms,
                len(names),
                repr(time.time()),
            ]
            try:
                outcome, value = self._commit_script(keys=keys, args=args)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                self._settle(session_id, manifest, error)
            except redis.RedisError as error:
                raise self._unreachable(session_id, "saved", error) from None
            else:
                self._check_outcome(
                    session_id, expected_revision, outcome, value, data_copy, names
                )

        log.info(
            "committed session %s revision %d (%d bytes) in %.1f ms",
            short_id(session_id),
            checkpoint.revision,
            len(manifest),
            _ms(start),
        )
        return checkpoint

    def _check_outcome(
        self,
        session_id: str,
        expected: int,
        outcome: bytes,
        value: int,
        data: Mapping[str, str],
        names: list[str],
    ) -> None:
        """Turn the commit script's answer into the error the protocol promises."""
        status = outcome.decode("ascii")
        if status == "ok":
            return
        if status == "noref":
            ref = names[int(value) - 1]
            name = next(name for name, each in data.items() if each == ref)
            raise unwritten_ref(session_id, name, ref)
        if status == "missing":
            raise missing_session(session_id)
        if status == "damaged":
            raise IntegrityError(
                f"The saved session {short_id(session_id)} failed verification (its "
                "manifest is not valid JSON) and was not changed. Start a new session."
            )
        # "exists" or "conflict": another writer got in between (it did not take
        # the lock, or the lock expired); same answer as `check_revision` gives.
        raise ConflictError(
            "This session was changed in another window or process (revision "
            f"{value}, you had {expected}); reload it."
        )

    def _settle(self, session_id: str, manifest: bytes, error: Exception) -> None:
        """After a lost answer to a commit: return if it landed, else raise."""
        key = self._key(session_id, "manifest")
        try:
            stored = self._get(session_id, "saved", key)
        except StoreError:
            log.warning(
                "commit of session %s: answer lost and the store is unreachable",
                short_id(session_id),
            )
            raise StoreUnavailableError(
                f"The session {short_id(session_id)} may not have been saved: the "
                "connection to the session store (Redis) was "
                f"lost ({type(error).__name__}). Reload the session once the store "
                "answers again; it is at its last complete checkpoint."
            ) from None
        if stored == manifest:
            return
        raise self._unreachable(session_id, "saved", error) from None

    # -- data ------------------------------------------------------------------

    def write_data(self, session_id: str, obj: object) -> str:
        session_id = validate_session_id(session_id)
        start = time.perf_counter()
        ref, header, pickled = datafile.encode(self._keys, session_id, obj)
        key = self._data_key(session_id, ref)
        size = len(header) + len(pickled)
        digest = hashlib.sha1(header, usedforsecurity=False)
        digest.update(pickled)
        keep: list[int | str] = [size, digest.hexdigest(), self._grace_ms]
        try:
            if self._keep_script(keys=[key], args=keep) == 1:
                return ref
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, header + pickled, px=self._grace_ms)
                pipe.sadd(self._key(session_id, "refs"), ref)
                pipe.pexpire(self._key(session_id, "refs"), self._ttl_ms)
                pipe.execute()
        except redis.RedisError as error:
            raise self._unreachable(session_id, "saved", error) from None
        log.info(
            "wrote data %s of session %s (%d bytes) in %.1f ms",
            short_id(ref),
            short_id(session_id),
            len(pickled),
            _ms(start),
        )
        return ref

    def read_data(self, session_id: str, ref: str) -> object:
        session_id = validate_session_id(session_id)
        ref = validate_ref(ref)
        hit, cached = self._cache.get((session_id, ref))
        if hit:
            return cached
        key = self._data_key(session_id, ref)
        raw = self._get(session_id, "read", key)
        if raw is None:
            raise datafile.refuse(session_id, ref, "the data is missing")
        pickled = datafile.verify(self._keys, session_id, ref, raw)
        obj = datafile.unpickle(session_id, ref, pickled)
        self._cache.put((session_id, ref), obj)
        return obj

    # -- listing and deleting --------------------------------------------------

    def _session_ids(self) -> list[str]:
        pattern = f"{self.prefix}:{{*}}:manifest"

        def scan() -> list[str]:
            found: set[str] = set()
            for key in self._redis.scan_iter(match=pattern, count=1000):
                name = key.decode("ascii", "replace") if isinstance(key, bytes) else key
                match = _MANIFEST_KEY.fullmatch(name)
                if match and match.group(1) == self.prefix:
                    found.add(match.group(2))
            return sorted(found)

        return self._read(None, "listed", scan)

    def _mget(self, keys: list[str]) -> list[bytes | None]:
        raws = self._read(None, "listed", lambda: self._redis.mget(keys))
        return [_as_bytes(raw) for raw in raws]

    def sessions(self) -> list[SessionInfo]:
        ids = self._session_ids()
        found: list[SessionInfo] = []
        for start in range(0, len(ids), _LIST_BATCH):
            batch = ids[start : start + _LIST_BATCH]
            keys = [self._key(sid, "manifest") for sid in batch]
            raws = self._mget(keys)
            for sid, raw in zip(batch, raws, strict=True):
                if raw is None:  # expired or deleted since the scan
                    continue
                try:
                    checkpoint = decode_manifest(self._keys, sid, raw)
                except TPRWidgetsError as error:
                    log.warning("skipped session %s: %s", short_id(sid), error)
                    continue
                found.append(SessionInfo.from_checkpoint(checkpoint))
        found.sort(key=lambda info: (info.updated, info.revision), reverse=True)
        return found

    def _remove(self, session_id: str) -> None:
        """Remove every key of a session (the caller holds its lock).

        The manifest goes first, in the same transaction as the rest: from then
        on the session cannot be loaded. Data written concurrently, after the
        refs were read, is not named anywhere and expires with its grace period.
        """
        refs = self._redis.smembers(self._key(session_id, "refs"))
        data_keys = [
            self._data_key(session_id, ref.decode("ascii", "replace"))
            for ref in refs
            if isinstance(ref, bytes)
        ]
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(*self._session_keys(session_id))
            for start in range(0, len(data_keys), _LIST_BATCH):
                pipe.delete(*data_keys[start : start + _LIST_BATCH])
            pipe.execute()
        self._cache.forget_session(session_id)

    def delete(self, session_id: str) -> None:
        session_id = validate_session_id(session_id)
        with self._locked(session_id, self._lock_timeout):
            try:
                self._remove(session_id)
            except redis.RedisError as error:
                raise self._unreachable(session_id, "deleted", error) from None
        log.info("deleted session %s", short_id(session_id))

    def _last_touched(self, session_id: str) -> float | None:
        """When the session was last loaded or saved (None: not known).

        Falls back to the time of its last commit when the touched key is
        missing or damaged (a server that evicts keys may have dropped it).
        """
        key = self._key(session_id, "touched")
        raw = self._get(session_id, "checked", key)
        with contextlib.suppress(ValueError):
            if raw is not None:
                return float(raw)
        with contextlib.suppress(TPRWidgetsError, ValueError):
            checkpoint = self._read_current(session_id)
            if checkpoint is not None:
                return datetime.fromisoformat(checkpoint.updated).timestamp()
        return None

    def remove_expired(
        self, max_age_days: float | None = None, *, now: float | None = None
    ) -> list[str]:
        """Remove sessions not touched for `max_age_days`; return their ids.

        `max_age_days` None means `TPR_WIDGETS_RETENTION_DAYS`, else 30. Redis also
        expires them on its own after the retention period in force when they
        were last touched. A session whose lock is held is left alone.
        """
        cutoff = (time.time() if now is None else now) - retention_seconds(max_age_days)
        removed: list[str] = []
        for session_id in self._session_ids():
            touched = self._last_touched(session_id)
            if touched is not None and touched >= cutoff:
                continue
            try:
                with self._locked(session_id, 0.0):
                    touched = self._last_touched(session_id)
                    if touched is not None and touched >= cutoff:
                        continue
                    self._remove(session_id)
            except StoreError:
                log.info("kept session %s: it is in use", short_id(session_id))
                continue
            except redis.RedisError as error:
                log.warning(
                    "could not remove old session %s: %s", short_id(session_id), error
                )
                continue
            removed.append(session_id)
        if removed:
            log.info(
                "removed %d session(s) older than the retention period", len(removed)
            )
        return removed
