"""`tools/dev.py test` finds or installs Chromium and redis-server, and makes the
Redis tests required once a server is there.

apt-get and the test steps are replaced by recorders, so nothing is installed
or run; what is checked is which commands would run, and with what environment.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev", REPO / "tools" / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _machine(
    monkeypatch: pytest.MonkeyPatch, dev: ModuleType, have: set[str], apt: bool
) -> list[tuple[str, ...]]:
    """Pretend only `have` is installed; apt installs what it is asked for."""
    installed = set(have)
    ran: list[tuple[str, ...]] = []

    def which(name: str) -> str | None:
        return f"/usr/bin/{name}" if name in installed else None

    def run(*command: Any, **kwargs: Any) -> None:
        ran.append(tuple(str(c) for c in command))
        if "install" in ran[-1]:
            installed.update(ran[-1][ran[-1].index("-qq") + 1 :])

    monkeypatch.setattr(dev.shutil, "which", which)
    monkeypatch.setattr(dev, "may_use_apt", lambda: "/usr/bin/apt-get" if apt else None)
    monkeypatch.setattr(dev, "run", run)
    return ran


def test_both_missing_one_update_one_install(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = _dev()
    ran = _machine(monkeypatch, dev, set(), apt=True)
    assert dev.system_tools() == ("/usr/bin/chromium", "/usr/bin/redis-server")
    assert ran == [
        ("/usr/bin/apt-get", "update", "-qq"),
        ("/usr/bin/apt-get", "install", "-y", "-qq", "chromium", "redis-server"),
    ]


def test_only_redis_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = _dev()
    ran = _machine(monkeypatch, dev, {"chromium"}, apt=True)
    assert dev.system_tools() == ("/usr/bin/chromium", "/usr/bin/redis-server")
    assert ran[-1] == ("/usr/bin/apt-get", "install", "-y", "-qq", "redis-server")
    assert len(ran) == 2


def test_nothing_missing_no_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = _dev()
    ran = _machine(monkeypatch, dev, {"chromium", "redis-server"}, apt=True)
    assert dev.system_tools() == ("/usr/bin/chromium", "/usr/bin/redis-server")
    assert ran == []


def test_without_apt_nothing_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = _dev()
    ran = _machine(monkeypatch, dev, {"chromium"}, apt=False)
    assert dev.system_tools() == ("/usr/bin/chromium", None)
    assert ran == []
    assert "no redis-server found" in capsys.readouterr().out


@pytest.mark.parametrize("have_redis", [True, False])
def test_the_test_run_requires_redis_when_found(
    monkeypatch: pytest.MonkeyPatch, have_redis: bool
) -> None:
    dev = _dev()
    have = {"chromium", "redis-server"} if have_redis else {"chromium"}
    _machine(monkeypatch, dev, have, apt=False)
    monkeypatch.setattr(dev, "install", lambda extra: None)
    monkeypatch.delenv("TPR_WIDGETS_REDIS_SERVER", raising=False)
    monkeypatch.delenv("TPR_WIDGETS_REQUIRE_REDIS", raising=False)
    steps: list[tuple[list[str], dict[str, str]]] = []

    def call(command: list[str], cwd: Any, env: dict[str, str]) -> int:
        steps.append((command, env))
        return 0

    monkeypatch.setattr(subprocess, "call", call)
    assert dev.test(["-q"]) == 0
    assert [c[-1] for c, _ in steps] == [".", ".", "mypy", "-q"]
    for _, env in steps:
        assert env["TPR_WIDGETS_CHROMIUM"] == "/usr/bin/chromium"
        if have_redis:
            assert env["TPR_WIDGETS_REDIS_SERVER"] == "/usr/bin/redis-server"
            assert env["TPR_WIDGETS_REQUIRE_REDIS"] == "1"
        else:
            assert "TPR_WIDGETS_REDIS_SERVER" not in env
            assert "TPR_WIDGETS_REQUIRE_REDIS" not in env
