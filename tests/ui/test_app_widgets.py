"""The App driven in-process, as a browser drives it: clicks and widget values.

No browser and no kernel: the tests call the buttons' `click()` and set widget
values (also through `set_state`, as a frontend's comm message would), including
values no honest frontend sends, and check what the user sees (the message
widget, the stage trail) against what the workflow and the store hold.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import ipywidgets.widgets.widget as widget_registry
import pytest
from traitlets import TraitError

from tpr_widgets import App, InputError, StoreUnavailableError, Workflow

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tpr_widgets" / "data" / "nmep_sample_format_a.xlsx"
CHOICES = ["Kwara", "primary", "u5", "both", "all", "keep"]


# -- finding and driving widgets --------------------------------------------------


def find(app: widgets.Widget, css: str) -> list[Any]:
    found, todo = [], [app]
    while todo:
        item = todo.pop(0)
        if css in getattr(item, "_dom_classes", ()):
            found.append(item)
        todo.extend(getattr(item, "children", ()) or ())
    return found


def one(app: App, css: str) -> Any:
    found = find(app, css)
    assert len(found) == 1, f"{len(found)} widgets with class {css!r}"
    return found[0]


def message(app: App) -> str:
    return str(one(app, "tpr-message").value)


def page_html(app: App) -> str:
    text, todo = [], [app]
    while todo:
        item = todo.pop(0)
        value = getattr(item, "value", None)
        if isinstance(value, str):
            text.append(value)
        todo.extend(getattr(item, "children", ()) or ())
    return "".join(text)


def current_stage(app: App) -> str:
    marker = '<b class="tpr-current">'
    header = page_html(app)
    start = header.index(marker) + len(marker)
    return header[start : header.index("</b>", start)].replace(" ", "_")


def choose(app: App, value: str) -> None:
    one(app, "tpr-choice").value = value
    one(app, "tpr-next").click()


def upload_value(content: Any, name: str = "export.xlsx") -> tuple[dict, ...]:
    """The FileUpload value as ipywidgets deserialises it from the browser."""
    return (
        {
            "name": name,
            "type": "",
            "size": len(content) if isinstance(content, bytes | memoryview) else 0,
            "content": content,
            "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        },
    )


def snapshot(app: App) -> tuple[str, int, dict[str, Any]]:
    wf = app.workflow
    return wf.stage, wf.revision, wf.selections


def stored(app: App, root: Path) -> tuple[str, int, dict[str, Any]]:
    wf = Workflow.resume(root, app.workflow.session_id)
    return wf.stage, wf.revision, wf.selections


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def loaded(root: Path) -> App:
    """An App with the sample loaded through its button: at the state stage."""
    app = App(root=root)
    one(app, "tpr-sample").click()
    assert app.workflow.stage == "state", message(app)
    return app


# -- the honest path ------------------------------------------------------------------


def test_buttons_lead_to_the_ward_table(root: Path) -> None:
    app = App(root=root)
    assert current_stage(app) == "upload"
    one(app, "tpr-sample").click()
    assert message(app) == ""
    assert "nmep_sample_format_a.xlsx" in page_html(app)
    for value in CHOICES:
        stage = app.workflow.stage
        choose(app, value)
        assert message(app) == "", (stage, value)
        assert app.workflow.selections[stage] == value
        assert current_stage(app) == app.workflow.stage
    assert app.workflow.stage == "results"
    assert "171 wards" in one(app, "tpr-results").value
    assert "<td>Afon</td>" in page_html(app)
    assert stored(app, root) == snapshot(app)


def test_upload_widget_value_loads_the_file(root: Path) -> None:
    app = App(root=root)
    data = SAMPLE.read_bytes()
    one(app, "tpr-upload").value = upload_value(memoryview(data), "my export.xlsx")
    assert message(app) == ""
    assert app.workflow.stage == "state"
    assert app.workflow.file == {
        "name": "my export.xlsx",
        "size": len(data),
        "sha256": app.workflow.file["sha256"],
    }
    assert "my export.xlsx" in page_html(app)


def test_back_returns_to_the_last_choice(loaded: App) -> None:
    choose(loaded, "Kwara")
    choose(loaded, "primary")
    one(loaded, "tpr-back").click()
    assert loaded.workflow.stage == "facility_level"
    assert "facility_level" not in loaded.workflow.selections
    assert current_stage(loaded) == "facility_level"


def test_old_panels_are_closed(loaded: App) -> None:
    """Redrawing closes the widgets of the panel it replaces (no growth)."""
    choose(loaded, "Kwara")
    old = find(loaded, "tpr-next")[0]
    counts = []
    for _ in range(4):
        one(loaded, "tpr-back").click()
        choose(loaded, "Kwara")
        counts.append(len(widget_registry._instances))
    assert old.comm is None, "a replaced widget was left open"
    assert counts[-1] <= counts[0], counts


# -- hostile widget values ----------------------------------------------------------

HOSTILE_CHOICES = [
    "Lagos",
    "",
    "../../etc/passwd",
    '<img src=x onerror="alert(1)">',
    "Kwara\x00",
    "all states",
    "x" * 5000,
    None,
    42,
    ["Kwara"],
    {"value": "Kwara"},
    b"Kwara",
]


def test_radio_refuses_values_not_offered(loaded: App) -> None:
    picker = one(loaded, "tpr-choice")
    before = snapshot(loaded)
    with pytest.raises(TraitError):
        picker.value = "Lagos"
    with pytest.raises(TraitError):
        picker.set_state({"index": 99})  # what a frontend's comm message does
    with pytest.raises(TraitError):
        picker.set_state({"index": -5})
    assert snapshot(loaded) == before


def test_workflow_refuses_hostile_choices(loaded: App, root: Path) -> None:
    before = snapshot(loaded)
    for value in HOSTILE_CHOICES:
        with pytest.raises(InputError):
            loaded.workflow.select(value)
        assert snapshot(loaded) == before, value
    assert stored(loaded, root) == before


def _force_value(picker: widgets.RadioButtons, value: Any) -> None:
    """Put a value into the picker past its validation (a frontend that got one
    through), so the App's Next handler passes it on to the workflow."""
    picker._trait_values["value"] = value


def test_next_with_hostile_value_shows_error(loaded: App, root: Path) -> None:
    before = snapshot(loaded)
    for value in HOSTILE_CHOICES:
        _force_value(one(loaded, "tpr-choice"), value)
        one(loaded, "tpr-next").click()
        shown = message(loaded)
        assert 'class="tpr-error"' in shown, (value, shown)
        assert "<img" not in shown and "\x00" not in shown  # escaped or left out
        assert snapshot(loaded) == before, value
        assert current_stage(loaded) == "state"
    assert stored(loaded, root) == before
    # The app is still usable after the refusals.
    choose(loaded, "Kwara")
    assert loaded.workflow.stage == "facility_level"
    assert message(loaded) == ""


def test_frontend_clearing_the_radio_shows_error(loaded: App, root: Path) -> None:
    before = snapshot(loaded)
    one(loaded, "tpr-choice").set_state({"index": None})  # a legal comm message
    one(loaded, "tpr-next").click()
    assert 'class="tpr-error"' in message(loaded)
    assert snapshot(loaded) == before
    assert stored(loaded, root) == before


def test_bad_periods_show_error(loaded: App, root: Path) -> None:
    for choice in CHOICES[:4]:
        choose(loaded, choice)
    assert loaded.workflow.stage == "period"
    before = snapshot(loaded)
    for value in ["2023-13", "1900", "2024-12:2023-01", "ALL", "2030:2031"]:
        _force_value(one(loaded, "tpr-choice"), value)
        one(loaded, "tpr-next").click()
        assert 'class="tpr-error"' in message(loaded), value
        assert snapshot(loaded) == before, value
    assert stored(loaded, root) == before


HOSTILE_UPLOADS: list[tuple[str, Callable[[], tuple[dict, ...]]]] = [
    ("not a workbook", lambda: upload_value(b"PK\x03\x04 not really a zip" * 10)),
    ("empty", lambda: upload_value(b"")),
    (
        "script name",
        lambda: upload_value(b"a,b\n1,2\n", "<script>alert(1)</script>.csv"),
    ),
    ("traversal name", lambda: upload_value(b"\x00\x01garbage", "../../../evil.xlsx")),
    ("text content", lambda: upload_value("State,LGA\nKwara,Asa\n")),
    ("number content", lambda: upload_value(12)),
    ("no content", lambda: upload_value(None)),
]


@pytest.mark.parametrize(
    "make", [m for _, m in HOSTILE_UPLOADS], ids=[n for n, _ in HOSTILE_UPLOADS]
)
def test_hostile_upload_shows_error(
    root: Path, tmp_path: Path, make: Callable[[], tuple[dict, ...]]
) -> None:
    app = App(root=root)
    before = snapshot(app)
    one(app, "tpr-upload").value = make()
    shown = message(app)
    assert 'class="tpr-error"' in shown, shown
    assert "<script" not in shown
    assert snapshot(app) == before
    assert stored(app, root) == before
    assert current_stage(app) == "upload"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert not list(root.rglob("evil*"))


def test_hostile_upload_then_a_good_one(root: Path) -> None:
    app = App(root=root)
    one(app, "tpr-upload").value = upload_value(b"garbage", "bad.xlsx")
    assert 'class="tpr-error"' in message(app)
    one(app, "tpr-upload").value = upload_value(SAMPLE.read_bytes())
    assert message(app) == ""
    assert app.workflow.stage == "state"


def test_error_message_escapes_the_file_name(root: Path) -> None:
    app = App(root=root)
    name = "<b>bold</b>.csv"
    one(app, "tpr-upload").value = upload_value(b"", name)
    shown = message(app)
    assert html.escape(name) in shown or "bold" not in shown
    assert "<b>bold" not in shown


# -- another window changed the session ---------------------------------------------


@pytest.mark.parametrize("action", ["next", "back"])
def test_conflict_reloads_to_the_other_windows_stage(
    loaded: App, root: Path, action: str
) -> None:
    choose(loaded, "Kwara")
    other = Workflow.resume(root, loaded.workflow.session_id)
    other.select("primary")
    other.select("u5")  # the other window is now two choices ahead
    assert other.stage == "test_method"

    if action == "next":
        choose(loaded, "secondary")
    else:
        one(loaded, "tpr-back").click()
    shown = message(loaded)
    assert "changed in another window" in shown, shown
    assert snapshot(loaded) == (other.stage, other.revision, other.selections)
    assert current_stage(loaded) == "test_method"
    assert stored(loaded, root) == (other.stage, other.revision, other.selections)

    # Reloaded, the app acts on the saved session again.
    choose(loaded, "rdt")
    assert message(loaded) == ""
    assert loaded.workflow.stage == "period"
    assert loaded.workflow.revision == other.revision + 1


def test_conflict_on_upload_reloads(root: Path) -> None:
    app = App(root=root)
    other = Workflow.resume(root, app.workflow.session_id)
    other.load_file(SAMPLE)
    other.select("Osun")
    one(app, "tpr-sample").click()
    assert "changed in another window" in message(app)
    assert snapshot(app) == (other.stage, other.revision, other.selections)
    assert current_stage(app) == "facility_level"


def test_conflict_when_the_store_then_fails_keeps_the_page(
    loaded: App, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose(loaded, "Kwara")
    other = Workflow.resume(root, loaded.workflow.session_id)
    other.select("primary")
    before = snapshot(loaded)

    def down(session_id: str) -> None:
        raise StoreUnavailableError("The session store is unreachable (test).")

    monkeypatch.setattr(loaded.workflow._store, "load", down)
    choose(loaded, "secondary")

    shown = message(loaded)
    assert "changed in another window" in shown, shown
    assert "could not be reloaded either" in shown
    assert "unreachable (test)" in shown
    assert snapshot(loaded) == before  # the page still shows what it showed
