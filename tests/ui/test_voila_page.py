"""The Voilà page builder: resume from ?session=, new sessions, unreachable store."""

from __future__ import annotations

import socket
from pathlib import Path

import ipywidgets as widgets
import pytest

from tpr_widgets import App, Workflow
from tpr_widgets.ui import voila_app

SECRET = "voila-page-test-secret-0123456789"


def _page(monkeypatch: pytest.MonkeyPatch, query: str) -> App | widgets.HTML:
    monkeypatch.setenv("QUERY_STRING", query)
    monkeypatch.setenv("SCRIPT_NAME", "/voila/render/tpr_app.ipynb")
    return voila_app()


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_saved_session_resumes_and_an_unknown_one_starts_anew(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_HOME", str(tmp_path / "store"))
    saved = Workflow.new()

    resumed = _page(monkeypatch, f"session={saved.session_id}")
    unknown = _page(monkeypatch, "session=" + "0" * 32)

    assert isinstance(resumed, App) and resumed.workflow.session_id == saved.session_id
    assert isinstance(unknown, App) and unknown.workflow.session_id != "0" * 32
    assert "could not be opened" in unknown._message.value


def test_an_unreachable_redis_store_gives_one_notice_and_no_new_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    monkeypatch.setenv("TPR_WIDGETS_HOME", f"redis://127.0.0.1:{_closed_port()}/0")

    for query in ("", "session=" + "ab" * 16):
        page = _page(monkeypatch, query)

        assert isinstance(page, widgets.HTML), type(page)
        assert "cannot use its session store" in page.value
        assert "unreachable or not answering" in page.value
        assert "Traceback" not in page.value


def test_a_redis_session_resumes_on_the_page(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.setenv("TPR_WIDGETS_SECRET", SECRET)
    monkeypatch.setenv("TPR_WIDGETS_HOME", redis_url)
    saved = Workflow.new()

    page = _page(monkeypatch, f"session={saved.session_id}")

    assert isinstance(page, App)
    assert page.workflow.session_id == saved.session_id
    assert page.workflow.revision == saved.revision == 1


def test_a_redis_store_without_the_secret_gives_the_setup_message(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.delenv("TPR_WIDGETS_SECRET", raising=False)
    monkeypatch.setenv("TPR_WIDGETS_HOME", redis_url)

    page = _page(monkeypatch, "")

    assert isinstance(page, widgets.HTML)
    assert "cannot use its session store" in page.value
    assert "needs TPR_WIDGETS_SECRET" in page.value


def test_an_unexpected_failure_gives_the_notice_and_logs_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(root: object = None) -> Workflow:
        raise UnicodeError("label too long")

    monkeypatch.setattr(Workflow, "new", staticmethod(broken))
    page = _page(monkeypatch, "")

    assert isinstance(page, widgets.HTML)
    assert "An unexpected error stopped the app" in page.value
    assert "label too long" not in page.value
    assert "label too long" in caplog.text
