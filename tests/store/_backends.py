"""The two store backends behind one test harness, for the contract tests.

A contract test takes the `backend` fixture (see `conftest`), parametrised
``["file", "redis"]``, and never looks at how a store keeps its bytes: it asks
the harness instead. Each `Backend` reaches its store's storage directly (the
file store's folder, the Redis keys of the documented layout) the way an
attacker, a crash or the passing of time would, so the same test can tamper
with a manifest, age a session or hold its lock on either backend.

`open_at` opens a store from a location and options in a child process, so the
concurrency and crash workers run against either backend too.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import redis
from filelock import FileLock

from tpr_widgets.store import FileStore, RedisStore, Store
from tpr_widgets.store.signing import Keyring

__all__ = ["SECRET", "Backend", "FileBackend", "RedisBackend", "open_at"]

#: The signing secret the Redis backend runs with (each machine would share it).
SECRET = "contract-test-secret-0123456789abcdef"


def open_at(location: str, **options: Any) -> Store:
    """Open the store at `location` (a folder or a redis:// URL) with `options`."""
    if location.startswith("redis://"):
        return RedisStore(location, **options)
    return FileStore(location, **options)


class Backend:
    """What a contract test may do to a store's storage, whatever the backend."""

    name: str
    #: What `open_store` and `Workflow` take: a folder, or a redis:// URL.
    location: str

    def open(self, **options: Any) -> Store:
        """A new store object on the same storage (`cache_size`, `lock_timeout`)."""
        return open_at(self.location, **options)

    @property
    def store(self) -> Store:
        """The test's store, opened once with the default options."""
        if not hasattr(self, "_store"):
            self._store = self.open()
        return self._store

    def keyring(self) -> Keyring:
        """The deployment's keys, to sign hand-made manifests and data."""
        raise NotImplementedError

    def get_manifest(self, sid: str) -> bytes | None:
        raise NotImplementedError

    def put_manifest(self, sid: str, raw: bytes) -> None:
        raise NotImplementedError

    def get_data(self, sid: str, ref: str) -> bytes | None:
        raise NotImplementedError

    def put_data(self, sid: str, ref: str, raw: bytes) -> None:
        raise NotImplementedError

    def remove_data(self, sid: str, ref: str) -> None:
        raise NotImplementedError

    def stored_refs(self, sid: str) -> set[str]:
        """The refs whose data is stored for the session, committed or not."""
        raise NotImplementedError

    def age(self, sid: str, seconds: float) -> None:
        """Make the session look untouched (not loaded or saved) for `seconds`."""
        raise NotImplementedError

    @contextlib.contextmanager
    def hold_lock(self, sid: str) -> Iterator[None]:
        """Hold the session's writer lock from outside the store, as a writer would."""
        raise NotImplementedError
        yield  # pragma: no cover

    def leftovers(self, sid: str) -> list[str]:
        """Anything at all left of the session in the storage (names, sorted)."""
        raise NotImplementedError


class FileBackend(Backend):
    name = "file"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _dir(self, sid: str) -> Path:
        return self.root / "sessions" / sid

    def _data(self, sid: str, ref: str) -> Path:
        return self._dir(sid) / "data" / f"{ref}.pkl"

    def keyring(self) -> Keyring:
        self.store  # noqa: B018 - opening the store makes the key file
        return Keyring([(self.root / ".secret").read_text(encoding="ascii").strip()])

    def get_manifest(self, sid: str) -> bytes | None:
        with contextlib.suppress(FileNotFoundError):
            return (self._dir(sid) / "manifest.json").read_bytes()
        return None

    def put_manifest(self, sid: str, raw: bytes) -> None:
        self._dir(sid).mkdir(parents=True, exist_ok=True)
        (self._dir(sid) / "manifest.json").write_bytes(raw)

    def get_data(self, sid: str, ref: str) -> bytes | None:
        with contextlib.suppress(FileNotFoundError):
            return self._data(sid, ref).read_bytes()
        return None

    def put_data(self, sid: str, ref: str, raw: bytes) -> None:
        self._data(sid, ref).parent.mkdir(parents=True, exist_ok=True)
        self._data(sid, ref).write_bytes(raw)

    def remove_data(self, sid: str, ref: str) -> None:
        self._data(sid, ref).unlink()

    def stored_refs(self, sid: str) -> set[str]:
        folder = self._dir(sid) / "data"
        if not folder.is_dir():
            return set()
        return {p.name[:-4] for p in folder.iterdir() if p.name.endswith(".pkl")}

    def age(self, sid: str, seconds: float) -> None:
        when = time.time() - seconds
        folder = self._dir(sid)
        for path in [*folder.rglob("*"), folder]:
            os.utime(path, (when, when), follow_symlinks=False)

    @contextlib.contextmanager
    def hold_lock(self, sid: str) -> Iterator[None]:
        with FileLock(self._dir(sid) / ".lock"):
            yield

    def leftovers(self, sid: str) -> list[str]:
        sessions = self.root / "sessions"
        found = [p for p in sessions.iterdir() if sid in p.name]
        return sorted(str(p.relative_to(sessions)) for p in found)


class RedisBackend(Backend):
    """Keys as `tpr_widgets.store.redisstore` documents them."""

    name = "redis"

    def __init__(self, url: str) -> None:
        self.location = url
        parts = urlsplit(url)
        self.prefix = dict(parse_qsl(parts.query))["prefix"]
        server = parts._replace(query="").geturl()
        self.client = redis.Redis.from_url(server)

    def key(self, sid: str, part: str) -> str:
        return f"{self.prefix}:{{{sid}}}:{part}"

    def keyring(self) -> Keyring:
        return Keyring([os.environ["TPR_WIDGETS_SECRET"]])

    def get_manifest(self, sid: str) -> bytes | None:
        return self.client.get(self.key(sid, "manifest"))  # type: ignore[return-value]

    def put_manifest(self, sid: str, raw: bytes) -> None:
        self.client.set(self.key(sid, "manifest"), raw, keepttl=True)

    def get_data(self, sid: str, ref: str) -> bytes | None:
        return self.client.get(self.key(sid, f"data:{ref}"))  # type: ignore[return-value]

    def put_data(self, sid: str, ref: str, raw: bytes) -> None:
        self.client.set(self.key(sid, f"data:{ref}"), raw, keepttl=True)

    def remove_data(self, sid: str, ref: str) -> None:
        assert self.client.delete(self.key(sid, f"data:{ref}")) == 1

    def stored_refs(self, sid: str) -> set[str]:
        start = len(self.key(sid, "data:"))
        return {key.decode()[start:] for key in self.keys(sid, "data:*")}

    def keys(self, sid: str, part: str = "*") -> list[bytes]:
        return sorted(self.client.scan_iter(match=self.key(sid, part), count=1000))

    def pttl(self, sid: str, part: str) -> int:
        return int(self.client.pttl(self.key(sid, part)))

    def age(self, sid: str, seconds: float) -> None:
        when = repr(time.time() - seconds)
        self.client.set(self.key(sid, "touched"), when, keepttl=True)

    @contextlib.contextmanager
    def hold_lock(self, sid: str) -> Iterator[None]:
        token = f"held-by-test-{uuid.uuid4().hex}"
        assert self.client.set(self.key(sid, "lock"), token, nx=True, px=60_000)
        try:
            yield
        finally:
            self.client.delete(self.key(sid, "lock"))

    def leftovers(self, sid: str) -> list[str]:
        return [key.decode() for key in self.keys(sid)]
