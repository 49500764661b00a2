"""Rates over time: the ward x period table and the per-ward trend.

Both are built from period aggregates, never from facility rows: the period
table pools each ward's rows per period (`YYYY-MM` or `YYYY`, as the canonical
table orders them), and the trend pools each ward per year and fits a straight
line through the yearly rates (ordinary least squares, one point per year with
tests). A ward seen in 36 months of 3 years gives 3 points, whatever the
number of its facilities.

`Slope` is in percentage points per year; `Relative_Change` is the change along
the fitted line from the first to the last year, as a percentage of the fitted
first-year rate.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from tpr_widgets.tpr.counts import RowCounts
from tpr_widgets.tpr.engine import RATE_COLUMNS, codes_of, figures, pool, rate
from tpr_widgets.tpr.selection import Selection

PERIOD_COLUMNS: Final = [
    "State",
    "LGA",
    "WardName",
    "Period",
    *RATE_COLUMNS,
    "Facilities",
    "Facilities_Reporting",
    "Rows_Used",
    "Completeness",
    "Flags",
]
SELECTION_COLUMNS: Final = ("Facility_Level", "Age_Group", "Test_Method")
TREND_COLUMNS: Final = [
    "State",
    "LGA",
    "WardName",
    "Years",
    "First_Year",
    "Last_Year",
    "TPR_First",
    "TPR_Last",
    "Slope",
    "Relative_Change",
]


def _period_codes(
    table: pd.DataFrame, rows: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    codes, _ = codes_of(table["period"])
    series = table["period"]
    if isinstance(series.dtype, pd.CategoricalDtype):
        names = [str(c) for c in series.cat.categories]
    else:
        names = [str(c) for c in pd.factorize(series)[1]]
    return codes[rows], names


def period_count(table: pd.DataFrame, rows: np.ndarray) -> int:
    """How many distinct periods the selected rows cover."""
    codes, names = _period_codes(table, rows)
    return len({names[c] for c in np.unique(codes) if c >= 0} - {"all"})


def year_count(table: pd.DataFrame, rows: np.ndarray) -> int:
    """How many distinct years the selected rows cover."""
    codes, names = _period_codes(table, rows)
    return len({names[c][:4] for c in np.unique(codes) if c >= 0} - {"all"})


def period_table(
    table: pd.DataFrame,
    rows: np.ndarray,
    counts: RowCounts,
    ward_ids: np.ndarray,
    ward_names: dict[str, np.ndarray],
    selection: Selection,
) -> pd.DataFrame:
    """One row per (ward, period) with rows, pooled within the period."""
    codes, names = _period_codes(table, rows)
    key = ward_ids * (len(names) + 1) + (codes + 1)
    ids, uniques = pd.factorize(key)
    sums = pool(table, rows, counts, ids.astype(np.int64), len(uniques))
    ward_of = uniques // (len(names) + 1)
    period_of = uniques % (len(names) + 1) - 1
    body = figures(sums, selection.include_impossible)
    period_names = np.array([*names, ""], dtype=object)
    frame = pd.DataFrame(
        {
            "State": ward_names["State"][ward_of],
            "LGA": ward_names["LGA"][ward_of],
            "WardName": ward_names["WardName"][ward_of],
            "Period": period_names[period_of],
            **body,
        }
    )[PERIOD_COLUMNS]
    frame["Facility_Level"] = selection.facility_level
    frame["Age_Group"] = selection.age_group
    frame["Test_Method"] = selection.method_label
    # Sort by integer ranks: the wards' name order, then the period order.
    ward_rank = np.empty(len(ward_names["State"]), dtype=np.int64)
    ward_rank[
        np.lexsort((ward_names["WardName"], ward_names["LGA"], ward_names["State"]))
    ] = np.arange(len(ward_rank))
    order = np.lexsort((period_of, ward_rank[ward_of]))
    frame = frame.iloc[order].reset_index(drop=True)
    # Names repeat once per period: categoricals keep the cached result small.
    for column in ("State", "LGA", "WardName", "Period", "Flags", *SELECTION_COLUMNS):
        frame[column] = frame[column].astype("category")
    for column in frame.columns:
        if frame[column].dtype == np.int64:  # counts of one ward-period fit
            frame[column] = frame[column].astype(np.int32)
    return frame


def trend_table(
    table: pd.DataFrame,
    rows: np.ndarray,
    counts: RowCounts,
    ward_ids: np.ndarray,
    ward_names: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Per ward: the yearly pooled rates' straight-line slope and relative change."""
    codes, names = _period_codes(table, rows)
    year_of_code = np.array(
        [int(n[:4]) if n[:4].isdigit() else -1 for n in names] + [-1]
    )
    years = year_of_code[codes]
    frame = pd.DataFrame(
        {
            "ward": ward_ids,
            "year": years,
            "t": counts.chosen_tested,
            "p": counts.chosen_positive,
        }
    )
    frame = frame[frame["year"] >= 0]
    yearly = frame.groupby(["ward", "year"], sort=True)[["t", "p"]].sum()
    yearly = yearly[yearly["t"] > 0].reset_index()
    yearly["rate"] = 100.0 * yearly["p"] / yearly["t"]
    yearly["x"] = yearly["year"].astype(float)
    yearly["xx"] = yearly["x"] ** 2
    yearly["xy"] = yearly["x"] * yearly["rate"]
    grouped = yearly.groupby("ward", sort=True)
    n = grouped.size()
    s = grouped[["x", "rate", "xx", "xy"]].sum()
    first = grouped.first()
    last = grouped.last()
    spread = n * s["xx"] - s["x"] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * s["xy"] - s["x"] * s["rate"]) / spread.where(spread > 0)
        intercept = (s["rate"] - slope * s["x"]) / n
        start = intercept + slope * first["x"]
        change = slope * (last["x"] - first["x"])
        relative = 100.0 * change / start.where(start > 0)
    wards = n.index.to_numpy(dtype=np.int64)
    out = pd.DataFrame(
        {
            "State": ward_names["State"][wards],
            "LGA": ward_names["LGA"][wards],
            "WardName": ward_names["WardName"][wards],
            "Years": n.to_numpy(dtype=np.int64),
            "First_Year": first["year"].to_numpy(dtype=np.int64),
            "Last_Year": last["year"].to_numpy(dtype=np.int64),
            "TPR_First": rate(first["p"], first["t"]),
            "TPR_Last": rate(last["p"], last["t"]),
            "Slope": np.round(slope.to_numpy(dtype=float), 2),
            "Relative_Change": np.round(relative.to_numpy(dtype=float), 2),
        }
    )
    order = np.lexsort((out["WardName"], out["LGA"], out["State"]))
    return out.iloc[order].reset_index(drop=True)[TREND_COLUMNS]
