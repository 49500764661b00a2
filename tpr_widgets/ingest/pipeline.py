"""The ingest pipeline: uploaded bytes in, canonical table and summary out.

`ingest(data, filename)` reads the bytes (guarded, see `reader`), assigns column
roles (`roles`), cleans names and periods (`build`) and summarises what it found.
`ingest_many` does that for several files of one layout (per-state or per-year
exports) and merges them, counting rows repeated across files once. The result
is everything the rest of the product needs; the workflow stores the table and
the summary, and never reads the file again except to apply a new mapping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest.build import (
    CATEGORY_COLUMNS,
    RAW_COLUMNS,
    build_table,
    combination_ranks,
    compact,
)
from tpr_widgets.ingest.reader import read_raw
from tpr_widgets.ingest.roles import assign_roles
from tpr_widgets.settings import Settings
from tpr_widgets.vocab import AGE_GROUPS, COUNT_ROLES, METHODS, count_role

_CATEGORIES = frozenset((*CATEGORY_COLUMNS, *RAW_COLUMNS, "period"))

__all__ = ["Ingested", "completeness", "ingest", "ingest_many"]

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


def _places(table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's distinct combination of `columns` (empty cells alike), as a rank."""
    codes = [
        pd.Series(table[column], dtype="category").cat.codes.to_numpy()
        for column in columns
    ]
    return combination_ranks(codes, len(table))


def _per_state(state: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """How many distinct `key` values (-1: none) each state code has."""
    counted = key >= 0
    owner = np.full(int(key.max(initial=-1)) + 1, -1, dtype=np.int64)
    owner[key[counted]] = state[counted]  # a key's rows all share one state
    return np.bincount(owner[owner >= 0], minlength=size)


def _summary(table: pd.DataFrame) -> dict[str, Any]:
    states_column = pd.Series(table["state"], dtype="category")
    state = states_column.cat.codes.to_numpy().astype(np.int64)
    size = len(states_column.cat.categories)
    lga = _places(table, ["state", "lga"])
    ward = _places(table, ["state", "lga", "ward"])
    facility = _places(table, ["state", "lga", "ward", "facility"])
    named_lga = lga.copy()
    named_lga[table["lga"].isna().to_numpy()] = -1  # an empty LGA is not one
    per_state = {
        "lgas": _per_state(state, named_lga, size),
        "wards": _per_state(state, ward, size),
        "facilities": _per_state(state, facility, size),
        "records": np.bincount(state[state >= 0], minlength=size),
    }
    states = {
        str(name): {key: int(counts[at]) for key, counts in per_state.items()}
        for at, name in enumerate(states_column.cat.categories)
        if per_state["records"][at]
    }
    periods = [str(p) for p in table["period"].cat.categories if p != "all"]
    return {
        "records": len(table),
        "states": states,
        "lgas": int(lga.max(initial=-1)) + 1,
        "wards": int(ward.max(initial=-1)) + 1,
        "facilities": int(facility.max(initial=-1)) + 1,
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


_KEYS = ["state", "lga", "ward", "facility", "period"]
_UNNAMED = "(unnamed facility)"


def _labels(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The per-row labels that must also agree for a row to be a copy."""
    return {
        column: table[column].cat.codes.to_numpy()
        for column in ("facility_level", "ownership")
        if column in table.columns
    }


def _named(table: pd.DataFrame) -> np.ndarray:
    """Rows whose facility has a name and whose period is known."""
    facility = (table["facility"] != _UNNAMED).to_numpy()
    return np.asarray(facility & table["period"].notna().to_numpy())


def _repeats(table: pd.DataFrame) -> tuple[pd.DataFrame, int, list[str]]:
    """Drop rows that repeat another row of the file exactly; note the rest.

    A named facility has one row per period in an export, so a row equal to an
    earlier one in place, facility, period and every count is a copy and is
    counted once. Rows of one facility and period with different counts are
    kept (two facilities may share a name) and added together, with a note.
    Returns the table, the number of rows dropped and the notes.
    """
    named = _named(table)
    key = _places(table, _KEYS)
    key[~named] = -1 - np.arange(int((~named).sum()))  # never equal to another
    if not pd.Series(key).duplicated().any():
        return table, 0, []
    counts = [c for c in table.columns if c not in _CATEGORIES]
    values = table[counts].to_numpy(dtype=np.float64, na_value=np.nan)
    same = pd.DataFrame(values).assign(_key=key, **_labels(table))
    exact = same.duplicated().to_numpy()
    notes = []
    dropped = int(exact.sum())
    if dropped:
        table = compact(table[~exact].reset_index(drop=True))
        key = key[~exact]
        notes.append(
            f"{dropped} rows repeat an earlier row of the file exactly (same "
            "facility, period and counts); each was counted once."
        )
    twice = pd.Series(key).duplicated(keep=False).to_numpy()
    if twice.any():
        row = table[twice].iloc[0]
        notes.append(
            f"{int(pd.Series(key[twice]).nunique())} facility-periods have more "
            "than one row with different counts or levels (for example facility "
            f"{row['facility']!r} in ward {row['ward']!r}, {row['period']}); their "
            "counts were added together, as for two facilities of one name. If "
            "they are one facility, correct the export."
        )
    return table, dropped, notes


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
        memory_mb=settings.read_memory_mb,
        seconds=settings.read_seconds,
    )
    roles = assign_roles(raw.headers, raw.body, columns)
    built = build_table(raw, roles, state=state)
    detected = roles.headers(raw.headers)
    table, repeated, repeat_notes = built.table, 0, list[str]()
    if "facility" in detected:  # without facility names, rows cannot be told apart
        table, repeated, repeat_notes = _repeats(table)

    summary = {
        "file": filename,
        "layout": _layout(raw.headers, detected),
        "format": raw.kind,
        "sheet": raw.sheet,
        "header_row": raw.header_row + 1,
        "columns": detected,
        "headers": [h for h in raw.headers if h],
        "rows_read": built.rows_read,
        "rows_without_ward": built.rows_without_ward,
        "totals_rows_dropped": built.totals_rows,
        "empty_rows_dropped": built.empty_rows,
        "repeated_rows_dropped": repeated,
        **_summary(table),
        "notes": roles.notes + built.notes + repeat_notes,
    }
    log.info(
        "ingested %r: %d records, %d states in %.2f s",
        filename,
        summary["records"],
        len(summary["states"]),
        time.perf_counter() - started,
    )
    return Ingested(table=table, summary=summary, columns=detected)


def _layout_key(result: Ingested) -> tuple[str, ...]:
    return (
        result.summary["layout"],
        *sorted(role for role in result.columns if role in COUNT_ROLES),
    )


def ingest_many(
    files: Sequence[tuple[bytes, str]],
    *,
    columns: Mapping[str, str] | None = None,
    reads: Sequence[Mapping[str, Any]] | None = None,
    state: str | None = None,
    settings: Settings | None = None,
) -> Ingested:
    """Several exports of one layout merged into one table.

    `reads` gives, per file, the `header_row` and `sheet` recorded earlier.
    Rows repeated across files (same place, facility and period, same counts)
    are counted once; the same facility-period with different counts in two
    files is refused, since one of them must be wrong.
    """
    if len(files) == 1:
        read = dict((reads or [{}])[0])
        return ingest(
            files[0][0],
            files[0][1],
            columns=columns,
            header_row=read.get("header_row"),
            sheet=read.get("sheet"),
            state=state,
            settings=settings,
        )
    if not files:
        raise InputError("No files were given; choose one or more exports.")
    parts: list[Ingested] = []
    for index, (data, filename) in enumerate(files):
        read = dict(reads[index]) if reads else {}
        parts.append(
            ingest(
                data,
                filename,
                columns=columns,
                header_row=read.get("header_row"),
                sheet=read.get("sheet"),
                state=state,
                settings=settings,
            )
        )
    first = _layout_key(parts[0])
    for part in parts[1:]:
        if _layout_key(part) != first:
            raise InputError(
                f"{part.summary['file']!r} has another layout or other indicator "
                f"columns than {parts[0].summary['file']!r} "
                f"({part.summary['layout']} vs {parts[0].summary['layout']}); load "
                "files of one layout together."
            )
    named = all("facility" in part.columns for part in parts)
    table = _merge_tables([part.table for part in parts], named)
    across = sum(len(part.table) for part in parts) - len(table)
    within = sum(part.summary["repeated_rows_dropped"] for part in parts)
    summary = dict(parts[0].summary)
    summary.update(
        {
            "file": ", ".join(part.summary["file"] for part in parts),
            "files": [
                {
                    key: part.summary[key]
                    for key in ("file", "format", "sheet", "header_row", "records")
                }
                for part in parts
            ],
            "rows_read": sum(part.summary["rows_read"] for part in parts),
            "rows_without_ward": sum(
                part.summary["rows_without_ward"] for part in parts
            ),
            "totals_rows_dropped": sum(
                part.summary["totals_rows_dropped"] for part in parts
            ),
            "empty_rows_dropped": sum(
                part.summary["empty_rows_dropped"] for part in parts
            ),
            "repeated_rows_dropped": within + across,
            **_summary(table),
        }
    )
    notes = [
        f"{part.summary['file']}: {note}"
        for part in parts
        for note in part.summary["notes"]
    ]
    if across:
        notes.append(
            f"{across} rows appear in more than one file; each was counted once."
        )
    summary["notes"] = notes
    return Ingested(table=table, summary=summary, columns=parts[0].columns)


def _merge_tables(tables: list[pd.DataFrame], named: bool) -> pd.DataFrame:
    """The rows of several files; a row repeated in another file counts once.

    Only rows of named facilities can be matched across files (`named` False:
    the files have no facility names, so no row is matched). Within one file,
    `_repeats` has already decided what its rows mean.
    """
    frames = [
        table.astype({c: object for c in table.columns if c in _CATEGORIES})
        for table in tables
    ]
    merged = pd.concat(frames, keys=range(len(frames)), names=["_file", None])
    merged = merged.reset_index(level="_file").reset_index(drop=True)
    matchable = _named(merged) if named else np.zeros(len(merged), dtype=bool)
    rows = merged[matchable]
    counts = [c for c in merged.columns if c not in _CATEGORIES and c != "_file"]
    labels = [c for c in ("facility_level", "ownership") if c in merged.columns]
    copies = rows.duplicated(subset=_KEYS + counts + labels).to_numpy()
    rows = rows[~copies]
    files = rows.groupby(_KEYS, dropna=False, observed=True)["_file"]
    clash = (files.transform("nunique") > 1).to_numpy()
    if clash.any():
        row = rows[clash].iloc[0]
        raise InputError(
            f"The files disagree: facility {row['facility']!r} in ward "
            f"{row['ward']!r} ({row['state']}) has different counts for period "
            f"{row['period']} in two files. Load each file on its own, or remove "
            "the overlap."
        )
    kept = pd.concat([rows, merged[~matchable]]).sort_index().drop(columns="_file")
    return compact(kept.reset_index(drop=True))
