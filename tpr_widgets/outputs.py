"""Every file one run hands on, built in memory, written to a fresh folder.

`build_outputs` turns the ward, LGA and state tables (and, with a boundary
file, the joined wards) into file bytes by role: the Excel workbook (Ward, LGA,
State, Period and Trend when there are several periods or years, Run and, with
boundaries, Matches and Unmatched sheets), the CSV for
the risk analysis, the ward-matching review list, GeoJSON, zipped shapefile,
map PNG and a Markdown report. The CLI writes them with
`tpr_widgets.export.write_run` (which also writes the CSV tables and
`run.json`); the app offers the same bytes as downloads. Both carry the same
provenance: package version, inputs with SHA-256, time and selections.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from tpr_widgets._version import __version__
from tpr_widgets.geo.join import IDENTIFIERS, JoinResult
from tpr_widgets.vocab import STATE_CODES, STATE_ZONES

log = logging.getLogger(__name__)


def file_record(data: bytes, name: str, role: str) -> dict[str, Any]:
    """An input's provenance: role, name, size and SHA-256."""
    return {
        "role": role,
        "name": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def provenance(
    inputs: Sequence[Mapping[str, Any]],
    selections: Mapping[str, Any],
    summary: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What produced a run: the record in `run.json` and the Run sheet."""
    record: dict[str, Any] = {
        "package": "tpr_widgets",
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": [dict(i) for i in inputs],
        "selections": dict(selections),
    }
    if summary:
        record["layout"] = summary.get("layout")
        record["records"] = summary.get("records")
    return record


def tpr_column(ward: pd.DataFrame) -> str:
    """`{age_group}_tpr_{test_method}`, e.g. `u5_tpr_rdt`, from the ward table."""
    age = str(ward["Age_Group"].iloc[0]) if len(ward) else "u5"
    method = str(ward["Test_Method"].iloc[0]) if len(ward) else "both"
    return f"{age}_tpr_{method}"


def risk_table(ward: pd.DataFrame, joined: JoinResult | None) -> pd.DataFrame:
    """The risk-analysis CSV: identifiers where known, the TPR twice."""
    name = tpr_column(ward)
    if joined is not None:
        frame = pd.DataFrame(joined.frame.drop(columns="geometry"))
        out = frame[list(IDENTIFIERS)].copy()
        out[name] = frame["TPR"].astype("float64").values
    else:
        out = pd.DataFrame(
            {
                "WardCode": None,
                "WardName": ward["WardName"],
                "LGA": ward["LGA"],
                "State": ward["State"],
                "StateCode": [
                    STATE_CODES.get(s, "").upper() or None for s in ward["State"]
                ],
                "LGACode": None,
                "GeopoliticalZone": [STATE_ZONES.get(s) for s in ward["State"]],
            }
        )
        out[name] = ward["TPR"].astype("float64").values
    out["tpr"] = out[name]
    return out.reset_index(drop=True)


def _run_sheet(record: Mapping[str, Any]) -> pd.DataFrame:
    rows: list[tuple[str, str]] = []
    for key, value in record.items():
        if key == "inputs":
            for item in value:
                rows.append(
                    (
                        f"input: {item['role']}",
                        f"{item['name']} ({item['size']:,} "
                        f"bytes, SHA-256 {item['sha256']})",
                    )
                )
        elif key == "selections":
            rows += [(f"selection: {k}", str(v)) for k, v in value.items()]
        elif key != "files":
            rows.append((key, str(value)))
    return pd.DataFrame(rows, columns=["Item", "Value"])


def workbook(
    tables: Mapping[str, pd.DataFrame],
    record: Mapping[str, Any],
    joined: JoinResult | None,
) -> bytes:
    """The Excel workbook: Ward, LGA, State (+ Period, Trend), Run (+ Matches,
    Unmatched)."""
    buffer = io.BytesIO()
    sheets = (
        ("Ward", "ward"),
        ("LGA", "lga"),
        ("State", "state"),
        ("Period", "period"),
        ("Trend", "trend"),
    )
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, key in sheets:
            if key in tables:
                tables[key].to_excel(writer, sheet_name=sheet, index=False)
        _run_sheet(record).to_excel(writer, sheet_name="Run", index=False)
        if joined is not None:
            joined.matches.to_excel(writer, sheet_name="Matches", index=False)
            unmatched = pd.concat(
                [
                    joined.unmatched_data.assign(Side="data ward without boundary"),
                    joined.unmatched_boundary.assign(Side="boundary ward without data"),
                ],
                ignore_index=True,
            )
            unmatched.to_excel(writer, sheet_name="Unmatched", index=False)
    return buffer.getvalue()


@dataclass
class Outputs:
    """File bytes by role (see `tpr_widgets.export.EXTRA_FILES`) and the record."""

    files: dict[str, bytes]
    record: dict[str, Any]


def build_outputs(
    tables: Mapping[str, pd.DataFrame],
    record: Mapping[str, Any],
    joined: JoinResult | None = None,
    summary: Mapping[str, Any] | None = None,
    scale: str = "data",
) -> Outputs:
    """All files of a run in memory; maps and geodata only with boundaries."""
    from tpr_widgets.report import report_markdown

    ward = tables["ward"]
    selections = dict(record.get("selections", {}))
    files: dict[str, bytes] = {
        "workbook": workbook(tables, record, joined),
        "risk": _csv(risk_table(ward, joined)),
    }
    if joined is not None:
        from tpr_widgets.geo.write import geojson_bytes, shapefile_zip
        from tpr_widgets.maps import choropleth_png

        files["matches"] = _csv(joined.matches)
        files["geojson"] = geojson_bytes(joined.frame, dict(record))
        files["shapefile"] = shapefile_zip(
            joined.frame, {"state": selections.get("state"), "provenance": dict(record)}
        )
        if joined.frame.geometry.notna().any():
            files["map"] = choropleth_png(
                joined.frame, selections, scale, provenance=record
            )
    files["report"] = report_markdown(tables, record, joined, summary).encode("utf-8")
    return Outputs(files=files, record=dict(record))


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.2f", lineterminator="\n").encode(
        "utf-8"
    )
