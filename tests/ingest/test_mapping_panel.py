"""The column-mapping panel at the upload stage, driven in-process."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl

from tests.reference import indicator
from tpr_widgets import App

T_U5 = indicator("rdt", "tested", "u5")
P_U5 = indicator("rdt", "positive", "u5")


def find(app: Any, css: str) -> list[Any]:
    found, todo = [], [app]
    while todo:
        item = todo.pop(0)
        if css in getattr(item, "_dom_classes", ()):
            found.append(item)
        todo.extend(getattr(item, "children", ()) or ())
    return found


def one(app: Any, css: str) -> Any:
    found = find(app, css)
    assert len(found) == 1, f"{len(found)} widgets with class {css!r}"
    return found[0]


def workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(app: App, data: bytes, name: str) -> None:
    one(app, "tpr-upload").value = (
        {
            "name": name,
            "type": "",
            "size": len(data),
            "content": data,
            "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        },
    )


def test_a_file_that_needs_a_mapping_is_mapped_in_the_panel(tmp_path: Path) -> None:
    # No state column and a ward column under an unknown name.
    data = workbook(
        [["Area", "Clinic", "period", T_U5, P_U5], ["Afon", "PHC", "2024-01", 10, 4]]
    )
    app = App(tmp_path / "store")
    upload(app, data, "odd.xlsx")
    assert "No ward column" in one(app, "tpr-message").value
    assert app.workflow.stage == "upload"
    one(app, "tpr-map-role").value = "ward"
    one(app, "tpr-map-header").value = "Area"
    one(app, "tpr-map-state").value = "Kwara"
    one(app, "tpr-map-apply").click()
    wf = app.workflow
    assert wf.stage != "upload", one(app, "tpr-message").value
    assert wf.columns["ward"] == "Area"
    assert wf.summary["states"]["Kwara"]["wards"] == 1
    # After the load the panel lists the detected roles and can change one.
    panel = one(app, "tpr-mapping")
    assert "Area" in panel.children[0].children[0].value
    one(app, "tpr-map-role").value = "facility"
    one(app, "tpr-map-header").value = "Clinic"
    one(app, "tpr-map-apply").click()
    assert app.workflow.columns["facility"] == "Clinic"
    assert app.workflow._state["column_overrides"] == {
        "ward": "Area",
        "facility": "Clinic",
    }
