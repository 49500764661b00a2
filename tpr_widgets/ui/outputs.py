"""The outputs part of the results panel: boundaries, recode, map, downloads.

`outputs_panel(app)` returns the widgets shown under the ward table: a
boundary file upload, the map (colour scale from the data or fixed 0-100), the
ward-matching review (every match that is not the same spelling, and every
ward left unmatched), an editor for the manual recode table, and one download
link per file. Downloads are `data:` links built from bytes in memory, so no
path of the store or of another session is ever shown to the browser. Every
action goes through the app's `_act`, so errors appear in the app.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from tpr_widgets.errors import InputError, TPRWidgetsError
from tpr_widgets.export import EXTRA_FILES, TABLE_FILES, table_csv
from tpr_widgets.ui import render

log = logging.getLogger(__name__)

_MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".geojson": "application/geo+json",
    ".zip": "application/zip",
    ".png": "image/png",
    ".md": "text/markdown",
    ".json": "application/json",
}
_LABELS = {
    "ward": "Ward table (CSV)",
    "lga": "LGA table (CSV)",
    "state": "State table (CSV)",
    "period": "Ward table per period (CSV)",
    "trend": "Ward trends over the years (CSV)",
    "workbook": "Workbook (Excel)",
    "risk": "Risk-analysis CSV",
    "matches": "Ward matches (CSV)",
    "geojson": "Joined wards (GeoJSON)",
    "shapefile": "Joined wards (zipped shapefile)",
    "map": "Map (PNG)",
    "report": "Report (Markdown)",
    "run": "Provenance (run.json)",
}
RECODE_HEADER = "LGA,WardName,BoundaryWard,WardCode"
# Wide review tables scroll inside their box instead of widening the page.
STYLE = """<style>
.tpr-outputs, .tpr-outputs .widget-html, .tpr-outputs .widget-html-content {
  max-width: 100%; min-width: 0; }
.tpr-outputs .widget-html-content { white-space: normal; }
.tpr-map { max-width: 100%; height: auto; }
.tpr-downloads li { margin: 4px 0; }
</style>"""


def _upload_content(change: dict[str, Any]) -> tuple[bytes, str] | None:
    files = change.get("new") or ()
    if not files:
        return None
    item = files[0]
    content = item.get("content") if isinstance(item, dict) else None
    if not isinstance(content, bytes | bytearray | memoryview):
        return None
    return bytes(content), str(item.get("name") or "boundaries")


def _recode_text(app: Any, joined: Any) -> str:
    current = app.workflow.recode
    if len(current):
        return str(current.to_csv(index=False, lineterminator="\n"))
    lines = [RECODE_HEADER]
    if joined is not None:
        for row in joined.unmatched_data.itertuples(index=False):
            lines.append(f"{row.LGA},{row.WardName},,")
    return "\n".join(lines) + "\n"


def parse_recode_text(text: str) -> pd.DataFrame:
    """The editor's CSV text as a table (an empty text is an empty table)."""
    if not text.strip():
        return pd.DataFrame(columns=RECODE_HEADER.split(","))
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        raise InputError(
            f"The recode table is not CSV with the header {RECODE_HEADER}; "
            "put one ward per line, fields separated by commas."
        ) from None
    for column in RECODE_HEADER.split(","):
        if column not in table:
            table[column] = ""
    # Template lines left blank are no recode at all.
    return table[(table["BoundaryWard"] != "") | (table["WardCode"] != "")]


def _links(files: dict[str, bytes]) -> widgets.HTML:
    items = []
    for role, data in files.items():
        name = TABLE_FILES.get(role) or EXTRA_FILES.get(role) or "run.json"
        mime = _MIME.get("." + name.rsplit(".", 1)[-1], "application/octet-stream")
        link = render.download_link(data, name, _LABELS.get(role, name), mime)
        items.append(f"<li>{link}</li>")
    html = widgets.HTML('<ul class="tpr-downloads">' + "".join(items) + "</ul>")
    html.add_class("tpr-download-list")
    return html


def _build(app: Any, scale: str) -> tuple[dict[str, bytes], Any, str]:
    """File bytes by role, the join result (or None), and an error message."""
    import json

    from tpr_widgets.geo.run import boundary_join
    from tpr_widgets.outputs import build_outputs, file_record, provenance

    wf = app.workflow
    tables = wf.tables
    inputs = [{"role": "export", **(wf.file or {})}]
    joined, problem = None, ""
    boundary = wf.boundary_file
    if boundary is not None:
        data = wf.boundary_bytes()
        inputs.append(file_record(data, boundary["name"], "boundaries"))
        recode = wf.recode
        if len(recode):
            inputs.append(
                file_record(table_csv(recode), "recode.csv", "recode (edited here)")
            )
        try:
            joined = boundary_join(
                tables["ward"],
                data,
                boundary["name"],
                wf.selections.get("state"),
                recode if len(recode) else None,
            )
        except TPRWidgetsError as error:
            problem = str(error)
    record = provenance(inputs, wf.selections, wf.summary)
    built = build_outputs(tables, record, joined, wf.summary, scale)
    files = {name: table_csv(tables[name]) for name in TABLE_FILES if name in tables}
    files.update(built.files)
    run = {**record, "files": {r: TABLE_FILES.get(r) or EXTRA_FILES[r] for r in files}}
    files["run"] = json.dumps(run, indent=2, ensure_ascii=False).encode("utf-8")
    return files, joined, problem


def outputs_panel(app: Any) -> list[widgets.Widget]:
    """The widgets for boundaries, map, matching review, recode and downloads."""
    wf = app.workflow
    act: Callable[[Callable[[], Any], str], None] = app._act
    upload = widgets.FileUpload(
        accept=".geojson,.json,.zip,.gpkg", multiple=False, description="Boundaries"
    )
    upload.add_class("tpr-boundary-upload")

    def on_upload(change: dict[str, Any]) -> None:
        got = _upload_content(change)
        if got is None:
            return
        data, name = got
        act(lambda: wf.load_boundaries(data, name), f"Reading {name}…")

    upload.observe(on_upload, names="value")
    current = wf.boundary_file
    hint = widgets.HTML(
        STYLE + "<h4>Map and files</h4><p>Upload the state's ward boundaries (GeoJSON, "
        "zipped shapefile or GeoPackage) to join them, draw the map and get the "
        "GeoJSON and shapefile."
        + (f" Now: <b>{render.esc(current['name'])}</b>." if current else "")
        + "</p>"
    )
    scale = widgets.ToggleButtons(
        options=[("Colours: data range", "data"), ("Colours: 0-100 %", "fixed")],
        value="data",
    )
    scale.add_class("tpr-map-scale")
    holder = widgets.VBox()
    holder.add_class("tpr-outputs")
    holder.layout.width = "100%"

    def fill(chosen: str) -> None:
        try:
            files, joined, problem = _build(app, chosen)
        except TPRWidgetsError as error:
            holder.children = [
                widgets.HTML(f'<p class="tpr-error">{render.esc(error)}</p>')
            ]
            return
        except Exception:  # the user gets a sentence, the log the traceback
            log.exception("the output files could not be built")
            holder.children = [
                widgets.HTML(
                    '<p class="tpr-error">The map and files could not be made; '
                    "the ward table above is unchanged. Please report the problem."
                    "</p>"
                )
            ]
            return
        parts: list[widgets.Widget] = []
        if problem:
            parts.append(
                widgets.HTML(f'<p class="tpr-error">{render.esc(problem)}</p>')
            )
        if "map" in files:
            image = widgets.Image(value=files["map"], format="png")
            image.layout.max_width = "100%"
            image.layout.height = "auto"
            image.add_class("tpr-map")
            parts += [scale, image]
        if joined is not None:
            parts.append(_review(joined))
            parts += _recode_editor(app, joined)
        parts.append(_links(files))
        holder.children = parts

    scale.observe(lambda change: fill(str(change["new"])), names="value")
    fill("data")
    return [hint, upload, holder]


def _review(joined: Any) -> widgets.HTML:
    counts = joined.counts
    review = joined.matches[joined.matches["Review"]].drop(columns="Review")
    notes = "".join(f"<li>{render.esc(n)}</li>" for n in joined.notes)
    html = (
        f"<p><b>{counts['matched']}</b> of <b>{counts['boundary_wards']}</b> boundary "
        f"wards have data; <b>{counts['review']}</b> matches are not the same "
        f"spelling (check them below); <b>{counts['data_wards_unmatched']}</b> data "
        f"wards and <b>{counts['boundary_wards_without_data']}</b> boundary wards are "
        f"unmatched; <b>{counts['null_geometry']}</b> features have no geometry.</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "<h4>Matches to review</h4>"
        + render.frame_table(review, css="tpr-table tpr-review")
        + "<h4>Data wards without a boundary ward</h4>"
        + render.frame_table(joined.unmatched_data, css="tpr-table tpr-unmatched")
        + "<h4>Boundary wards without data</h4>"
        + render.frame_table(joined.unmatched_boundary, css="tpr-table tpr-nodata")
    )
    review = widgets.HTML(html)
    review.layout.width = "100%"
    return review


def _recode_editor(app: Any, joined: Any) -> list[widgets.Widget]:
    wf = app.workflow
    editor = widgets.Textarea(value=_recode_text(app, joined), rows=6)
    editor.layout.width = "100%"
    editor.add_class("tpr-recode")
    apply = widgets.Button(description="Apply recode table", button_style="primary")
    apply.add_class("tpr-recode-apply")
    apply.layout.width = "auto"

    def on_apply(_: object) -> None:
        text = str(editor.value)
        app._act(lambda: wf.set_recode(parse_recode_text(text)), "Joining again…")

    apply.on_click(on_apply)
    help_text = widgets.HTML(
        "<h4>Manual recode</h4><p>One line per data ward: its LGA and name as in the "
        "ward table, then the boundary ward name (BoundaryWard) or its WardCode.</p>"
    )
    return [help_text, editor, apply]
