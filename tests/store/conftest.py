"""Fixtures for the store tests: a fresh store root per test, no secret in env.

`backend` runs a contract test once per store backend ("file", "redis"); see
`_backends`. The Redis one uses the shared test server with a key prefix of the
test's own, and sets `TPR_WIDGETS_SECRET` (the Redis store takes its secret
from there only).

Also puts the repository root and this folder on `sys.path` (once), so the
package and `_store_workers` import the same way in spawned child processes,
whatever pytest import mode is in use.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE.parents[1]), str(_HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from _backends import SECRET, Backend, FileBackend, RedisBackend  # noqa: E402

from tpr_widgets.store import FileStore, new_session_id  # noqa: E402


@pytest.fixture(autouse=True)
def _no_secret_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts without TPR_WIDGETS_SECRET / TPR_WIDGETS_HOME."""
    monkeypatch.delenv("TPR_WIDGETS_SECRET", raising=False)
    monkeypatch.delenv("TPR_WIDGETS_HOME", raising=False)
    yield


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> FileStore:
    return FileStore(root)


@pytest.fixture
def sid() -> str:
    return new_session_id()


@pytest.fixture(params=["file", "redis"])
def backend(
    request: pytest.FixtureRequest, root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """One store backend: the file store in `root`, or Redis under a fresh prefix."""
    if request.param == "file":
        yield FileBackend(root)
        return
    url = request.getfixturevalue("redis_url")
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    found = RedisBackend(url)
    try:
        yield found
    finally:
        found.client.close()
