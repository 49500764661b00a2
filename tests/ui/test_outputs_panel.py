"""The outputs part of the results panel, driven in-process like a browser.

Uses the real Ilorin ward boundaries from the shared data folder beside the
clone (`../shared/data/`); skipped with that reason when it is absent. Checks
what the user gets: the map image, the review figures, every download as a
`data:` link whose bytes are the file (and no server path anywhere), the
recode editor re-joining, errors shown in the app, and a new upload clearing
the boundaries of the previous one.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.geo._synthetic import ILORIN, ILORIN_LGAS, SHARED, wards_of, write_export
from tests.ui.test_app_widgets import message, one, page_html
from tpr_widgets import App, Workflow

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is absent"
)
ANSWERS = {"age_group": "u5", "test_method": "rdt", "period": "all", "review": "keep"}


def _results(root: Path, export: Path) -> Workflow:
    wf = Workflow.new(root)
    wf.load_file(export)
    while wf.stage != "results":
        wf.select(ANSWERS[wf.stage])
    return wf


def _downloads(app: App) -> dict[str, bytes]:
    found = {}
    text = one(app, "tpr-download-list").value
    for name, payload in re.findall(
        r'download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', text
    ):
        found[html.unescape(name)] = base64.b64decode(payload)
    return found


def _upload(app: App, data: bytes, name: str) -> None:
    widget = one(app, "tpr-boundary-upload")
    widget.value = (
        {
            "name": name,
            "type": "",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        },
    )


def test_boundaries_map_review_recode_and_downloads(tmp_path: Path) -> None:
    wards = [(lga, w) for lga, w, _ in wards_of(ILORIN_LGAS)]
    write_export(tmp_path / "kwara.csv", "Kwara", "kw", wards)
    wf = _results(tmp_path / "store", tmp_path / "kwara.csv")
    app = App(workflow=wf)
    before = _downloads(app)
    assert sorted(before) == sorted(
        [
            "ward_tpr.csv",
            "lga_tpr.csv",
            "state_tpr.csv",
            "ward_period_tpr.csv",  # January and February 2024
            "ward_tpr.xlsx",
            "risk_analysis.csv",
            "report.md",
            "run.json",
        ]
    )
    _upload(app, ILORIN.read_bytes(), ILORIN.name)
    assert "tpr-error" not in message(app)
    files = _downloads(app)
    assert {
        "wards.geojson",
        "wards_shapefile.zip",
        "tpr_map.png",
        "ward_matches.csv",
    } <= set(files)
    assert one(app, "tpr-map").value == files["tpr_map.png"]
    assert files["tpr_map.png"][:4] == b"\x89PNG"
    risk = pd.read_csv(io.BytesIO(files["risk_analysis.csv"]))
    assert len(risk) == 35 and risk["tpr"].notna().sum() == 29
    record = json.loads(files["run.json"])
    assert [i["role"] for i in record["inputs"]] == ["export", "boundaries"]
    assert zipfile.ZipFile(io.BytesIO(files["wards_shapefile.zip"])).testzip() is None
    page = page_html(app)
    assert "29</b> of <b>35</b>" in page
    assert str(tmp_path) not in page and "/store" not in page

    # The recode editor, pre-filled with the unmatched data wards.
    editor = one(app, "tpr-recode")
    assert "Ilorin East,Magaji Are I,," in editor.value
    editor.value = editor.value.replace("Magaji Are I,,", "Magaji Are I,Are 1,")
    one(app, "tpr-recode-apply").click()
    assert "35" in page_html(app) and "30</b> of <b>35</b>" in page_html(app)
    assert list(
        Workflow.resume(tmp_path / "store", wf.session_id).recode["BoundaryWard"]
    ) == ["Are 1"]

    # The fixed colour scale draws another map.
    scale = one(app, "tpr-map-scale")
    first = one(app, "tpr-map").value
    scale.value = "fixed"
    assert one(app, "tpr-map").value != first

    # A bad file is a message in the app; the kept boundaries stay.
    _upload(app, b"<html>", "wards.geojson")
    assert "not a boundary file" in message(app)
    assert wf.boundary_file is not None and wf.boundary_file["name"] == ILORIN.name

    # Starting again with another file leaves nothing of these boundaries.
    wf.go_back("upload")
    wf.load_file(tmp_path / "kwara.csv")
    assert wf.boundary_file is None and wf.boundary_bytes() is None and wf.recode.empty
