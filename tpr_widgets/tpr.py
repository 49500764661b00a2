"""Ward test positivity rates for a selection of the canonical table.

The rule everywhere: sum numerators and denominators first, then divide. A
(row, method, age group) count pair is usable when either count is present; an
empty count beside a present one reads as 0, as DHIS2 leaves zeros empty. A pair
whose positives exceed its tests is impossible: it is left out of both sums
(unless the caller includes impossible rows) and the ward is flagged either way.
A ward with no tests has an empty rate, never 0.

`both` pools the test events of RDT and microscopy (`combine="sum"`); the
legacy NMEP rule (`combine="max"`) takes, per facility-month row, the larger
tested and the larger positive count independently, and is labelled `both_max`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.vocab import (
    AGE_CHOICES,
    AGE_GROUPS,
    COMBINE_CHOICES,
    LEVEL_CHOICES,
    METHOD_CHOICES,
    METHODS,
    count_role,
)

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
FEW_TESTS: Final = 10
HIGH_TPR: Final = 50.0
_PERIOD = re.compile(r"^(\d{4}(-\d{2})?)(:(\d{4}(-\d{2})?))?$")
_KEYS: Final = ["state", "lga", "ward"]


@dataclass(frozen=True)
class Selection:
    """The choices that define one ward table."""

    state: str = "all"
    facility_level: str = "all"
    age_group: str = "u5"
    test_method: str = "both"
    combine: str = "sum"
    period: str = "all"
    include_impossible: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("facility_level", LEVEL_CHOICES),
            ("age_group", AGE_CHOICES),
            ("test_method", METHOD_CHOICES),
            ("combine", COMBINE_CHOICES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise InputError(
                    f"{value!r} is not a valid {name.replace('_', ' ')}; use one "
                    f"of {', '.join(allowed)}."
                )
        check_period(self.period)

    @property
    def method_label(self) -> str:
        if self.test_method == "both" and self.combine == "max":
            return "both_max"
        return self.test_method

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_period(spec: str) -> tuple[str, str] | None:
    """(first, last) bounds of a period choice, None for `all`."""
    if spec == "all":
        return None
    match = _PERIOD.match(spec) if isinstance(spec, str) else None
    if not match:
        raise InputError(
            f"{str(spec)[:40]!r} is not a period choice. Use 'all', a year (2024), "
            "a month "
            "(2024-03) or a range (2024-01:2024-06 or 2022:2024)."
        )
    first, last = match[1], match[4] or match[1]
    if len(first) != len(last) or first > last:
        raise InputError(
            f"The period range {spec!r} must run from an earlier to a later period "
            "written the same way (2024-01:2024-06 or 2022:2024)."
        )
    return first, last


def period_mask(periods: pd.Series, spec: str) -> np.ndarray:
    """Which rows fall in the period choice."""
    bounds = check_period(spec)
    if bounds is None:
        return np.ones(len(periods), dtype=bool)
    first, last = bounds
    width = len(first)
    categories = pd.Index(periods.cat.categories.astype(str))
    cut = categories.str.slice(0, width)
    inside = (cut >= first) & (cut <= last) & (categories.str.len() >= width)
    return np.asarray(inside[periods.cat.codes.to_numpy()]) & (
        periods.cat.codes.to_numpy() >= 0
    )


def select_rows(table: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The facility-month rows of a selection; an error if none match."""
    mask = np.ones(len(table), dtype=bool)
    if selection.state != "all":
        mask &= (table["state"] == selection.state).to_numpy()
        if not mask.any():
            raise InputError(f"The file has no rows for the state {selection.state!r}.")
    if selection.facility_level != "all":
        level = (table["facility_level"] == selection.facility_level).to_numpy()
        if not (mask & level).any():
            raise InputError(
                f"No facilities of level {selection.facility_level!r} in this "
                "selection; choose another level or 'all'."
            )
        mask &= level
    mask &= period_mask(table["period"], selection.period)
    if not mask.any():
        raise InputError(
            f"No rows fall in the period {selection.period!r} for this selection; "
            "choose another period."
        )
    return table.loc[mask]


@dataclass(frozen=True)
class _Counts:
    tested: np.ndarray
    positive: np.ndarray
    impossible: np.ndarray  # number of impossible pairs per row


def _method_counts(
    rows: pd.DataFrame, method: str, ages: tuple[str, ...], include: bool
) -> _Counts:
    size = len(rows)
    tested = np.zeros(size)
    positive = np.zeros(size)
    impossible = np.zeros(size, dtype=np.int64)
    for age in ages:
        t = rows[count_role(method, "tested", age)].to_numpy(dtype=float)
        p = rows[count_role(method, "positive", age)].to_numpy(dtype=float)
        t0, p0 = np.nan_to_num(t), np.nan_to_num(p)
        bad = p0 > t0
        impossible += bad
        use = ~bad | include
        tested += np.where(use, t0, 0.0)
        positive += np.where(use, p0, 0.0)
    return _Counts(tested, positive, impossible)


def _rate(positive: pd.Series, tested: pd.Series) -> pd.Series:
    rate = (100.0 * positive / tested.where(tested > 0)).round(2)
    return rate.astype("float64")


def _flags(frame: pd.DataFrame) -> pd.Series:
    flags: list[str] = []
    for tested, impossible, rate in zip(
        frame["Tested"], frame["_impossible"], frame["TPR"], strict=True
    ):
        codes = []
        if tested == 0:
            codes.append("NO_TESTS")
        elif tested < FEW_TESTS:
            codes.append("FEW_TESTS")
        if impossible:
            codes.append(f"POS_GT_TESTED:{int(impossible)}")
        if rate == rate and rate > HIGH_TPR:
            codes.append("TPR_GT_50")
        flags.append(";".join(codes))
    return pd.Series(flags, index=frame.index, dtype=object)


def ward_table(table: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The ward table of `contracts.md`, one row per (state, LGA, ward)."""
    rows = select_rows(table, selection)
    ages = AGE_GROUPS if selection.age_group == "all" else (selection.age_group,)
    counts = {
        m: _method_counts(rows, m, ages, selection.include_impossible) for m in METHODS
    }
    per_row = pd.DataFrame(
        {
            "rdt_t": counts["rdt"].tested,
            "rdt_p": counts["rdt"].positive,
            "mic_t": counts["microscopy"].tested,
            "mic_p": counts["microscopy"].positive,
        },
        index=rows.index,
    )
    if selection.test_method == "rdt":
        per_row["t"], per_row["p"] = per_row["rdt_t"], per_row["rdt_p"]
        impossible = counts["rdt"].impossible
    elif selection.test_method == "microscopy":
        per_row["t"], per_row["p"] = per_row["mic_t"], per_row["mic_p"]
        impossible = counts["microscopy"].impossible
    elif selection.combine == "max":
        per_row["t"] = np.maximum(per_row["rdt_t"], per_row["mic_t"])
        per_row["p"] = np.maximum(per_row["rdt_p"], per_row["mic_p"])
        impossible = counts["rdt"].impossible + counts["microscopy"].impossible
    else:
        per_row["t"] = per_row["rdt_t"] + per_row["mic_t"]
        per_row["p"] = per_row["rdt_p"] + per_row["mic_p"]
        impossible = counts["rdt"].impossible + counts["microscopy"].impossible
    per_row["_impossible"] = impossible
    for key in _KEYS:
        per_row[key] = rows[key]
    per_row["facility"] = rows["facility"]

    grouped = per_row.groupby(_KEYS, observed=True, sort=True)
    sums = grouped[["t", "p", "rdt_t", "rdt_p", "mic_t", "mic_p", "_impossible"]].sum()
    sums["Facilities"] = grouped["facility"].nunique()
    sums = sums.reset_index()

    ward = pd.DataFrame(
        {
            "State": sums["state"].astype(str),
            "LGA": sums["lga"].astype(str),
            "WardName": sums["ward"].astype(str),
            "TPR": _rate(sums["p"], sums["t"]),
            "Tested": sums["t"].astype("int64"),
            "Positive": sums["p"].astype("int64"),
            "RDT_Tested": sums["rdt_t"].astype("int64"),
            "RDT_Positive": sums["rdt_p"].astype("int64"),
            "RDT_TPR": _rate(sums["rdt_p"], sums["rdt_t"]),
            "Microscopy_Tested": sums["mic_t"].astype("int64"),
            "Microscopy_Positive": sums["mic_p"].astype("int64"),
            "Microscopy_TPR": _rate(sums["mic_p"], sums["mic_t"]),
            "Facilities": sums["Facilities"].astype("int64"),
            "_impossible": sums["_impossible"],
        }
    )
    ward["Flags"] = _flags(ward)
    ward["Facility_Level"] = selection.facility_level
    ward["Age_Group"] = selection.age_group
    ward["Test_Method"] = selection.method_label
    ward["Period"] = selection.period
    ward = ward.sort_values(["State", "LGA", "WardName"], kind="stable")
    return ward[WARD_COLUMNS].reset_index(drop=True)


_SUM_COLUMNS: Final = [
    "Tested",
    "Positive",
    "RDT_Tested",
    "RDT_Positive",
    "Microscopy_Tested",
    "Microscopy_Positive",
    "Facilities",
]


def aggregate(ward: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Pool a ward table to LGA (`["State", "LGA"]`) or state (`["State"]`)."""
    grouped = ward.groupby(by, sort=True)
    table = grouped[_SUM_COLUMNS].sum()
    table.insert(0, "Wards", grouped.size())
    table.insert(
        1, "Wards_With_Tests", grouped["Tested"].apply(lambda s: (s > 0).sum())
    )
    table["TPR"] = _rate(table["Positive"], table["Tested"])
    table["RDT_TPR"] = _rate(table["RDT_Positive"], table["RDT_Tested"])
    table["Microscopy_TPR"] = _rate(
        table["Microscopy_Positive"], table["Microscopy_Tested"]
    )
    table["Mean_Ward_TPR"] = grouped["TPR"].mean().round(2)
    order = [
        "Wards",
        "Wards_With_Tests",
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
        "Mean_Ward_TPR",
    ]
    table = table[order].reset_index()
    for column in ("Facility_Level", "Age_Group", "Test_Method", "Period"):
        table[column] = ward[column].iloc[0] if len(ward) else None
    return table


def compute(table: pd.DataFrame, selection: Selection) -> dict[str, pd.DataFrame]:
    """Ward, LGA and state tables for a selection."""
    ward = ward_table(table, selection)
    return {
        "ward": ward,
        "lga": aggregate(ward, ["State", "LGA"]),
        "state": aggregate(ward, ["State"]),
    }


def above_threshold(ward: pd.DataFrame, threshold: float = HIGH_TPR) -> pd.DataFrame:
    """The wards whose TPR is above the threshold, highest first."""
    high = ward[ward["TPR"] > threshold]
    return high.sort_values("TPR", ascending=False, kind="stable").reset_index(
        drop=True
    )


def outpatient_positivity(
    table: pd.DataFrame, selection: Selection, ward: pd.DataFrame
) -> pd.Series:
    """Positives per 100 outpatient attendances, per ward row of `ward`."""
    rows = select_rows(table, selection)
    opd = rows.groupby(_KEYS, observed=True)["outpatient"].sum(min_count=1)
    opd.index = opd.index.map(lambda key: tuple(str(k) for k in key))
    keys = list(zip(ward["State"], ward["LGA"], ward["WardName"], strict=True))
    attendance = pd.Series([opd.get(k, np.nan) for k in keys], index=ward.index)
    return (100.0 * ward["Positive"] / attendance.where(attendance > 0)).round(2)
