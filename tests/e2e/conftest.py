"""Fixtures for the browser tests: real Voilà servers and a headless Chromium.

`voila` is one Voilà server (for the module) serving `notebooks/tpr_app.ipynb` on
127.0.0.1 with its session store in a pytest tmp dir; `start_voila(store)` starts
another one on any store, a folder or a `redis://` URL, with extra environment
if given (two servers on one store are two processes, or two machines, sharing
sessions). `page` is a fresh tab of a session-wide Chromium that may only reach
127.0.0.1: every other request is aborted and recorded in `page.context.blocked`
(console lines and page errors go to `page.console`).

When a test fails, the log of every server still running is added to its report,
and a screenshot of the page is saved to the test's tmp dir.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tpr_widgets.ui.voila import TEMPLATE, serve_environment

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/tpr_app.ipynb"
HOST = "127.0.0.1"
SERVER_START_S = 60.0
STOP_S = 15.0
DEFAULT_TIMEOUT_MS = 30_000
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]

# The call-phase report of each test, for fixtures that act on failure.
_REPORT = pytest.StashKey[Any]()

# What the browser may load; anything else (the page asks a CDN for fonts) is
# aborted and recorded.
LOCAL_PREFIXES = (f"http://{HOST}:", f"ws://{HOST}:", "data:", "blob:")

# -- Voilà servers ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    """All descendants of `pid` (read from /proc; empty where there is none)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_kernel(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"ipykernel" in cmdline


# Servers started by this process and not stopped yet, for failure reports.
_RUNNING: list[VoilaServer] = []


@dataclass
class VoilaServer:
    """One running `voila` process and what it was started with."""

    name: str
    url: str
    store: Path | str
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    kernels: set[int] = field(default_factory=set)

    def log_text(self, tail: int = 20_000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as error:
            return f"(no log: {error})"
        return text[-tail:]

    def stop(self) -> None:
        """End the server and every kernel it started (each by its own pid)."""
        if self in _RUNNING:
            _RUNNING.remove(self)
        self.kernels |= set(_children(self.process.pid))
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # Voilà shuts its kernels down
            try:
                self.process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_S)
        leftovers = [pid for pid in self.kernels if _alive(pid) and _is_kernel(pid)]
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while leftovers and time.monotonic() < deadline:
            leftovers = [pid for pid in leftovers if _alive(pid) and _is_kernel(pid)]
            time.sleep(0.1)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    """Whether the server serves a static file (a page would start a kernel)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        static = f"/voila/templates/{TEMPLATE}/static/voila.js"
        with opener.open(url + static, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def start_voila_server(
    store: Path | str,
    workdir: Path,
    name: str = "voila",
    extra_env: Mapping[str, str] | None = None,
) -> VoilaServer:
    """Start `voila notebooks/tpr_app.ipynb` on 127.0.0.1 with `store` as its home.

    `store` is a folder (created if missing) or a store URL (`redis://...`).
    `extra_env` is added to the server's environment last, so it may set
    `TPR_WIDGETS_SECRET` (which is otherwise removed) or `HOME`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    if isinstance(store, Path):
        store.mkdir(parents=True, exist_ok=True)
    (workdir / "connections").mkdir(exist_ok=True)
    (workdir / "runtime").mkdir(exist_ok=True)
    env = {
        **serve_environment(),
        "TPR_WIDGETS_HOME": str(store),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TPR_WIDGETS_SECRET", None)  # servers on one store share its key file
    env.update(extra_env or {})
    error = ""
    for _attempt in range(3):  # a free port can be taken before Voilà binds it
        port = _free_port()
        url = f"http://{HOST}:{port}"
        log_path = workdir / f"{name}-{port}.log"
        command = [
            sys.executable,
            "-m",
            "voila",
            NOTEBOOK,
            "--no-browser",
            f"--port={port}",
            f"--Voila.ip={HOST}",
            f"--template={TEMPLATE}",
            "--show_tracebacks=True",
            f"--Voila.connection_dir_root={workdir / 'connections'}",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = VoilaServer(name, url, store, workdir, log_path, process)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(url):
                _RUNNING.append(server)
                return server
            time.sleep(0.25)
        error = server.log_text()
        server.stop()
    raise RuntimeError(f"Voilà did not start; its log:\n{error}")


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    """A Voilà server for this module; its store is `voila.store`."""
    base = tmp_path_factory.mktemp("voila")
    server = start_voila_server(base / "store", base / "server", "voila")
    yield server
    server.stop()


@pytest.fixture
def start_voila(
    tmp_path: Path,
) -> Iterator[Callable[..., VoilaServer]]:
    """Start more servers, e.g. `start_voila(voila.store)` or
    `start_voila(redis_url, "b", env={...})`; stopped after the test."""
    started: list[VoilaServer] = []

    def start(
        store: Path | str,
        name: str = "voila-2",
        env: Mapping[str, str] | None = None,
    ) -> VoilaServer:
        server = start_voila_server(store, tmp_path / name, name, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# -- the browser --------------------------------------------------------------


def chromium_executable() -> str | None:
    """`TPR_WIDGETS_CHROMIUM`, else `chromium` on PATH, else None."""
    configured = os.environ.get("TPR_WIDGETS_CHROMIUM")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"TPR_WIDGETS_CHROMIUM={configured!r} is not an executable")
        return configured
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the session, with a fresh profile, reaching 127.0.0.1 only."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "no Chromium: set TPR_WIDGETS_CHROMIUM or put `chromium` on PATH "
            "(Debian: apt-get install chromium)"
        )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 1000},
            accept_downloads=False,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.blocked = []  # type: ignore[attr-defined]

        def only_local(route: Any) -> None:
            url = route.request.url
            if url.startswith(LOCAL_PREFIXES):
                route.continue_()
            else:
                context.blocked.append(url)  # type: ignore[attr-defined]
                route.abort()

        context.route("**/*", only_local)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A new tab; closed (with a screenshot if the test failed) after the test."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    tab.console = []
    tab.on("console", lambda m: tab.console.append(f"{m.type}: {m.text}"))
    tab.on("pageerror", lambda e: tab.console.append(f"pageerror: {e}"))
    yield tab
    report = request.node.stash.get(_REPORT, None)
    if report is not None and report.failed and not tab.is_closed():
        with contextlib.suppress(Exception):
            tab.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
    if not tab.is_closed():
        tab.close()


# -- failure reports ----------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_REPORT] = report
    if report.failed:
        for server in _RUNNING:
            report.sections.append(
                (f"{server.name} log ({server.log_path})", server.log_text())
            )
