"""Sessions in the public Voilà app survive reloads, dead kernels and other processes.

Driven in headless Chromium against real Voilà servers on 127.0.0.1: choose up to
the age group, then open the session link again after a plain reload, after the
kernel process was killed with SIGKILL, and on a second Voilà process sharing
the store; each time the same stage, choices and option figures come back. Two
tabs on one session: the second writer gets the conflict message, sees the
session as saved, and carries on. Deleting the session from the page removes it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from conftest import _alive, _children, _is_kernel
from playwright.sync_api import expect
from test_app_flow import (
    SAMPLE,
    STEP_MS,
    at_stage,
    choose,
    open_app,
    pick,
    session_link,
    upload,
)

from tpr_widgets import Workflow

pytestmark = pytest.mark.e2e

CHOSEN = {"state": "Kwara", "facility_level": "primary", "age_group": "u5"}


def _kernels(server: Any) -> list[int]:
    return [pid for pid in _children(server.process.pid) if _is_kernel(pid)]


def _kill_kernels(server: Any) -> list[int]:
    """SIGKILL every kernel of `server` (by pid) and wait until they are gone."""
    killed = _kernels(server)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while any(_alive(pid) and _is_kernel(pid) for pid in killed):
        assert time.monotonic() < deadline, "a killed kernel is still running"
        time.sleep(0.1)
    return killed


def _same_session(page: Any, session_id: str, figures: str) -> None:
    """The page shows the saved session: stage, file, figures of the choices."""
    at_stage(page, "test method")
    assert session_link(page)[1] == session_id
    expect(page.locator(".tpr-message")).not_to_contain_text("could not be opened")
    expect(page.locator(".tpr-app")).to_contain_text("File: nmep_sample_format_a.xlsx")
    # The test-method figures are sums over Kwara, primary, under 5 only.
    assert page.locator(".tpr-body table.tpr-table").inner_text() == figures


def test_link_survives_reload_killed_kernel_and_another_process(
    page: Any, start_voila: Any, tmp_path: Path
) -> None:
    store = tmp_path / "shared-store"
    first = start_voila(store, "voila-a")
    open_app(page, first.url + "/")
    upload(page, SAMPLE)
    choose(page, r"^Kwara$", "facility level")
    choose(page, r"^Primary$", "age group")
    choose(page, r"^Under 5$", "test method")
    href, session_id = session_link(page)
    figures = page.locator(".tpr-body table.tpr-table").inner_text()
    assert Workflow.resume(store, session_id).selections == CHOSEN

    # 1. Reload the page with the session link.
    open_app(page, first.url + href)
    _same_session(page, session_id, figures)

    # 2. Kill the kernel process behind the page, then reload.
    killed = _kill_kernels(first)
    assert killed, "found no kernel to kill"
    open_app(page, first.url + href)
    _same_session(page, session_id, figures)
    assert not set(_kernels(first)) & set(killed)  # a new kernel serves it

    # 3. A second Voilà process on the same store opens the link.
    second = start_voila(store, "voila-b")
    assert second.process.pid != first.process.pid
    open_app(page, second.url + href)
    _same_session(page, session_id, figures)

    # ... and acts on it, as the first process then sees.
    choose(page, r"^Both", "period")
    resumed = Workflow.resume(store, session_id)
    assert resumed.stage == "period"
    assert resumed.selections == {**CHOSEN, "test_method": "both", "combine": "sum"}
    open_app(page, first.url + href)
    at_stage(page, "period")


def test_two_tabs_second_writer_gets_the_conflict_and_recovers(
    page: Any, voila: Any, browser_context: Any
) -> None:
    workflow = Workflow.new(voila.store)
    workflow.load_file(SAMPLE)
    workflow.select("Kwara")
    workflow.select("primary")
    session_id = workflow.session_id
    other = browser_context.new_page()
    try:
        open_app(page, f"{voila.url}/?session={session_id}")
        open_app(other, f"{voila.url}/?session={session_id}")
        at_stage(page, "age group")
        at_stage(other, "age group")

        choose(other, r"^Under 5$", "test method")  # the first writer wins
        pick(page, r"^5 and over")  # this tab still holds the older revision
        page.locator(".tpr-next").click()
        expect(page.locator(".tpr-message")).to_contain_text(
            "changed in another window", timeout=STEP_MS
        )
        # Reloaded to what is saved, not overwritten with "5 and over".
        at_stage(page, "test method")
        assert Workflow.resume(voila.store, session_id).selections["age_group"] == "u5"

        # It recovers: the next action from this tab is saved normally.
        choose(page, r"^Both", "period")
        expect(page.locator(".tpr-error")).to_have_count(0)
        expect(page.locator(".tpr-message")).not_to_contain_text("another window")
    finally:
        other.close()
    stored = Workflow.resume(voila.store, session_id)
    assert stored.stage == "period"
    assert stored.selections["age_group"] == "u5"
    assert stored.selections["test_method"] == "both"


def test_delete_from_the_page_removes_the_session(page: Any, voila: Any) -> None:
    open_app(page, voila.url + "/")
    upload(page, SAMPLE)
    href, session_id = session_link(page)
    folder = voila.store / "sessions" / session_id
    assert folder.is_dir()

    page.locator(".tpr-delete").click()
    page.locator(".tpr-delete-confirm").click()
    expect(page.locator(".tpr-message")).to_contain_text("were deleted")
    assert not folder.exists()

    open_app(page, voila.url + href)  # the old link no longer opens it
    expect(page.locator(".tpr-message")).to_contain_text("could not be opened")
    assert session_link(page)[1] != session_id
    assert not folder.exists()
