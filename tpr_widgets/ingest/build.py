"""From raw sheet cells to the canonical facility-month table.

The canonical table has one row per facility and period, and these columns:

- `state`, `lga`, `ward`, `facility`: clean names (categoricals);
- `facility_level`: `primary` / `secondary` / `tertiary`, or missing;
- `ownership`: as written (categorical), or missing;
- `period`: `YYYY-MM` or `YYYY` (categorical, ordered by time);
- the twelve counts `rdt_tested_u5` ... `microscopy_positive_pw` (float64, NaN
  where the cell was empty) and, when present, `outpatient` and
  `general_attendance`.

Rows that are not data (a totals row, fully empty rows) and rows without a ward
(`Unknown` or empty) are left out and counted in the notes. Nothing past this
module sees a source header or a raw name spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest.levels import level_of
from tpr_widgets.ingest.names import clean_lga, clean_ward, is_missing, strip_code
from tpr_widgets.ingest.periods import period_key
from tpr_widgets.ingest.reader import RawSheet
from tpr_widgets.ingest.roles import RoleMap
from tpr_widgets.vocab import (
    COUNT_ROLES,
    EXTRA_ROLES,
    STATE_CODES,
    canonical_state,
    count_role,
)

_TOTAL: Final = re.compile(r"^\s*(grand\s+)?totals?\s*$", re.IGNORECASE)
NAME_COLUMNS: Final = ("state", "lga", "ward", "facility")
# No facility sees ten million febrile patients in a month; larger values are
# typing or export errors (and would overflow sums).
MAX_COUNT: Final = 10_000_000


@dataclass
class Built:
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_without_ward: int = 0
    totals_rows: int = 0
    empty_rows: int = 0


def _excel_cell(header_row: int, row: int, column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{header_row + row + 2}"


def _numbers(raw: RawSheet, position: int, rows: pd.Series) -> pd.Series:
    """The numbers of one count column on the data `rows`, checked cell by cell."""
    series = raw.body[position][rows]
    is_text = series.map(lambda v: isinstance(v, str)).astype(bool)
    if is_text.any():
        text = series[is_text].str.strip().str.replace(",", "", regex=False)
        parsed = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = parsed.isna() & text.ne("")
        if bad.any():
            cells = [
                _excel_cell(raw.header_row, int(i), position)
                for i in bad[bad].index[:5]
            ]
            raise InputError(
                f"The count column {raw.headers[position]!r} holds text such as "
                f"{text[bad].iloc[0]!r} (cell{'s' if len(cells) > 1 else ''} "
                f"{', '.join(cells)}{' and more' if bad.sum() > 5 else ''}). "
                "Counts must be numbers or empty: correct those cells and upload "
                "again."
            )
        series = series.where(~is_text, parsed)
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    for bad, what in (
        (values < 0, "a negative value"),
        (values > MAX_COUNT, f"a value above {MAX_COUNT:,}"),  # inf too
        ((values % 1).gt(0), "a fractional value"),
    ):
        if bad.any():
            first = int(bad[bad].index[0])
            raise InputError(
                f"The count column {raw.headers[position]!r} has {what} "
                f"({values[first]:g} in cell "
                f"{_excel_cell(raw.header_row, first, position)}). Counts are whole "
                "numbers of people from 0 up: correct the file and upload again."
            )
    return values


def _text(raw: RawSheet, roles: RoleMap, role: str) -> pd.Series | None:
    position = roles.first(role)
    if position is None:
        return None
    cleaned = [
        None if v is None or v != v else " ".join(str(v).split()) or None
        for v in raw.body[position]
    ]
    return pd.Series(cleaned, index=raw.body.index, dtype=object)


def _clean_names(
    state: pd.Series, lga: pd.Series | None, ward: pd.Series
) -> pd.DataFrame:
    keys = pd.DataFrame(
        {
            "state": state,
            "lga": lga if lga is not None else pd.Series(None, index=state.index),
            "ward": ward,
        },
        dtype=object,
    )
    distinct = keys.drop_duplicates()
    cleaned: dict[tuple[Any, Any, Any], tuple[Any, Any, Any]] = {}
    for s, lg, w in distinct.itertuples(index=False):
        name = canonical_state(s)
        code = STATE_CODES.get(name) if name else None
        lga_clean = clean_lga(lg, code) if isinstance(lg, str) else None
        ward_clean = None if is_missing(w) else clean_ward(w, code, lga_clean)
        if is_missing(ward_clean):
            ward_clean = None
        cleaned[(s, lg, w)] = (name, lga_clean, ward_clean)
    mapped = [cleaned[key] for key in keys.itertuples(index=False, name=None)]
    return pd.DataFrame(mapped, columns=["state", "lga", "ward"], index=keys.index)


def build_table(raw: RawSheet, roles: RoleMap, *, state: str | None) -> Built:
    """The canonical table for one sheet, with what was cleaned on the way."""
    built = Built(table=pd.DataFrame(), rows_read=len(raw.body))
    body = raw.body

    if not any(role in roles.positions for role in COUNT_ROLES):
        raise InputError(
            "No malaria test columns were found (such as 'Persons presenting with "
            "fever & tested by RDT <5yrs'). The columns found are: "
            + ", ".join(repr(h) for h in raw.headers if h)
            + ". Map them with --column ROLE=HEADER or in the column panel."
        )

    ward_raw = _text(raw, roles, "ward")
    facility_raw = _text(raw, roles, "facility")
    if ward_raw is None:
        raise InputError(
            "No ward column was found (a column named 'Ward', 'WardName' or "
            "'orgunitlevel4'). Map it with --column ward=HEADER or in the column "
            "panel."
        )
    state_raw = _text(raw, roles, "state")
    if state_raw is None:
        if state is None:
            raise InputError(
                "The file has no state column. Name the state of the whole file "
                "(--state NAME in the command line)."
            )
        name = canonical_state(state)
        if name is None:
            raise InputError(f"{state!r} is not a Nigerian state name.")
        state_raw = pd.Series(name, index=body.index, dtype=object)
    lga_raw = _text(raw, roles, "lga")

    empty = body.isna().all(axis=1)
    geo = pd.concat(
        [s for s in (state_raw, lga_raw, ward_raw, facility_raw) if s is not None],
        axis=1,
    )
    labelled_total = geo.apply(
        lambda col: col.map(lambda v: isinstance(v, str) and bool(_TOTAL.match(v)))
    ).any(axis=1)
    totals = ~empty & (labelled_total | geo.isna().all(axis=1))
    names = _clean_names(state_raw, lga_raw, ward_raw)
    unknown_state = names["state"].isna() & ~empty & ~totals
    if unknown_state.any():
        bad = state_raw[unknown_state].iloc[0]
        raise InputError(
            f"{bad!r} in the state column is not a Nigerian state name "
            f"({int(unknown_state.sum())} rows). Correct it, or map another "
            "column as the state."
        )
    no_ward = names["ward"].isna() & ~empty & ~totals
    keep = ~(empty | totals | no_ward)

    # Counts are checked on data rows only: a totals row may exceed any bound.
    counts = {}
    for role in COUNT_ROLES + EXTRA_ROLES:
        positions = roles.positions.get(role, [])
        if positions:
            copies = [_numbers(raw, p, keep) for p in positions]
            counts[role] = pd.concat(copies, axis=1).sum(axis=1, min_count=1)

    built.empty_rows = int(empty.sum())
    built.totals_rows = int(totals.sum())
    built.rows_without_ward = int(no_ward.sum())
    if built.totals_rows:
        built.notes.append(
            f"{built.totals_rows} totals row(s) without a place name were dropped."
        )
    if built.rows_without_ward:
        built.notes.append(
            f"{built.rows_without_ward} rows without a ward (empty or 'Unknown') "
            "are kept out of ward results."
        )

    if not keep.any():
        raise InputError(
            "The file has headers but no data rows with a ward name "
            f"({built.rows_read} rows read, {built.rows_without_ward} without a "
            "ward). Export the data again, with the ward level included."
        )
    table = names.loc[keep].copy()
    if table["lga"].isna().all():
        table["lga"] = ""
    if facility_raw is not None:
        table["facility"] = facility_raw[keep].map(
            lambda v: v if v is not None else "(unnamed facility)"
        )
    else:
        table["facility"] = table["ward"]
        built.notes.append("No facility column: each ward is counted as one facility.")
    table["facility"] = [
        strip_code(f, STATE_CODES.get(s))
        for f, s in zip(table["facility"], table["state"], strict=True)
    ]

    level = _text(raw, roles, "facility_level")
    table["facility_level"] = level[keep].map(level_of) if level is not None else None
    ownership = _text(raw, roles, "ownership")
    table["ownership"] = ownership[keep] if ownership is not None else None
    table["period"] = _periods(raw, roles, keep)

    for role in COUNT_ROLES + EXTRA_ROLES:
        if role in counts:
            table[role] = counts[role].to_numpy()
        elif role in COUNT_ROLES:
            table[role] = np.nan

    built.table = _compact(table.reset_index(drop=True))
    return built


def _periods(raw: RawSheet, roles: RoleMap, keep: pd.Series) -> pd.Series:
    code = roles.first("period_code")
    label = roles.first("period")
    if code is None and label is None:
        return pd.Series("all", index=keep[keep].index)
    source = [raw.body[p][keep] for p in (code, label) if p is not None]
    keys = source[0].map(period_key)
    for other in source[1:]:
        keys = keys.fillna(other.map(period_key))
    missing = keys.isna()
    if missing.any():
        header = raw.headers[label if label is not None else code]  # type: ignore[index]
        value = (source[-1] if label is not None else source[0])[missing].iloc[0]
        raise InputError(
            f"The period {value!r} in column {header!r} could not be read "
            f"({int(missing.sum())} rows). Periods must look like 'January 2024', "
            "'2024-01', '202401' or '2024'."
        )
    return keys


def _compact(table: pd.DataFrame) -> pd.DataFrame:
    for column in ("state", "lga", "ward", "facility", "facility_level", "ownership"):
        table[column] = table[column].astype("category")
    periods = sorted(table["period"].dropna().unique())
    table["period"] = pd.Categorical(table["period"], categories=periods, ordered=True)
    return table


def count_columns(table: pd.DataFrame, method: str, age: str) -> tuple[str, str]:
    return count_role(method, "tested", age), count_role(method, "positive", age)
