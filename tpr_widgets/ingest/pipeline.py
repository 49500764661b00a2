"""Ingest: an uploaded export in, the canonical facility-month table out.

`ingest(data, filename)` reads the bytes (guarded, see `reader`), assigns column
roles (`roles`), cleans names and periods (`build`) and summarises what it found.
The result is everything the rest of the product needs; the workflow stores the
table and the summary, and never reads the file again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tpr_widgets.ingest.build import build_table
from tpr_widgets.ingest.reader import read_raw
from tpr_widgets.ingest.roles import assign_roles
from tpr_widgets.settings import Settings
from tpr_widgets.vocab import AGE_GROUPS, METHODS, count_role

__all__ = ["Ingested", "completeness", "ingest"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ingested:
    """The canonical table of an upload and the summary of what was found."""

    table: pd.DataFrame
    summary: dict[str, Any]
    columns: dict[str, str]


def _layout(headers: list[str], columns: Mapping[str, str]) -> str:
    folded = {h.strip().lower() for h in headers}
    if any(h.startswith("orgunitlevel") for h in folded):
        return "dhis2_state" if "ward" in folded else "dhis2"
    if "healthfacility" in folded or "wardname" in folded:
        return "cleaned_csv"
    return "nmep"


def completeness(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Share of rows whose tested count is present, per age group and method."""
    rows = max(1, len(table))
    return {
        age: {
            method: round(
                float(table[count_role(method, "tested", age)].notna().sum()) / rows,
                4,
            )
            for method in METHODS
        }
        for age in AGE_GROUPS
    }


def _summary(table: pd.DataFrame) -> dict[str, Any]:
    facility_keys = ["state", "lga", "ward", "facility"]
    states: dict[str, Any] = {}
    for name, rows in table.groupby("state", observed=True, sort=True):
        states[str(name)] = {
            "lgas": int(rows["lga"].nunique()),
            "wards": int(rows[["lga", "ward"]].drop_duplicates().shape[0]),
            "facilities": int(rows[facility_keys].drop_duplicates().shape[0]),
            "records": len(rows),
        }
    periods = [str(p) for p in table["period"].cat.categories if p != "all"]
    return {
        "records": len(table),
        "states": states,
        "lgas": int(table[["state", "lga"]].drop_duplicates().shape[0]),
        "wards": int(table[["state", "lga", "ward"]].drop_duplicates().shape[0]),
        "facilities": int(table[facility_keys].drop_duplicates().shape[0]),
        "periods": {
            "first": periods[0] if periods else None,
            "last": periods[-1] if periods else None,
            "count": len(periods),
            "values": periods,
        },
        "completeness": completeness(table),
        "has_facility_level": bool(table["facility_level"].notna().any()),
        "has_outpatient": "outpatient" in table.columns,
    }


def ingest(
    data: bytes,
    filename: str,
    *,
    columns: Mapping[str, str] | None = None,
    header_row: int | None = None,
    sheet: str | None = None,
    state: str | None = None,
    settings: Settings | None = None,
) -> Ingested:
    """Read an export (xlsx, xls or csv bytes) into the canonical table.

    `columns` maps roles to headers where the user overrides detection;
    `header_row` (1-based, as the spreadsheet shows it) and `sheet` skip their
    detection; `state` names the state of a file that has no state column.
    Raises `InputError` with a message for the user when the file cannot be used.
    """
    started = time.perf_counter()
    settings = settings or Settings.from_env()
    raw = read_raw(
        data,
        filename,
        max_bytes=settings.max_upload_bytes,
        header_row=None if header_row is None else header_row - 1,
        sheet=sheet,
    )
    roles = assign_roles(raw.headers, raw.body, columns)
    built = build_table(raw, roles, state=state)
    detected = roles.headers(raw.headers)

    summary = {
        "file": filename,
        "layout": _layout(raw.headers, detected),
        "format": raw.kind,
        "sheet": raw.sheet,
        "header_row": raw.header_row + 1,
        "columns": detected,
        "rows_read": built.rows_read,
        "rows_without_ward": built.rows_without_ward,
        "totals_rows_dropped": built.totals_rows,
        "empty_rows_dropped": built.empty_rows,
        **_summary(built.table),
        "notes": roles.notes + built.notes,
    }
    log.info(
        "ingested %r: %d records, %d states in %.2f s",
        filename,
        summary["records"],
        len(summary["states"]),
        time.perf_counter() - started,
    )
    return Ingested(table=built.table, summary=summary, columns=detected)
