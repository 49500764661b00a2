"""From raw sheet cells to the canonical facility-month table.

The canonical table has one row per facility and period, and these columns:

- `state`, `lga`, `ward`, `facility`: clean names (categoricals);
- `facility_level`: `primary` / `secondary` / `tertiary`, or missing;
- `ownership`: as written (categorical), or missing;
- `period`: `YYYY-MM` or `YYYY` (categorical, ordered by time);
- the twelve counts `rdt_tested_u5` ... `microscopy_positive_pw` (float64, NaN
  where the cell was empty) and, when present, `outpatient` and
  `general_attendance`;
- after those: `fever_u5` / `fever_o5` / `fever_pw` (persons with fever) when
  present, then `state_raw`, `lga_raw`, `ward_raw`, `facility_raw`: the names
  as the file wrote them (categoricals), beside the clean ones.

`facility_level` is per row, as written; the level choice counts each facility
once, at its most frequent level.

Rows that are not data (a totals row, fully empty rows) and rows without a ward
(`Unknown` or empty) are left out and counted in the notes. Nothing past this
module sees a source header or a raw name spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest.headers import FEVER_ROLES
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
)

_TOTAL: Final = re.compile(r"^\s*(grand\s+)?totals?\s*$", re.IGNORECASE)
NAME_COLUMNS: Final = ("state", "lga", "ward", "facility")
CATEGORY_COLUMNS: Final = (*NAME_COLUMNS, "facility_level", "ownership")
RAW_COLUMNS: Final = ("state_raw", "lga_raw", "ward_raw", "facility_raw")
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


def _numbers(raw: RawSheet, position: int) -> pd.Series:
    series = raw.body[position]
    column = raw.first_column + position
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_datetime64_any_dtype(
        series
    ):
        raise InputError(
            f"The count column {raw.headers[position]!r} holds "
            f"{'dates' if series.dtype.kind == 'M' else 'true/false values'}, not "
            "counts. Map the right column with --column ROLE=HEADER or in the "
            "column panel, or correct the file."
        )
    if not pd.api.types.is_numeric_dtype(series):
        series = series.astype(object)
        is_text = series.map(lambda v: isinstance(v, str)).astype(bool)
        if is_text.any():
            text = series[is_text].str.strip().str.replace(",", "", regex=False)
            parsed = pd.to_numeric(text.where(text != "", None), errors="coerce")
            bad = parsed.isna() & text.ne("")
            if bad.any():
                cells = [
                    _excel_cell(raw.header_row, int(i), column)
                    for i in bad[bad].index[:5]
                ]
                raise InputError(
                    f"The count column {raw.headers[position]!r} holds text such "
                    f"as {text[bad].iloc[0]!r} (cell{'s' if len(cells) > 1 else ''} "
                    f"{', '.join(cells)}{' and more' if bad.sum() > 5 else ''}). "
                    "Counts must be numbers or empty: correct those cells and "
                    "upload again."
                )
            series = series.where(~is_text, parsed)
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _check_range(raw: RawSheet, position: int, values: pd.Series) -> None:
    """Refuse negative, implausibly large and fractional counts in data rows."""
    column = raw.first_column + position
    numbers = values.to_numpy()
    with np.errstate(invalid="ignore"):  # inf % 1 is NaN, not fractional
        checks = (
            (numbers < 0, "a negative value"),
            (numbers > MAX_COUNT, f"a value above {MAX_COUNT:,}"),  # inf too
            (np.mod(numbers, 1) > 0, "a fractional value"),
        )
    for bad, what in checks:
        if bad.any():
            first = int(values.index[int(np.argmax(bad))])
            raise InputError(
                f"The count column {raw.headers[position]!r} has {what} "
                f"({values[first]:g} in cell "
                f"{_excel_cell(raw.header_row, first, column)}). Counts are whole "
                "numbers of people from 0 up: correct the file and upload again."
            )


def _codes(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 for empty) and the distinct values of a column."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # `tolist()` converts in one pass; iterating text categories does not.
        return series.cat.codes.to_numpy(), series.cat.categories.tolist()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, list(uniques)


def _categorical(inverse: np.ndarray, values: list[Any], index: pd.Index) -> pd.Series:
    """A categorical column from per-distinct `values` and each row's distinct."""
    found, categories = pd.factorize(pd.Series(values, dtype=object))
    found = np.append(found, -1)  # position -1: an empty cell
    return pd.Series(
        pd.Categorical.from_codes(found[inverse], categories=categories),
        index=index,
    )


def _per_value(series: pd.Series, convert: Callable[[Any], Any]) -> pd.Series:
    """`convert` applied once per distinct value; a categorical (empty stays empty)."""
    codes, uniques = _codes(series)
    return _categorical(codes, [convert(v) for v in uniques], series.index)


def _mask(series: pd.Series, predicate: Callable[[Any], bool]) -> np.ndarray:
    codes, uniques = _codes(series)
    flags = np.array([bool(predicate(v)) for v in uniques] + [False], dtype=bool)
    picked: np.ndarray = flags[codes]
    return picked


def _squash(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) or None


def _text(raw: RawSheet, roles: RoleMap, role: str) -> pd.Series | None:
    position = roles.first(role)
    if position is None:
        return None
    return _per_value(raw.body[position], _squash)


def combination_ranks(
    codes: Sequence[np.ndarray], rows: int, *, sort: bool = False
) -> np.ndarray:
    """Each row's rank (0, 1, ...) among the distinct combinations of several
    integer code columns (-1, an empty cell, is a value like any other).

    With `sort`, ranks follow the codes, first column first.
    """
    ranks = np.zeros(rows, dtype=np.int64)
    for column in codes:
        width = int(column.max(initial=-1)) + 2
        # Ranked again after each column, so the key stays below the row count.
        ranks, _ = pd.factorize(
            ranks * width + (column.astype(np.int64) + 1), sort=sort
        )
    return ranks


def _joint(
    columns: list[pd.Series | None], index: pd.Index
) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Each row's distinct combination of several columns, and the combinations.

    The combinations come sorted by the columns' codes, first column first.
    """
    parts = [
        _codes(c) if c is not None else (np.full(len(index), -1), []) for c in columns
    ]
    inverse = combination_ranks([codes for codes, _ in parts], len(index), sort=True)
    first = np.empty(int(inverse.max(initial=-1)) + 1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)
    values = [
        [uniques[at] if at >= 0 else None for at in codes[first].tolist()]
        for codes, uniques in parts
    ]
    return inverse, list(zip(*values, strict=True))


def _clean_names(
    state: pd.Series, lga: pd.Series | None, ward: pd.Series
) -> pd.DataFrame:
    inverse, combos = _joint([state, lga, ward], state.index)
    # Each state, and each LGA of a state, is cleaned once, not once per ward.
    states: dict[Any, tuple[str | None, str | None]] = {}
    lgas: dict[tuple[Any, Any], str | None] = {}
    cleaned = []
    for s, lg, w in combos:
        if s not in states:
            found = canonical_state(s)
            states[s] = (found, STATE_CODES.get(found) if found else None)
        name, code = states[s]
        if (s, lg) not in lgas:
            lgas[s, lg] = clean_lga(lg, code) if isinstance(lg, str) else None
        lga_clean = lgas[s, lg]
        ward_clean = None if is_missing(w) else clean_ward(w, code, lga_clean)
        if is_missing(ward_clean):
            ward_clean = None
        cleaned.append((name, lga_clean, ward_clean))
    return pd.DataFrame(
        {
            column: _categorical(inverse, [c[i] for c in cleaned], state.index)
            for i, column in enumerate(("state", "lga", "ward"))
        }
    )


def _merge_copies(
    raw: RawSheet,
    role: str,
    positions: list[int],
    keep: pd.Series,
    notes: list[str],
) -> pd.Series:
    """One count column from the columns that hold `role` (DHIS2 `X`, `X.1`)."""
    copies: list[pd.Series] = []
    dropped: list[str] = []
    for position in positions:
        values = _numbers(raw, position)
        _check_range(raw, position, values[keep])
        if any(values.equals(kept) for kept in copies):
            dropped.append(raw.headers[position])
            continue
        copies.append(values)
    names = ", ".join(repr(raw.headers[p]) for p in positions)
    if dropped:
        notes.append(
            f"Columns {names} hold {role}; {len(dropped)} identical copy(ies) "
            "were dropped."
        )
    if len(copies) == 1:
        return copies[0]
    notes.append(
        f"Columns {names} all hold {role}; the {len(copies)} different copies "
        "were summed (empty only where every copy is empty)."
    )
    return pd.concat(copies, axis=1).sum(axis=1, min_count=1)


def _totals(geo: list[pd.Series], empty: pd.Series) -> pd.Series:
    labelled = np.zeros(len(empty), dtype=bool)
    for series in geo:
        labelled |= _mask(
            series, lambda v: isinstance(v, str) and bool(_TOTAL.match(v))
        )
    blank = pd.concat(geo, axis=1).isna().all(axis=1)
    return ~empty & (pd.Series(labelled, index=empty.index) | blank)


def _strip_facilities(facility: pd.Series | None, state: pd.Series) -> pd.Series:
    inverse, combos = _joint([facility, state], state.index)
    clean = [
        strip_code(f, STATE_CODES.get(st)) if isinstance(f, str) else f
        for f, st in combos
    ]
    return _categorical(inverse, clean, state.index)


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
            "'orgunitlevel4'). The columns found are: "
            + ", ".join(repr(h) for h in raw.headers if h)
            + ". Map one with --column ward=HEADER or in the column panel."
        )
    state_raw = _text(raw, roles, "state")
    if state_raw is None:
        if state is None:
            raise InputError(
                "The file has no state column. Name the state of the whole file "
                "(--state NAME in the command line, or the state box of the "
                "column panel)."
            )
        name = canonical_state(state)
        if name is None:
            raise InputError(
                f"{state!r} is not a Nigerian state name; give one such as "
                "'Kwara' or 'Federal Capital Territory'."
            )
        state_raw = pd.Series(name, index=body.index, dtype=object)
        built.notes.append(f"The file has no state column; all rows are {name}.")
    lga_raw = _text(raw, roles, "lga")

    empty = body.isna().all(axis=1)
    geo = [s for s in (state_raw, lga_raw, ward_raw, facility_raw) if s is not None]
    totals = _totals(geo, empty)
    names = _clean_names(state_raw, lga_raw, ward_raw)
    unknown_state = names["state"].isna() & ~empty & ~totals
    if unknown_state.any():
        first = int(np.flatnonzero(unknown_state.to_numpy())[0])
        bad = state_raw[unknown_state].iloc[0]
        line = raw.header_row + first + 2  # the row number the spreadsheet shows
        what = (
            "an empty state cell"
            if pd.isna(bad) or not str(bad).strip()
            else f"{bad!r} in the state column, not a Nigerian state name"
        )
        raise InputError(
            f"Row {line} has {what}; {int(unknown_state.sum())} row(s) in all are "
            "like it. Correct them, or map another column as the state."
        )
    no_ward = names["ward"].isna() & ~empty & ~totals
    keep = ~(empty | totals | no_ward)

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
    if lga_raw is None:
        built.notes.append(
            "The file has no LGA column; wards are told apart by name only."
        )

    if not keep.any():
        raise InputError(
            "The file has headers but no data rows with a ward name "
            f"({built.rows_read} rows read, {built.rows_without_ward} without a "
            "ward). Export the data again, with the ward level included."
        )
    counts = {}
    for role in COUNT_ROLES + EXTRA_ROLES + FEVER_ROLES:
        positions = roles.positions.get(role, [])
        if positions:
            counts[role] = _merge_copies(raw, role, positions, keep, built.notes)

    table = names.loc[keep].copy()
    if table["lga"].isna().all():
        table["lga"] = ""
    if facility_raw is not None:
        facility = _strip_facilities(facility_raw[keep], table["state"])
        if facility.isna().any():
            facility = facility.cat.add_categories(["(unnamed facility)"]).fillna(
                "(unnamed facility)"
            )
    else:
        facility = table["ward"]
        built.notes.append("No facility column: each ward is counted as one facility.")
    table["facility"] = facility

    level = _text(raw, roles, "facility_level")
    table["facility_level"] = (
        _per_value(level[keep], level_of) if level is not None else None
    )
    ownership = _text(raw, roles, "ownership")
    table["ownership"] = ownership[keep] if ownership is not None else None
    table["period"] = _periods(raw, roles, keep)

    kept = keep.to_numpy()
    for role in COUNT_ROLES + EXTRA_ROLES + FEVER_ROLES:
        if role in counts:
            table[role] = counts[role].to_numpy()[kept]
        elif role in COUNT_ROLES:
            table[role] = np.nan
    # The raw spellings, beside the clean names (after the documented columns).
    table["state_raw"] = state_raw[keep]
    table["lga_raw"] = lga_raw[keep] if lga_raw is not None else None
    table["ward_raw"] = ward_raw[keep]
    table["facility_raw"] = facility_raw[keep] if facility_raw is not None else None

    table = table.reset_index(drop=True)
    built.table = compact(table)
    return built


def _periods(raw: RawSheet, roles: RoleMap, keep: pd.Series) -> pd.Series:
    code = roles.first("period_code")
    label = roles.first("period")
    if code is None and label is None:
        return pd.Series("all", index=keep[keep].index)
    source = [raw.body[p][keep] for p in (code, label) if p is not None]
    keys: pd.Series = _per_value(source[0], period_key)
    for other in source[1:]:
        missing = keys.isna()
        if missing.any():
            keys = keys.astype(object).where(
                ~missing, _per_value(other, period_key).astype(object)
            )
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


def compact(table: pd.DataFrame) -> pd.DataFrame:
    for column in (*CATEGORY_COLUMNS, *RAW_COLUMNS):
        series = table[column].astype("category")
        codes = series.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(series.cat.categories))
        if not used.all():
            series = series.cat.remove_unused_categories()
        table[column] = series
    periods = sorted(table["period"].dropna().unique())
    table["period"] = pd.Categorical(table["period"], categories=periods, ordered=True)
    return table
