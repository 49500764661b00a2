"""Per-row counts of a selection: the step before any sum.

For each selected facility-month row this module works out, with whole-column
numpy operations, the RDT and microscopy tested and positive counts that enter
the sums, the chosen method's counts, and the row-level facts the quality rules
need (what was reported, used, left out as impossible, and so on).

The counting rule for one (row, method, age group) pair: the pair is reported
when either count is present; an empty count beside a present one reads as 0
(DHIS2 leaves zeros empty); a pair with more positives than tests is impossible
and enters neither sum unless impossible pairs are included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from tpr_widgets.tpr.selection import Selection
from tpr_widgets.vocab import METHODS, count_role

OUTPATIENT: Final = "outpatient"
ATTENDANCE: Final = "general_attendance"


def labels(series: pd.Series, positions: np.ndarray) -> np.ndarray:
    """The text values of a column at `positions` (without decoding the rest)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        names = np.asarray(series.cat.categories.astype(str), dtype=object)
        codes = series.cat.codes.to_numpy()[positions]
        return np.where(codes >= 0, names[codes], "")
    return np.asarray(series.to_numpy()[positions]).astype(str)


def fever_role(age: str) -> str:
    """The canonical column of persons with fever for an age group."""
    return f"fever_{age}"


@dataclass(frozen=True)
class RowCounts:
    """Counts and row facts, one array element per selected row."""

    tested: dict[str, np.ndarray]  # method -> tested entering the sums
    positive: dict[str, np.ndarray]
    chosen_tested: np.ndarray  # the chosen method's (or rule's) tested
    chosen_positive: np.ndarray
    impossible: np.ndarray  # impossible pairs per row, both methods
    reported: np.ndarray  # bool: a pair of the chosen method(s) is reported
    used: np.ndarray  # bool: a pair of the chosen method(s) entered the sums
    excluded: np.ndarray  # bool: a pair was left out as impossible
    complete: np.ndarray  # bool: a tested count of the chosen method(s) present
    mixed: np.ndarray  # bool: legacy rule took tested and positive from two methods
    over_fever: np.ndarray  # bool: tested above persons with fever
    outpatient: np.ndarray  # outpatient attendance, NaN when absent
    over_attendance: np.ndarray  # bool: outpatient above general attendance


def _column(table: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    if name not in table.columns:
        return np.full(len(rows), np.nan)
    values: np.ndarray = table[name].to_numpy(dtype=float)[rows]
    return values


def row_counts(
    table: pd.DataFrame, rows: np.ndarray, selection: Selection
) -> RowCounts:
    """The counts of the rows at positions `rows` for `selection`."""
    size = len(rows)
    tested = {m: np.zeros(size) for m in METHODS}
    positive = {m: np.zeros(size) for m in METHODS}
    impossible = np.zeros(size, dtype=np.int64)
    reported = np.zeros(size, dtype=bool)
    used = np.zeros(size, dtype=bool)
    excluded = np.zeros(size, dtype=bool)
    complete = np.zeros(size, dtype=bool)
    over_fever = np.zeros(size, dtype=bool)
    include = selection.include_impossible
    chosen = selection.methods

    for age in selection.ages:
        fever = _column(table, fever_role(age), rows)
        for method in METHODS:
            t = _column(table, count_role(method, "tested", age), rows)
            p = _column(table, count_role(method, "positive", age), rows)
            t_present = ~np.isnan(t)
            present = t_present | ~np.isnan(p)
            t0, p0 = np.nan_to_num(t), np.nan_to_num(p)
            bad = p0 > t0
            take = present & (include | ~bad)
            tested[method] += np.where(take, t0, 0.0)
            positive[method] += np.where(take, p0, 0.0)
            impossible += bad
            if not include:
                excluded |= bad
            over_fever |= t_present & (t0 > np.nan_to_num(fever, nan=np.inf))
            if method in chosen:
                reported |= present
                used |= take
                complete |= t_present

    mixed = np.zeros(size, dtype=bool)
    if selection.test_method == "both" and selection.combine == "max":
        rdt_t, mic_t = tested["rdt"], tested["microscopy"]
        rdt_p, mic_p = positive["rdt"], positive["microscopy"]
        chosen_tested = np.maximum(rdt_t, mic_t)
        chosen_positive = np.maximum(rdt_p, mic_p)
        mixed = ((rdt_t > mic_t) & (mic_p > rdt_p)) | (
            (mic_t > rdt_t) & (rdt_p > mic_p)
        )
    elif selection.test_method == "both":
        chosen_tested = tested["rdt"] + tested["microscopy"]
        chosen_positive = positive["rdt"] + positive["microscopy"]
    else:
        chosen_tested = tested[selection.test_method]
        chosen_positive = positive[selection.test_method]

    outpatient = _column(table, OUTPATIENT, rows)
    attendance = _column(table, ATTENDANCE, rows)
    over_attendance = ~np.isnan(outpatient) & (
        outpatient > np.nan_to_num(attendance, nan=np.inf)
    )
    return RowCounts(
        tested=tested,
        positive=positive,
        chosen_tested=chosen_tested,
        chosen_positive=chosen_positive,
        impossible=impossible,
        reported=reported,
        used=used,
        excluded=excluded,
        complete=complete,
        mixed=mixed,
        over_fever=over_fever,
        outpatient=outpatient,
        over_attendance=over_attendance,
    )


def impossible_pairs(
    table: pd.DataFrame, rows: np.ndarray, selection: Selection
) -> pd.DataFrame:
    """Every (row, method, age group) pair with more positives than tests."""
    parts = []
    for age in selection.ages:
        for method in METHODS:
            t = _column(table, count_role(method, "tested", age), rows)
            p = _column(table, count_role(method, "positive", age), rows)
            bad = np.flatnonzero(np.nan_to_num(p) > np.nan_to_num(t))
            if len(bad) == 0:
                continue
            at = rows[bad]
            parts.append(
                pd.DataFrame(
                    {
                        "State": labels(table["state"], at),
                        "LGA": labels(table["lga"], at),
                        "WardName": labels(table["ward"], at),
                        "Facility": labels(table["facility"], at),
                        "Period": labels(table["period"], at),
                        "Method": method,
                        "Age_Group": age,
                        "Tested": np.nan_to_num(t[bad]).astype("int64"),
                        "Positive": np.nan_to_num(p[bad]).astype("int64"),
                        "Included": selection.include_impossible,
                    }
                )
            )
    columns = [
        "State",
        "LGA",
        "WardName",
        "Facility",
        "Period",
        "Method",
        "Age_Group",
        "Tested",
        "Positive",
        "Included",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    found = pd.concat(parts, ignore_index=True)
    order = ["State", "LGA", "WardName", "Facility", "Period", "Method", "Age_Group"]
    return found.sort_values(order, kind="stable").reset_index(drop=True)[columns]
