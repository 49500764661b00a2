"""A real Redis server for the tests: started on a free loopback port, in its own
temporary folder, with append-only persistence so that it can be killed and
started again with its data (the crash tests rely on that).

The binary is `$TPR_WIDGETS_REDIS_SERVER` (set by `tools/dev.py test`, which
installs Debian's redis-server when it is missing), else `redis-server` on the
PATH. `find_server()` returns None when there is neither; tests then skip,
unless `TPR_WIDGETS_REQUIRE_REDIS=1` says the run must have one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisServer", "find_server", "free_port"]

SERVER_ENV = "TPR_WIDGETS_REDIS_SERVER"
REQUIRE_ENV = "TPR_WIDGETS_REQUIRE_REDIS"


def find_server() -> str | None:
    """The redis-server binary to use, or None."""
    named = os.environ.get(SERVER_ENV)
    if named and Path(named).is_file():
        return named
    return shutil.which("redis-server")


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at this moment)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1; `url` is its `redis://` address."""

    def __init__(
        self, binary: str, folder: Path | None = None, *, password: str | None = None
    ) -> None:
        self.binary = binary
        self.password = password
        self.folder = folder or Path(tempfile.mkdtemp(prefix="tpr-widgets-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start (or start again, with the data it had) and wait until it answers."""
        command = [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--protected-mode",
            "yes",
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--daemonize",
            "no",
            "--logfile",
            str(self.folder / "redis.log"),
        ]
        if self.password is not None:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server exited at start:\n{log[-2000:]}")
            if self.ping():
                return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 20 s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                # A server with a password answers -NOAUTH: it is up all the same.
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crashed machine would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        self.kill()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder)
