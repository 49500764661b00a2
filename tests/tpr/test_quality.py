"""Methods and quality rules on small tables whose answers are worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.tpr.test_engine import table
from tpr_widgets.tpr import WARD_COLUMNS, Selection, compute, ward_table


def measures(tables: dict[str, pd.DataFrame]) -> dict[str, object]:
    frame = tables["quality"]
    return dict(zip(frame["Measure"], frame["Value"], strict=True))


ROW_500_1000 = {
    "ward": "Afon",
    "rdt_tested_u5": 500,
    "rdt_positive_u5": 100,
    "microscopy_tested_u5": 1000,
    "microscopy_positive_u5": 120,
}


@pytest.mark.parametrize(
    ("method", "combine", "label", "tested", "positive", "tpr"),
    [
        # RDT 100 / 500 = 20 %; microscopy 120 / 1000 = 12 %.
        ("rdt", "sum", "rdt", 500, 100, 20.0),
        ("microscopy", "sum", "microscopy", 1000, 120, 12.0),
        # Pooled events: 220 / 1500 = 14.666... -> 14.67 %.
        ("both", "sum", "both", 1500, 220, 14.67),
        # Legacy rule: max tested 1000, max positive 120 (both microscopy) = 12 %,
        # not the 20 % beside 100 / 1000 of the inconsistent all-ages variant.
        ("both", "max", "both_max", 1000, 120, 12.0),
    ],
)
def test_each_method_on_the_500_1000_row(
    method: str, combine: str, label: str, tested: int, positive: int, tpr: float
) -> None:
    row = ward_table(
        table([ROW_500_1000]), Selection(test_method=method, combine=combine)
    ).iloc[0]
    assert (row["Tested"], row["Positive"], row["TPR"]) == (tested, positive, tpr)
    assert row["TPR"] == round(100 * row["Positive"] / row["Tested"], 2)
    assert row["Test_Method"] == label
    assert (row["RDT_Tested"], row["RDT_Positive"], row["RDT_TPR"]) == (500, 100, 20.0)
    assert (row["Microscopy_TPR"], row["Flags"]) == (12.0, "")


def test_legacy_rule_flags_rows_whose_maxima_come_from_two_methods() -> None:
    # Row 1: RDT 100 / 10, microscopy 50 / 40 -> 100 tested (RDT), 40 positive
    # (microscopy): mixed. Row 2: the 500 / 1000 row, both maxima microscopy.
    mixed = {
        "ward": "Afon",
        "period": "2024-02",
        "rdt_tested_u5": 100,
        "rdt_positive_u5": 10,
        "microscopy_tested_u5": 50,
        "microscopy_positive_u5": 40,
    }
    t = table([ROW_500_1000, mixed])
    row = ward_table(t, Selection(test_method="both", combine="max")).iloc[0]
    # 1000 + 100 tested, 120 + 40 positive: 160 / 1100 = 14.545... -> 14.55 %.
    assert (row["Tested"], row["Positive"], row["TPR"]) == (1100, 160, 14.55)
    assert row["Flags"] == "MAX_MIXED:1"
    assert (
        "MAX_MIXED" not in ward_table(t, Selection(test_method="both")).iloc[0]["Flags"]
    )


def _abia() -> pd.DataFrame:
    # Ngwa: one facility reports 218 tested and 1,230 positive (impossible), a
    # second 100 / 40. Umuike: 50 / 20 in one month, nothing in the next.
    return table(
        [
            {
                "state": "Abia",
                "lga": "Obingwa",
                "ward": "Ngwa 1",
                "facility": "Health Centre A",
                "rdt_tested_u5": 218,
                "rdt_positive_u5": 1230,
            },
            {
                "state": "Abia",
                "lga": "Obingwa",
                "ward": "Ngwa 1",
                "facility": "Health Centre B",
                "rdt_tested_u5": 100,
                "rdt_positive_u5": 40,
            },
            {
                "state": "Abia",
                "lga": "Obingwa",
                "ward": "Umuike",
                "facility": "Clinic",
                "rdt_tested_u5": 50,
                "rdt_positive_u5": 20,
            },
            {
                "state": "Abia",
                "lga": "Obingwa",
                "ward": "Umuike",
                "facility": "Clinic",
                "period": "2024-02",
            },
        ]
    )


def test_impossible_facility_is_left_out_flagged_and_listed() -> None:
    tables = compute(_abia(), Selection(test_method="rdt"))
    ward = tables["ward"].set_index("WardName")
    ngwa = ward.loc["Ngwa 1"]
    # Only facility B counts: 40 / 100.
    assert (ngwa["Tested"], ngwa["Positive"], ngwa["TPR"]) == (100, 40, 40.0)
    assert ngwa["Flags"] == "POS_GT_TESTED:1"
    assert (ngwa["Facilities"], ngwa["Facilities_Reporting"]) == (2, 2)
    assert (ngwa["Rows_Used"], ngwa["Rows_Excluded"]) == (1, 1)
    # Umuike: two rows, one with a tested count: 50 % complete, 20 / 50 = 40 %.
    umuike = ward.loc["Umuike"]
    assert (umuike["Rows_Used"], umuike["Completeness"]) == (1, 50.0)
    assert umuike["Flags"] == ""
    listed = tables["impossible"]
    assert len(listed) == 1
    first = listed.iloc[0]
    assert (first["WardName"], first["Facility"], first["Method"]) == (
        "Ngwa 1",
        "Health Centre A",
        "rdt",
    )
    assert (first["Tested"], first["Positive"], bool(first["Included"])) == (
        218,
        1230,
        False,
    )
    quality = measures(tables)
    assert quality["Pairs with positive > tested"] == 1
    assert quality["Rows excluded (a pair with positive > tested)"] == 1
    assert quality["Facility-month rows"] == 4
    # 3 of 4 rows carry a tested count.
    assert quality["Completeness (%)"] == 75.0
    # The LGA pools the counted pairs: (40 + 20) / (100 + 50) = 40 %.
    lga = tables["lga"].iloc[0]
    assert (lga["Tested"], lga["Positive"], lga["TPR"]) == (150, 60, 40.0)
    assert (lga["Rows_Excluded"], lga["Completeness"]) == (1, 75.0)


def test_including_impossible_pairs_says_so() -> None:
    tables = compute(_abia(), Selection(test_method="rdt", include_impossible=True))
    ngwa = tables["ward"].set_index("WardName").loc["Ngwa 1"]
    # (1230 + 40) / (218 + 100) = 1270 / 318 = 399.371... -> 399.37 %.
    assert (ngwa["Tested"], ngwa["Positive"], ngwa["TPR"]) == (318, 1270, 399.37)
    assert ngwa["Flags"] == "POS_GT_TESTED_INCLUDED:1;TPR_GT_50"
    assert ngwa["Rows_Excluded"] == 0
    assert bool(tables["impossible"].iloc[0]["Included"]) is True
    quality = measures(tables)
    assert quality["Pairs with positive > tested are"] == "included, as asked"
    alone = ward_table(
        _abia().iloc[:1], Selection(test_method="rdt", include_impossible=True)
    )
    # 1230 / 218 = 564.220... -> 564.22 %, as the national export shows.
    assert alone.iloc[0]["TPR"] == 564.22


def test_the_impossible_facility_alone_leaves_an_empty_rate() -> None:
    ward = ward_table(_abia().iloc[:1], Selection(test_method="rdt")).iloc[0]
    assert ward["Tested"] == 0 and math.isnan(ward["TPR"])
    assert ward["Flags"] == "NO_TESTS;POS_GT_TESTED:1"


def test_tested_above_persons_with_fever_is_flagged_not_dropped() -> None:
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 30, "rdt_positive_u5": 12},
            {
                "ward": "Afon",
                "period": "2024-02",
                "rdt_tested_u5": 10,
                "rdt_positive_u5": 3,
            },
        ]
    )
    t["fever_u5"] = [25.0, 10.0]  # 30 tested of 25 with fever; 10 of 10 is fine
    row = ward_table(t, Selection(test_method="rdt")).iloc[0]
    assert (row["Tested"], row["Positive"], row["TPR"]) == (40, 15, 37.5)
    assert row["Flags"] == "TESTED_GT_FEVER:1"


def test_low_completeness_and_columns_in_contract_order() -> None:
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 40, "rdt_positive_u5": 10},
            {"ward": "Afon", "period": "2024-02", "rdt_positive_o5": 1},
            {"ward": "Afon", "period": "2024-03"},
        ]
    )
    ward = ward_table(t, Selection(test_method="rdt"), outpatient=True)
    assert list(ward.columns) == [
        *WARD_COLUMNS,
        "Facilities_Reporting",
        "Rows_Used",
        "Rows_Excluded",
        "Completeness",
        "Outpatient_Positive",
        "Outpatient_Attendance",
        "Outpatient_Positivity",
    ]
    # One row of three has a u5 tested count: 33.33 %.
    assert ward.iloc[0]["Completeness"] == 33.33
    assert ward.iloc[0]["Flags"] == "LOW_COMPLETENESS"


def test_outpatient_indicator_uses_rows_with_attendance_only() -> None:
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 40, "rdt_positive_u5": 30},
            {
                "ward": "Afon",
                "period": "2024-02",
                "rdt_tested_u5": 60,
                "rdt_positive_u5": 45,
            },
        ]
    )
    t["outpatient"] = [300.0, float("nan")]
    row = ward_table(t, Selection(test_method="rdt"), outpatient=True).iloc[0]
    # TPR over both rows: 75 / 100; the indicator over the row with attendance:
    # 30 positives per 300 outpatients = 10 per 100.
    assert (row["TPR"], row["Outpatient_Positivity"]) == (75.0, 10.0)
    assert (row["Outpatient_Positive"], row["Outpatient_Attendance"]) == (30, 300)


def test_national_view_keeps_every_state_and_pools_each() -> None:
    t = table(
        [
            {"state": "Kwara", "ward": "Afon", "rdt_tested_u5": 100,
             "rdt_positive_u5": 80},
            {"state": "Osun", "lga": "Iwo", "ward": "Oke", "rdt_tested_u5": 1000,
             "rdt_positive_u5": 500},
        ]
    )  # fmt: skip
    tables = compute(t, Selection(state="all", test_method="rdt"))
    assert list(tables["ward"]["State"]) == ["Kwara", "Osun"]
    assert list(tables["state"]["TPR"]) == [80.0, 50.0]
    assert list(tables["lga"]["LGA"]) == ["Asa", "Iwo"]


@pytest.mark.parametrize(
    ("method", "combine", "age"),
    [("both", "sum", "all"), ("both", "max", "u5"), ("microscopy", "sum", "pw")],
)
def test_every_reported_rate_is_its_own_positives_over_its_own_tests(
    method: str, combine: str, age: str
) -> None:
    from tests.conftest import SAMPLE_A
    from tpr_widgets.ingest import ingest

    canonical = ingest(SAMPLE_A.read_bytes(), SAMPLE_A.name).table
    selection = Selection(
        state="all", age_group=age, test_method=method, combine=combine
    )
    tables = compute(canonical, selection)
    pairs = [("TPR", "Positive", "Tested"), ("RDT_TPR", "RDT_Positive", "RDT_Tested")]
    pairs.append(("Microscopy_TPR", "Microscopy_Positive", "Microscopy_Tested"))
    for name in ("ward", "lga", "state", "period"):
        frame = tables[name]
        for rate, positive, tested in pairs:
            with_tests = frame[tested] > 0
            want = (100 * frame[positive] / frame[tested])[with_tests].round(2)
            assert (frame.loc[with_tests, rate] - want).abs().max() < 0.006, name
            assert frame.loc[~with_tests, rate].isna().all(), name
    # The LGA and state tables add up to the ward table.
    for name in ("lga", "state"):
        assert tables[name]["Tested"].sum() == tables["ward"]["Tested"].sum()
        assert tables[name]["Positive"].sum() == tables["ward"]["Positive"].sum()
