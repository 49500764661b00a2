"""The outputs in the real Voilà app, in headless Chromium: map, downloads, layouts.

Uploads a synthetic Kwara export (DHIS2 spellings of the real Ilorin wards)
and the real Ilorin ward boundaries from the shared data folder beside the
clone (`../shared/data/`; skipped with that reason when absent), then fetches
every download link in the browser and checks each file's content, and saves
screenshots of the results at a laptop and a phone viewport (copied to
`TPR_WIDGETS_ARTIFACTS` when that is set).
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
import pandas as pd
from playwright.sync_api import expect

from tests.e2e.test_app_flow import (
    FIRST_RENDER_MS,
    STEP_MS,
    at_stage,
    choose,
    open_app,
    save_screenshot,
)
from tests.geo._synthetic import ILORIN, ILORIN_LGAS, SHARED, wards_of, write_export

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is absent"
    ),
]
FILES = {
    "ward_tpr.csv",
    "lga_tpr.csv",
    "state_tpr.csv",
    "ward_period_tpr.csv",  # the sample covers 24 months
    "ward_tpr.xlsx",
    "risk_analysis.csv",
    "ward_matches.csv",
    "wards.geojson",
    "wards_shapefile.zip",
    "tpr_map.png",
    "report.md",
    "run.json",
}


def _choose_file(page: Any, css: str, path: Path) -> None:
    with page.expect_file_chooser(timeout=STEP_MS) as chooser:
        page.locator(css).click()
    chooser.value.set_files(str(path))


def _fetch_downloads(page: Any) -> dict[str, bytes]:
    """Every download link's file, as the browser delivers it."""
    got = page.evaluate(
        """async () => {
            const out = {};
            for (const a of document.querySelectorAll('a.tpr-download')) {
                const buffer = await (await fetch(a.href)).arrayBuffer();
                let text = '';
                for (const b of new Uint8Array(buffer)) text += String.fromCharCode(b);
                out[a.getAttribute('download')] = btoa(text);
            }
            return out;
        }"""
    )
    return {name: base64.b64decode(data) for name, data in got.items()}


def test_boundaries_map_and_every_download(
    page: Any, voila: Any, tmp_path: Path
) -> None:
    wards = [(lga, w) for lga, w, _ in wards_of(ILORIN_LGAS)]
    expected = write_export(tmp_path / "kwara.csv", "Kwara", "kw", wards)
    open_app(page, voila.url)
    _choose_file(page, ".tpr-upload", tmp_path / "kwara.csv")
    at_stage(page, "age group")
    choose(page, "^Under 5", "test method")
    choose(page, "^RDT$", "period")
    choose(page, "^All periods", "review")
    page.locator(".tpr-next").click()
    at_stage(page, "results")
    _choose_file(page, ".tpr-boundary-upload", ILORIN)
    expect(page.locator(".tpr-map")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.locator(".tpr-outputs")).to_contain_text("29 of 35 boundary wards")
    expect(page.locator(".tpr-error")).to_have_count(0)

    files = _fetch_downloads(page)
    assert set(files) == FILES
    ward = pd.read_csv(io.BytesIO(files["ward_tpr.csv"]))
    assert len(ward) == 35
    by_ward = dict(
        zip(zip(ward["LGA"], ward["WardName"], strict=True), ward["TPR"], strict=True)
    )
    assert by_ward == pytest.approx(expected)
    risk = pd.read_csv(io.BytesIO(files["risk_analysis.csv"]))
    assert len(risk) == 35 and risk["u5_tpr_rdt"].notna().sum() == 29
    book = pd.read_excel(
        io.BytesIO(files["ward_tpr.xlsx"]), sheet_name=None, engine="openpyxl"
    )
    assert {"Ward", "LGA", "State", "Run", "Matches", "Unmatched"} <= set(book)
    geo = json.loads(files["wards.geojson"])
    assert len(geo["features"]) == 35
    with zipfile.ZipFile(io.BytesIO(files["wards_shapefile.zip"])) as archive:
        assert "wards.shp" in archive.namelist()
        assert json.loads(archive.read("metadata.json"))["feature_count"] == 35
    assert files["tpr_map.png"][:8] == b"\x89PNG\r\n\x1a\n"
    report = files["report.md"].decode("utf-8")
    assert "# Ward test positivity rate: Kwara" in report and "Magaji Are I" in report
    run = json.loads(files["run.json"])
    assert [i["name"] for i in run["inputs"]] == ["kwara.csv", ILORIN.name]
    matches = pd.read_csv(io.BytesIO(files["ward_matches.csv"]))
    assert len(matches) == 29
    # No server path, store root or session file name is handed to the page.
    html = page.content()
    assert str(voila.store) not in html
    assert "/tmp/" not in html and ".pkl" not in html

    shots = {}
    for name, size in (("laptop", (1366, 768)), ("phone", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= size[0] + 1, f"{name}: the page scrolls sideways ({width}px)"
        shots[name] = save_screenshot(page, tmp_path / f"outputs_{name}.png")
    assert all(p.stat().st_size > 10_000 for p in shots.values())
