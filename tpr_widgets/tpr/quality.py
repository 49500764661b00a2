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


def ward_flags(sums: Mapping[str, np.ndarray], include_impossible: bool) -> list[str]:
    """The `Flags` value for each group of pooled sums (see `engine.pool`)."""
    impossible_code = (
        "POS_GT_TESTED_INCLUDED" if include_impossible else "POS_GT_TESTED"
    )
    flags = []
    for tested, reported, impossible, fever, opd, mixed, complete, rate in zip(
        sums["t"].tolist(),
        sums["rows_reported"].tolist(),
        sums["impossible"].tolist(),
        sums["over_fever"].tolist(),
        sums["over_attendance"].tolist(),
        sums["mixed"].tolist(),
        sums["completeness"].tolist(),
        sums["tpr"].tolist(),
        strict=True,
    ):
        codes = []
        if reported == 0:
            codes.append("NO_DATA")
        elif tested == 0:
            codes.append("NO_TESTS")
        elif tested < FEW_TESTS:
            codes.append("FEW_TESTS")
        if impossible:
            codes.append(f"{impossible_code}:{int(impossible)}")
        if fever:
            codes.append(f"TESTED_GT_FEVER:{int(fever)}")
        if opd:
            codes.append(f"OPD_GT_ATTENDANCE:{int(opd)}")
        if mixed:
            codes.append(f"MAX_MIXED:{int(mixed)}")
        if reported and complete < LOW_COMPLETENESS:
            codes.append("LOW_COMPLETENESS")
        if rate == rate and rate > HIGH_TPR:
            codes.append("TPR_GT_50")
        flags.append(";".join(codes))
    return flags


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
