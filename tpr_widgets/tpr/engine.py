"""Pooling: from per-row counts to the ward, LGA and state tables.

Rows are grouped by integer codes (the canonical table's categoricals) and
summed with `numpy.bincount`, so a national file takes a fraction of a second.
Every rate is 100 x pooled positives / pooled tests of the same rows, rounded to
2 decimals once, and empty when there were no tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from tpr_widgets.tpr.counts import RowCounts, labels, row_counts
from tpr_widgets.tpr.quality import HIGH_TPR, ward_flags
from tpr_widgets.tpr.selection import Selection, selected

#: The rate and count columns of every table, in contract order.
RATE_COLUMNS: Final = (
    "TPR",
    "Tested",
    "Positive",
    "RDT_Tested",
    "RDT_Positive",
    "RDT_TPR",
    "Microscopy_Tested",
    "Microscopy_Positive",
    "Microscopy_TPR",
)
WARD_COLUMNS: Final = [
    "State",
    "LGA",
    "WardName",
    *RATE_COLUMNS,
    "Facilities",
    "Flags",
    "Facility_Level",
    "Age_Group",
    "Test_Method",
    "Period",
]
QUALITY_COLUMNS: Final = [
    "Facilities_Reporting",
    "Rows_Used",
    "Rows_Excluded",
    "Completeness",
]
OUTPATIENT_COLUMNS: Final = [
    "Outpatient_Positive",
    "Outpatient_Attendance",
    "Outpatient_Positivity",
]
_SUMMED: Final = (
    "t",
    "p",
    "rdt_t",
    "rdt_p",
    "mic_t",
    "mic_p",
    "impossible",
    "rows",
    "rows_reported",
    "rows_used",
    "rows_excluded",
    "rows_complete",
    "mixed",
    "over_fever",
    "over_attendance",
    "opd_p",
    "opd",
)


def codes_of(series: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of a column and their count (categoricals keep theirs)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64), len(series.cat.categories)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), len(uniques)


def rate(
    positive: np.ndarray | pd.Series, tested: np.ndarray | pd.Series
) -> np.ndarray:
    """100 x positive / tested, 2 decimals, NaN where there were no tests."""
    p = np.asarray(positive, dtype=float)
    t = np.asarray(tested, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.round(np.where(t > 0, 100.0 * p / t, np.nan), 2)


def group_ids(
    table: pd.DataFrame, rows: np.ndarray, columns: list[str]
) -> tuple[np.ndarray, int, np.ndarray]:
    """(group id per row, number of groups, one row position per group)."""
    key = np.zeros(len(rows), dtype=np.int64)
    for column in columns:
        codes, count = codes_of(table[column])
        key = key * (count + 1) + (codes[rows] + 1)
    ids, uniques = pd.factorize(key)
    first = np.empty(len(uniques), dtype=np.int64)
    first[ids] = rows
    return ids.astype(np.int64), len(uniques), first


def _distinct(
    ids: np.ndarray, n: int, other: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """Per group, the number of distinct `other` codes among rows where `keep`."""
    if not keep.any():
        return np.zeros(n, dtype=np.int64)
    width = int(other.max()) + 2
    pairs = pd.unique(ids[keep] * width + other[keep] + 1)
    return np.bincount(pairs // width, minlength=n).astype(np.int64)


Sums = dict[str, np.ndarray]


def pool(
    table: pd.DataFrame,
    rows: np.ndarray,
    counts: RowCounts,
    ids: np.ndarray,
    n: int,
) -> Sums:
    """Sums of one grouping (`ids` per row, `n` groups), one array per figure."""
    opd_ok = ~np.isnan(counts.outpatient) & (counts.outpatient > 0)
    columns = {
        "t": counts.chosen_tested,
        "p": counts.chosen_positive,
        "rdt_t": counts.tested["rdt"],
        "rdt_p": counts.positive["rdt"],
        "mic_t": counts.tested["microscopy"],
        "mic_p": counts.positive["microscopy"],
        "impossible": counts.impossible,
        "rows": np.ones(len(rows)),
        "rows_reported": counts.reported,
        "rows_used": counts.used,
        "rows_excluded": counts.excluded,
        "rows_complete": counts.complete,
        "mixed": counts.mixed,
        "over_fever": counts.over_fever,
        "over_attendance": counts.over_attendance,
        "opd_p": np.where(opd_ok, counts.chosen_positive, 0.0),
        "opd": np.where(opd_ok, counts.outpatient, 0.0),
    }
    sums = {
        name: np.bincount(ids, weights=np.asarray(values, dtype=float), minlength=n)
        for name, values in columns.items()
    }
    facility, _ = codes_of(table["facility"])
    facility = facility[rows]
    everywhere = np.ones(len(rows), dtype=bool)
    sums["facilities"] = _distinct(ids, n, facility, everywhere).astype(float)
    sums["facilities_reporting"] = _distinct(ids, n, facility, counts.complete).astype(
        float
    )
    return finish(sums)


def finish(sums: Sums) -> Sums:
    """Add the rates (`tpr`, `completeness`) computed from the summed counts."""
    sums["tpr"] = rate(sums["p"], sums["t"])
    with np.errstate(divide="ignore", invalid="ignore"):
        sums["completeness"] = np.round(100.0 * sums["rows_complete"] / sums["rows"], 2)
    return sums


def _names(table: pd.DataFrame, first: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "State": labels(table["state"], first),
        "LGA": labels(table["lga"], first),
        "WardName": labels(table["ward"], first),
    }


def figures(sums: Sums, include_impossible: bool) -> dict[str, Any]:
    """The public figure columns of pooled sums, in the ward table's order."""

    def whole(name: str) -> np.ndarray:
        return np.rint(sums[name]).astype(np.int64)

    return {
        "TPR": sums["tpr"],
        "Tested": whole("t"),
        "Positive": whole("p"),
        "RDT_Tested": whole("rdt_t"),
        "RDT_Positive": whole("rdt_p"),
        "RDT_TPR": rate(sums["rdt_p"], sums["rdt_t"]),
        "Microscopy_Tested": whole("mic_t"),
        "Microscopy_Positive": whole("mic_p"),
        "Microscopy_TPR": rate(sums["mic_p"], sums["mic_t"]),
        "Facilities": whole("facilities"),
        "Flags": ward_flags(sums, include_impossible),
        "Facilities_Reporting": whole("facilities_reporting"),
        "Rows_Used": whole("rows_used"),
        "Rows_Excluded": whole("rows_excluded"),
        "Completeness": sums["completeness"],
        "Outpatient_Positive": whole("opd_p"),
        "Outpatient_Attendance": whole("opd"),
        "Outpatient_Positivity": rate(sums["opd_p"], sums["opd"]),
    }


def label(frame: pd.DataFrame, selection: Selection) -> None:
    """Add the selection columns (`Facility_Level` ... `Period`) in place."""
    frame["Facility_Level"] = selection.facility_level
    frame["Age_Group"] = selection.age_group
    frame["Test_Method"] = selection.method_label
    frame["Period"] = selection.period


@dataclass(frozen=True)
class Pooled:
    """A selection's rows, their counts and their ward sums."""

    rows: np.ndarray
    counts: RowCounts
    ids: np.ndarray  # ward id per selected row
    sums: Sums  # per ward
    names: dict[str, np.ndarray]  # State, LGA, WardName per ward
    first: np.ndarray  # one table position per ward


def ward_sums(table: pd.DataFrame, selection: Selection) -> Pooled:
    """Select, count and pool a selection's rows by ward."""
    rows = selected(table, selection)
    counts = row_counts(table, rows, selection)
    ids, n, first = group_ids(table, rows, ["state", "lga", "ward"])
    sums = pool(table, rows, counts, ids, n)
    return Pooled(rows, counts, ids, sums, _names(table, first), first)


def _frame(
    names: dict[str, np.ndarray], body: dict[str, Any], columns: list[str]
) -> pd.DataFrame:
    frame = pd.DataFrame({**names, **body})
    return frame[[c for c in columns if c in frame.columns]]


def ward_frame(
    pooled: Pooled, selection: Selection, outpatient: bool = False
) -> pd.DataFrame:
    """The ward table from the pooled wards, sorted by state, LGA, ward."""
    body = figures(pooled.sums, selection.include_impossible)
    order = np.lexsort(
        (pooled.names["WardName"], pooled.names["LGA"], pooled.names["State"])
    )
    names = {k: v[order] for k, v in pooled.names.items()}
    body = {k: np.asarray(v)[order] for k, v in body.items()}
    for name in ("Facility_Level", "Age_Group", "Test_Method", "Period"):
        body[name] = np.full(len(order), _selection_value(selection, name))
    extra = QUALITY_COLUMNS + (OUTPATIENT_COLUMNS if outpatient else [])
    return _frame(names, body, WARD_COLUMNS + extra)


def _selection_value(selection: Selection, column: str) -> str:
    return {
        "Facility_Level": selection.facility_level,
        "Age_Group": selection.age_group,
        "Test_Method": selection.method_label,
        "Period": selection.period,
    }[column]


def ward_table(
    table: pd.DataFrame, selection: Selection, *, outpatient: bool = False
) -> pd.DataFrame:
    """The ward table of `contracts.md`, one row per (state, LGA, ward).

    After `Period` come `Facilities_Reporting`, `Rows_Used`, `Rows_Excluded`
    and `Completeness` (%), and with `outpatient=True` the outpatient indicator
    (`Outpatient_Positive`, `Outpatient_Attendance`, `Outpatient_Positivity`).
    """
    return ward_frame(ward_sums(table, selection), selection, outpatient)


_AREA_COLUMNS: Final = [
    "State",
    "LGA",
    "Wards",
    "Wards_With_Tests",
    *RATE_COLUMNS,
    "Facilities",
    "Facilities_Reporting",
    "Rows_Used",
    "Rows_Excluded",
    "Completeness",
    "Mean_Ward_TPR",
    "Facility_Level",
    "Age_Group",
    "Test_Method",
    "Period",
]


def aggregate(
    table: pd.DataFrame, pooled: Pooled, by: list[str], selection: Selection
) -> pd.DataFrame:
    """Pool the wards to LGA (`["state", "lga"]`) or state (`["state"]`).

    Counts are summed and divided once; `Mean_Ward_TPR` is the plain mean of the
    ward rates, a labelled descriptive figure only.
    """
    ids, n, first = group_ids(table, pooled.first, by)
    sums = finish(
        {
            name: np.bincount(ids, weights=pooled.sums[name], minlength=n)
            for name in (*_SUMMED, "facilities", "facilities_reporting")
        }
    )
    body = figures(sums, selection.include_impossible)
    ward_tpr = pooled.sums["tpr"]
    rated = ~np.isnan(ward_tpr)
    wards = np.bincount(ids, minlength=n)
    with_tests = np.bincount(ids, weights=pooled.sums["t"] > 0, minlength=n)
    rated_count = np.bincount(ids, weights=rated, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.bincount(ids, weights=np.where(rated, ward_tpr, 0.0), minlength=n)
        mean = np.round(np.where(rated_count > 0, total / rated_count, np.nan), 2)
    names = {
        "State": labels(table["state"], first),
        "LGA": labels(table["lga"], first),
    }
    body |= {
        "Wards": wards.astype(np.int64),
        "Wards_With_Tests": with_tests.astype(np.int64),
        "Mean_Ward_TPR": mean,
    }
    if "lga" not in by:
        del names["LGA"]
    order = np.lexsort(tuple(reversed(list(names.values()))))
    names = {k: v[order] for k, v in names.items()}
    body = {k: np.asarray(v)[order] for k, v in body.items()}
    for name in ("Facility_Level", "Age_Group", "Test_Method", "Period"):
        body[name] = np.full(n, _selection_value(selection, name))
    return _frame(names, body, _AREA_COLUMNS)


def above_threshold(ward: pd.DataFrame, threshold: float = HIGH_TPR) -> pd.DataFrame:
    """The wards whose TPR is above the threshold, highest first."""
    high = ward[ward["TPR"] > threshold]
    return high.sort_values("TPR", ascending=False, kind="stable").reset_index(
        drop=True
    )
