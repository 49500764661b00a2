"""The files of a run without a boundary file, from the bundled DHIS2 sample.

The risk-analysis CSV, the workbook's sheets and the report are checked
against the ward table CSV of the same run and the contract's names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.conftest import SAMPLE_B
from tpr_widgets.cli import main
from tpr_widgets.geo.write import field_names


def test_files_without_boundaries(tmp_path: Path) -> None:
    assert (
        main(
            [
                "compute",
                str(SAMPLE_B),
                "--age-group",
                "o5",
                "--test-method",
                "microscopy",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    ward = pd.read_csv(tmp_path / "ward_tpr.csv")
    risk = pd.read_csv(tmp_path / "risk_analysis.csv")
    assert list(risk.columns) == [
        "WardCode",
        "WardName",
        "LGA",
        "State",
        "StateCode",
        "LGACode",
        "GeopoliticalZone",
        "o5_tpr_microscopy",
        "tpr",
    ]
    assert list(risk["WardName"]) == list(ward["WardName"])
    pd.testing.assert_series_equal(risk["tpr"], ward["TPR"], check_names=False)
    assert risk["WardCode"].isna().all()  # no boundary file: no invented codes
    assert set(risk["StateCode"]) == {"KN"} and set(risk["GeopoliticalZone"]) == {
        "North_West"
    }
    book = pd.read_excel(tmp_path / "ward_tpr.xlsx", sheet_name=None, engine="openpyxl")
    # Sample B covers twelve months of one year: a Period sheet, no Trend.
    assert list(book) == ["Ward", "LGA", "State", "Period", "Run"]
    assert set(book["Period"]["Period"]) == {f"2024-{m:02d}" for m in range(1, 13)}
    run = dict(zip(book["Run"]["Item"], book["Run"]["Value"], strict=True))
    record = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run["version"] == record["version"] and run["selection: age_group"] == "o5"
    assert record["inputs"][0]["sha256"] in run["input: export"]
    assert not (tmp_path / "wards.geojson").exists()
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "microscopy positives / microscopy tests" in report


def test_shapefile_field_names_are_short_and_unique() -> None:
    names = field_names(
        [
            "Microscopy_Tested",
            "Microscopy_Positive",
            "Microscopy_TPR",
            "Total_Positive",
            "Total_Posi",
            "WardName",
        ]
    )
    assert names == {
        "Microscopy_Tested": "Microscopy",
        "Microscopy_Positive": "Microsco01",
        "Microscopy_TPR": "Microsco02",
        "Total_Positive": "Total_Posi",
        "Total_Posi": "Total_Po01",
        "WardName": "WardName",
    }
