"""Pooling: from per-row counts to the ward, LGA and state tables.

Rows are grouped by integer codes (the canonical table's categoricals) and
summed with `numpy.bincount`, so a national file takes a fraction of a second.
Every rate is 100 x pooled positives / pooled tests of the same rows, rounded to
2 decimals once, and empty when there were no tests.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from tpr_widgets.tpr.counts import RowCounts, row_counts
from tpr_widgets.tpr.quality import HIGH_TPR, ward_flags
from tpr_widgets.tpr.selection import Selection, selected

WARD_COLUMNS: Final = [
    "State",
    "LGA",
    "WardName",
    "TPR",
    "Tested",
    "Positive",
    "RDT_Tested",
    "RDT_Positive",
    "RDT_TPR",
    "Microscopy_Tested",
    "Microscopy_Positive",
    "Microscopy_TPR",
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


def pool(
    table: pd.DataFrame,
    rows: np.ndarray,
    counts: RowCounts,
    ids: np.ndarray,
    n: int,
) -> pd.DataFrame:
    """Sums of one grouping (`ids` per row, `n` groups) as an internal frame."""
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
    sums = pd.DataFrame(
        {
            name: np.bincount(ids, weights=np.asarray(values, dtype=float), minlength=n)
            for name, values in columns.items()
        }
    )
    facility, _ = codes_of(table["facility"])
    facility = facility[rows]
    everywhere = np.ones(len(rows), dtype=bool)
    sums["facilities"] = _distinct(ids, n, facility, everywhere)
    sums["facilities_reporting"] = _distinct(ids, n, facility, counts.complete)
    sums["tpr"] = rate(sums["p"], sums["t"])
    with np.errstate(divide="ignore", invalid="ignore"):
        sums["completeness"] = np.round(100.0 * sums["rows_complete"] / sums["rows"], 2)
    return sums


def _names(table: pd.DataFrame, first: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "State": table["state"].to_numpy()[first].astype(str),
        "LGA": table["lga"].to_numpy()[first].astype(str),
        "WardName": table["ward"].to_numpy()[first].astype(str),
    }


def figures(sums: pd.DataFrame, include_impossible: bool) -> pd.DataFrame:
    """The public figure columns of a pooled frame, in the ward table's order."""
    as_int = {name: sums[name].round().astype("int64") for name in _SUMMED}
    return pd.DataFrame(
        {
            "TPR": sums["tpr"],
            "Tested": as_int["t"],
            "Positive": as_int["p"],
            "RDT_Tested": as_int["rdt_t"],
            "RDT_Positive": as_int["rdt_p"],
            "RDT_TPR": rate(sums["rdt_p"], sums["rdt_t"]),
            "Microscopy_Tested": as_int["mic_t"],
            "Microscopy_Positive": as_int["mic_p"],
            "Microscopy_TPR": rate(sums["mic_p"], sums["mic_t"]),
            "Facilities": sums["facilities"].astype("int64"),
            "Flags": ward_flags(sums, include_impossible),
            "Facilities_Reporting": sums["facilities_reporting"].astype("int64"),
            "Rows_Used": as_int["rows_used"],
            "Rows_Excluded": as_int["rows_excluded"],
            "Completeness": sums["completeness"],
            "Outpatient_Positive": as_int["opd_p"],
            "Outpatient_Attendance": as_int["opd"],
            "Outpatient_Positivity": rate(sums["opd_p"], sums["opd"]),
        }
    )


def label(frame: pd.DataFrame, selection: Selection) -> None:
    """Add the selection columns (`Facility_Level` ... `Period`) in place."""
    frame["Facility_Level"] = selection.facility_level
    frame["Age_Group"] = selection.age_group
    frame["Test_Method"] = selection.method_label
    frame["Period"] = selection.period


def ward_sums(
    table: pd.DataFrame, selection: Selection
) -> tuple[pd.DataFrame, np.ndarray, RowCounts, np.ndarray]:
    """(pooled ward frame with names, selected rows, their counts, ward ids)."""
    rows = selected(table, selection)
    counts = row_counts(table, rows, selection)
    ids, n, first = group_ids(table, rows, ["state", "lga", "ward"])
    sums = pool(table, rows, counts, ids, n)
    for name, values in _names(table, first).items():
        sums[name] = values
    return sums, rows, counts, ids


def ward_frame(
    sums: pd.DataFrame, selection: Selection, outpatient: bool = False
) -> pd.DataFrame:
    """The ward table from the pooled ward frame, sorted by state, LGA, ward."""
    body = figures(sums, selection.include_impossible)
    ward = pd.concat([sums[["State", "LGA", "WardName"]], body], axis=1)
    label(ward, selection)
    extra = QUALITY_COLUMNS + (OUTPATIENT_COLUMNS if outpatient else [])
    ward = ward[WARD_COLUMNS + extra]
    order = np.lexsort((ward["WardName"], ward["LGA"], ward["State"]))
    return ward.iloc[order].reset_index(drop=True)


def ward_table(
    table: pd.DataFrame, selection: Selection, *, outpatient: bool = False
) -> pd.DataFrame:
    """The ward table of `contracts.md`, one row per (state, LGA, ward).

    After `Period` come `Facilities_Reporting`, `Rows_Used`, `Rows_Excluded`
    and `Completeness` (%), and with `outpatient=True` the outpatient indicator
    (`Outpatient_Positive`, `Outpatient_Attendance`, `Outpatient_Positivity`).
    """
    sums, *_ = ward_sums(table, selection)
    return ward_frame(sums, selection, outpatient)


def aggregate(sums: pd.DataFrame, by: list[str], selection: Selection) -> pd.DataFrame:
    """Pool the ward frame to LGA (`["State", "LGA"]`) or state (`["State"]`).

    Counts are summed and divided once; `Mean_Ward_TPR` is the plain mean of the
    ward rates, a labelled descriptive figure only.
    """
    grouped = sums.groupby(by, sort=True)
    pooled = grouped[[*_SUMMED, "facilities", "facilities_reporting"]].sum()
    pooled["tpr"] = rate(pooled["p"], pooled["t"])
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled["completeness"] = np.round(
            100.0 * pooled["rows_complete"] / pooled["rows"], 2
        )
    body = figures(pooled.reset_index(drop=True), selection.include_impossible)
    body.index = pooled.index
    with_tests = (sums["t"] > 0).groupby([sums[k] for k in by], sort=True).sum()
    out = pd.DataFrame(
        {"Wards": grouped.size(), "Wards_With_Tests": with_tests.astype("int64")}
    )
    out = pd.concat([out, body.drop(columns=["Flags", *OUTPATIENT_COLUMNS])], axis=1)
    out["Mean_Ward_TPR"] = grouped["tpr"].mean().round(2)
    out = out.reset_index()
    label(out, selection)
    return out


def above_threshold(ward: pd.DataFrame, threshold: float = HIGH_TPR) -> pd.DataFrame:
    """The wards whose TPR is above the threshold, highest first."""
    high = ward[ward["TPR"] > threshold]
    return high.sort_values("TPR", ascending=False, kind="stable").reset_index(
        drop=True
    )
