"""Periods: month-name files, the ward x period table and the trend."""

from __future__ import annotations

import csv
import io
import math

import pytest

from tests.reference import GE, indicator
from tests.tpr.test_engine import table
from tpr_widgets.choices import normalise_period
from tpr_widgets.ingest import ingest
from tpr_widgets.tpr import Selection, compute


def month_name_csv() -> bytes:
    """A small NMEP-style CSV whose periods are month names, out of order."""
    headers = ["State", "LGA", "Ward", "Health Faccility", "periodname"]
    headers += [indicator("rdt", "tested", "u5", GE)]
    headers += [indicator("rdt", "positive", "u5", GE)]
    rows = [
        ("March 2024", "PHC Afon", 40, 10),
        ("January 2024", "PHC Afon", 20, 5),
        ("December 2023", "PHC Afon", 10, 9),
        ("January 2024", "Clinic Afon", 30, 15),
        ("February 2024", "PHC Afon", 50, 20),
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for period, facility, tested, positive in rows:
        writer.writerow(
            ["Kwara State", "kw Asa Local Government Area", "kw Afon Ward", facility,
             period, tested, positive]
        )  # fmt: skip
    return out.getvalue().encode("utf-8")


def test_month_name_periods_are_read_ordered_and_pooled_per_period() -> None:
    canonical = ingest(month_name_csv(), "kwara_months.csv").table
    assert [str(c) for c in canonical["period"].cat.categories] == [
        "2023-12",
        "2024-01",
        "2024-02",
        "2024-03",
    ]
    tables = compute(canonical, Selection(test_method="rdt"))
    period = tables["period"]
    assert list(period["Period"]) == ["2023-12", "2024-01", "2024-02", "2024-03"]
    # January pools both facilities: (5 + 15) / (20 + 30) = 40 %.
    assert list(period["Tested"]) == [10, 50, 50, 40]
    assert list(period["TPR"]) == [90.0, 40.0, 40.0, 25.0]
    assert list(period["Facilities"]) == [1, 2, 1, 1]
    # Two years (2023, 2024): a trend row, fitted on the yearly rates 90 and
    # 50 / 140 = 35.71 %.
    trend = tables["trend"].iloc[0]
    assert (trend["Years"], trend["TPR_First"], trend["TPR_Last"]) == (2, 90.0, 35.71)
    # Whole ward: 59 / 150 = 39.33 %.
    assert tables["ward"].iloc[0]["TPR"] == 39.33
    # A year choice and a range written with month names.
    only_2024 = compute(canonical, Selection(test_method="rdt", period="2024"))
    assert only_2024["ward"].iloc[0]["Tested"] == 140
    spec = normalise_period("January 2024:202402")
    assert spec == "2024-01:2024-02"
    ranged = compute(canonical, Selection(test_method="rdt", period=spec))
    assert ranged["ward"].iloc[0]["Tested"] == 100
    assert "trend" not in ranged


def three_years() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        # Afon 2022: facility A 10 / 50 (20 %) and B 50 / 50 (100 %): pooled
        # 60 / 100 = 60 %. 2023: 50 / 100. 2024: 46 / 100 over two months.
        {"ward": "Afon", "facility": "A", "period": "2022-03", "rdt_tested_u5": 50,
         "rdt_positive_u5": 10},
        {"ward": "Afon", "facility": "B", "period": "2022-07", "rdt_tested_u5": 50,
         "rdt_positive_u5": 50},
        {"ward": "Afon", "facility": "A", "period": "2023-05", "rdt_tested_u5": 100,
         "rdt_positive_u5": 50},
        {"ward": "Afon", "facility": "A", "period": "2024-01", "rdt_tested_u5": 60,
         "rdt_positive_u5": 26},
        {"ward": "Afon", "facility": "B", "period": "2024-02", "rdt_tested_u5": 40,
         "rdt_positive_u5": 20},
        # Bode: 2023 20 / 100, 2024 30 / 100 (no 2022 tests).
        {"ward": "Bode", "period": "2022-03", "rdt_tested_u5": 0,
         "rdt_positive_u5": 0},
        {"ward": "Bode", "period": "2023-03", "rdt_tested_u5": 100,
         "rdt_positive_u5": 20},
        {"ward": "Bode", "period": "2024-03", "rdt_tested_u5": 100,
         "rdt_positive_u5": 30},
        # Cede: one year only.
        {"ward": "Cede", "period": "2024-03", "rdt_tested_u5": 10,
         "rdt_positive_u5": 5},
    ]  # fmt: skip
    return rows


def test_three_year_trend_is_fitted_on_yearly_aggregates() -> None:
    trend = compute(table(three_years()), Selection(test_method="rdt"))["trend"]
    trend = trend.set_index("WardName")
    afon = trend.loc["Afon"]
    # Points (2022, 60), (2023, 50), (2024, 46): mean year 2023, mean rate 52;
    # slope = ((-1)(8) + 0(-2) + 1(-6)) / 2 = -7 points a year. Fitted 2022 value
    # 52 + 7 = 59; change along the line -14, relative -14 / 59 = -23.73 %.
    # (Fitting the four facility rows of 20, 100, 50, 46 would give another line.)
    assert (afon["Years"], afon["First_Year"], afon["Last_Year"]) == (3, 2022, 2024)
    assert (afon["TPR_First"], afon["TPR_Last"]) == (60.0, 46.0)
    assert afon["Slope"] == -7.0
    assert afon["Relative_Change"] == pytest.approx(-23.73, abs=0.005)
    # Bode: 2022 had no tests and is no point; 20 -> 30: +10 a year, +50 %.
    bode = trend.loc["Bode"]
    assert (bode["Years"], bode["Slope"], bode["Relative_Change"]) == (2, 10.0, 50.0)
    cede = trend.loc["Cede"]
    assert cede["Years"] == 1 and math.isnan(cede["Slope"])


def test_period_table_has_one_row_per_ward_and_period_with_rows() -> None:
    period = compute(table(three_years()), Selection(test_method="rdt"))["period"]
    afon = period[period["WardName"] == "Afon"]
    assert list(afon["Period"]) == [
        "2022-03",
        "2022-07",
        "2023-05",
        "2024-01",
        "2024-02",
    ]
    assert list(afon["TPR"]) == [20.0, 100.0, 50.0, 43.33, 50.0]
    bode_2022 = period[(period["WardName"] == "Bode") & (period["Period"] == "2022-03")]
    assert math.isnan(bode_2022.iloc[0]["TPR"])
    assert bode_2022.iloc[0]["Flags"] == "NO_TESTS"
