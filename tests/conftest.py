"""Shared test set-up: every test (and every notebook kernel) uses a private store.

`TPR_WIDGETS_HOME` is pointed at a fresh folder before anything runs, so no test
touches a user's sessions and kernels started by nbval inherit it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer, find_server, required

_HOME = tempfile.mkdtemp(prefix="tpr-widgets-test-home-")
os.environ["TPR_WIDGETS_HOME"] = _HOME
os.environ.pop("TPR_WIDGETS_SECRET", None)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_A = REPO / "tpr_widgets" / "data" / "nmep_sample_format_a.xlsx"
SAMPLE_B = REPO / "tpr_widgets" / "data" / "dhis2_sample_format_b.xlsx"


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    """A store root of the test's own."""
    root = tmp_path / "store"
    root.mkdir()
    return root


def _redis_binary() -> str:
    """The redis-server to run; skips the test without one, unless required."""
    binary = find_server()
    if binary is None:
        if required():
            pytest.fail("TPR_WIDGETS_REQUIRE_REDIS=1 but no redis-server was found")
        pytest.skip("redis-server is not installed (tools/dev.py test installs it)")
    return binary


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, shared by the whole run.

    Tests keep apart by key prefix (`redis_url`), so none needs to flush it.
    """
    server = RedisServer(_redis_binary()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_redis_server() -> Iterator[Callable[..., RedisServer]]:
    """Start redis-servers of the test's own (to kill, fill or lock with a
    password without disturbing other tests); stopped after the test."""
    started: list[RedisServer] = []

    def start(password: str | None = None) -> RedisServer:
        started.append(RedisServer(_redis_binary(), password=password).start())
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A Redis store location of the test's own (a fresh key prefix)."""
    return f"{redis_server.url}?prefix=t{uuid.uuid4().hex[:12]}"
