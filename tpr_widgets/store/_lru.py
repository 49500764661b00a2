"""A tiny thread-safe LRU cache for objects read back from the store.

Used by `FileStore.read_data` so that the workflow re-reading the same table at
every stage does not unpickle it each time. Safe because a ref is a content hash
(the bytes behind a (session id, ref) key can never change) and entries are only
added after verification. The catch: the cached object is shared, so callers must
treat objects from `read_data` as read-only (copy a DataFrame before changing it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["LRUCache"]

Key = tuple[str, str]


class LRUCache:
    """At most `size` objects keyed by (session id, ref); `size` 0 disables it."""

    def __init__(self, size: int) -> None:
        self._size = max(0, size)
        self._items: OrderedDict[Key, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> tuple[bool, object]:
        """Return (True, object) on a hit, else (False, None)."""
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: Key, value: object) -> None:
        if self._size == 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget_session(self, session_id: str) -> None:
        with self._lock:
            for key in [key for key in self._items if key[0] == session_id]:
                del self._items[key]
