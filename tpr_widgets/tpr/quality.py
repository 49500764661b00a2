"""Data-quality rules: the ward flags and the run's quality figures.

A flag is a short code in the ward table's `Flags` column (codes separated by
`;`, documented in the README). The run figures summarise the same facts for
the whole selection, so a reader sees at once how much of the data a table
stands on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

FEW_TESTS: Final = 10
HIGH_TPR: Final = 50.0
LOW_COMPLETENESS: Final = 50.0

#: Code -> plain-words meaning (the README's flag table says the same).
FLAG_CODES: Final = {
    "NO_DATA": "no count for the chosen age group and method was filled in",
    "NO_TESTS": "counts were filled in but add up to no tests",
    "FEW_TESTS": f"fewer than {FEW_TESTS} tests: too few to trust the rate",
    "POS_GT_TESTED:N": "N count pairs had more positives than tests; left out",
    "POS_GT_TESTED_INCLUDED:N": "N such pairs were included, as asked",
    "TESTED_GT_FEVER:N": "N rows record more tests than persons with fever",
    "OPD_GT_ATTENDANCE:N": "N rows record more outpatients than attendances",
    "MAX_MIXED:N": "legacy rule: N rows took tested and positive from two methods",
    "LOW_COMPLETENESS": f"tested counts in under {LOW_COMPLETENESS:g} % of rows",
    "TPR_GT_50": f"TPR above {HIGH_TPR:g} %: check the data before acting on it",
}


def _join(out: np.ndarray, mask: np.ndarray, piece: np.ndarray | str) -> np.ndarray:
    """Append `piece` (with `;` where needed) to the codes where `mask` holds."""
    if not mask.any():
        return out
    sep = np.where(out != "", ";", "")
    joined: np.ndarray = np.where(mask, out + sep + piece, out)
    return joined


def _counted(code: str, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    piece = np.full(len(values), "", dtype=object)
    piece[mask] = [f"{code}:{int(v)}" for v in values[mask]]
    return piece


def ward_flags(sums: Mapping[str, np.ndarray], include_impossible: bool) -> np.ndarray:
    """The `Flags` value for each group of pooled sums (see `engine.pool`)."""
    tested = np.asarray(sums["t"])
    reported = np.asarray(sums["rows_reported"]) > 0
    rate = np.asarray(sums["tpr"])
    out = np.full(len(tested), "", dtype=object)
    out = _join(out, ~reported, "NO_DATA")
    out = _join(out, reported & (tested == 0), "NO_TESTS")
    out = _join(out, (tested > 0) & (tested < FEW_TESTS), "FEW_TESTS")
    impossible = "POS_GT_TESTED_INCLUDED" if include_impossible else "POS_GT_TESTED"
    for code, name in (
        (impossible, "impossible"),
        ("TESTED_GT_FEVER", "over_fever"),
        ("OPD_GT_ATTENDANCE", "over_attendance"),
        ("MAX_MIXED", "mixed"),
    ):
        values = np.asarray(sums[name])
        mask = values > 0
        if mask.any():
            out = _join(out, mask, _counted(code, values, mask))
    low = reported & (np.asarray(sums["completeness"]) < LOW_COMPLETENESS)
    out = _join(out, low, "LOW_COMPLETENESS")
    with np.errstate(invalid="ignore"):
        out = _join(out, rate > HIGH_TPR, "TPR_GT_50")
    return out


def run_quality(
    sums: Mapping[str, np.ndarray],
    ward: pd.DataFrame,
    include_impossible: bool,
    wards_without_rows: int,
) -> pd.DataFrame:
    """The run's quality figures as a two-column table (`Measure`, `Value`)."""
    rows = int(sums["rows"].sum())
    complete = int(sums["rows_complete"].sum())
    tested = ward["Tested"].to_numpy()
    measures: list[tuple[str, Any]] = [
        ("Wards", len(ward)),
        ("Wards with no data", int((sums["rows_reported"] == 0).sum())),
        (
            "Wards with no tests",
            int(((sums["rows_reported"] > 0) & (sums["t"] == 0)).sum()),
        ),
        (
            f"Wards with fewer than {FEW_TESTS} tests",
            int(((tested > 0) & (tested < FEW_TESTS)).sum()),
        ),
        (f"Wards above {HIGH_TPR:g} %", int((ward["TPR"] > HIGH_TPR).sum())),
        ("Wards of the state(s) with no rows in this selection", wards_without_rows),
        ("Facilities", int(ward["Facilities"].sum())),
        ("Facilities reporting", int(ward["Facilities_Reporting"].sum())),
        ("Facility-month rows", rows),
        ("Rows used", int(sums["rows_used"].sum())),
        (
            "Rows excluded (a pair with positive > tested)",
            int(sums["rows_excluded"].sum()),
        ),
        ("Completeness (%)", round(100.0 * complete / rows, 2) if rows else np.nan),
        ("Pairs with positive > tested", int(sums["impossible"].sum())),
        (
            "Pairs with positive > tested are",
            "included, as asked" if include_impossible else "left out of both sums",
        ),
        ("Rows with tested > persons with fever", int(sums["over_fever"].sum())),
        ("Rows with outpatients > attendance", int(sums["over_attendance"].sum())),
        ("Rows where the legacy rule mixed methods", int(sums["mixed"].sum())),
        ("Tested", int(ward["Tested"].sum())),
        ("Positive", int(ward["Positive"].sum())),
    ]
    return pd.DataFrame(measures, columns=["Measure", "Value"])
