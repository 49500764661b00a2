"""The JupyterLab session picker and the app's delete action, driven in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as widgets

from tpr_widgets import App, Workflow
from tpr_widgets.samples import sample_path
from tpr_widgets.ui.picker import SessionPicker, session_label


def find(root: widgets.Widget, css: str) -> list[Any]:
    found, todo = [], [root]
    while todo:
        item = todo.pop(0)
        if css in getattr(item, "_dom_classes", ()):
            found.append(item)
        todo.extend(getattr(item, "children", ()) or ())
    return found


def one(root: widgets.Widget, css: str) -> Any:
    found = find(root, css)
    assert len(found) == 1, f"{len(found)} widgets with class {css!r}"
    return found[0]


def test_picker_lists_own_sessions_newest_first_and_reopens_one(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    older = Workflow.new(root)
    older.load_file(sample_path())
    older.select("Kwara")
    older.select("primary")
    newer = Workflow.new(root)

    picker = SessionPicker(root)
    listed = one(picker, "tpr-sessions")
    assert [value for _, value in listed.options] == [
        newer.session_id,
        older.session_id,
    ]
    label = listed.options[1][0]
    assert "age group" in label and "nmep_sample_format_a.xlsx" in label
    assert label.endswith(f"{older.session_id[:6]}…")
    assert older.session_id not in label  # the full id is never shown

    listed.value = older.session_id
    one(picker, "tpr-open").click()

    assert picker.app is not None
    assert picker.app.workflow.session_id == older.session_id
    assert picker.app.workflow.stage == "age_group"
    assert picker.app.workflow.selections == {
        "state": "Kwara",
        "facility_level": "primary",
    }
    # The reopened App acts on the saved session.
    find(picker.app, "tpr-next")[0].click()
    assert Workflow.resume(root, older.session_id).stage == "test_method"


def test_picker_on_an_empty_store_says_so(tmp_path: Path) -> None:
    picker = SessionPicker(tmp_path / "empty")
    assert one(picker, "tpr-sessions").options == ()
    assert one(picker, "tpr-open").disabled
    assert "no saved sessions" in one(picker, "tpr-message").value


def test_picker_refresh_shows_a_session_made_since(tmp_path: Path) -> None:
    root = tmp_path / "store"
    picker = SessionPicker(root)
    made = Workflow.new(root)
    one(picker, "tpr-refresh").click()
    assert [v for _, v in one(picker, "tpr-sessions").options] == [made.session_id]


def test_session_label_from_hand_made_info() -> None:
    info = {
        "session_id": "0123456789abcdef0123456789abcdef",
        "updated": "2026-01-02T03:04:05.000000+00:00",
        "stage": "test_method",
        "label": "kano.xlsx",
    }
    assert (
        session_label(info)
        == "2026-01-02 03:04 UTC · test method · kano.xlsx · 012345…"
    )


def test_delete_asks_first_then_removes_the_session_and_its_data(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    app = App(root, link="?session=x")
    app.workflow.load_file(sample_path())
    folder = root / "sessions" / app.workflow.session_id
    assert folder.is_dir()

    one(app, "tpr-delete").click()
    assert folder.is_dir(), "deleted without asking"
    one(app, "tpr-delete-cancel").click()
    assert folder.is_dir()
    one(app, "tpr-delete").click()
    one(app, "tpr-delete-confirm").click()

    assert not folder.exists()
    assert "were deleted" in one(app, "tpr-message").value
    assert find(app, "tpr-next") == [] and find(app, "tpr-delete") == []
    assert "session=" not in app._header.value  # the dead link is gone
    assert list((root / "sessions").iterdir()) == []
