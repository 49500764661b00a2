"""The TPR rule on small canonical tables whose answers are worked out by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tpr_widgets.errors import InputError
from tpr_widgets.tpr import Selection, compute, ward_table
from tpr_widgets.vocab import COUNT_ROLES


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A canonical table from partial rows (absent counts are empty)."""
    frame = pd.DataFrame(rows)
    for column, default in (
        ("state", "Kwara"),
        ("lga", "Asa"),
        ("facility", "PHC"),
        ("facility_level", "primary"),
        ("ownership", "Public"),
        ("period", "2024-01"),
    ):
        if column not in frame:
            frame[column] = default
        frame[column] = frame[column].fillna(default).astype("category")
    for role in COUNT_ROLES:
        frame[role] = frame.get(role, pd.Series(np.nan, index=frame.index)).astype(
            float
        )
    periods = sorted(frame["period"].unique())
    frame["period"] = pd.Categorical(frame["period"], categories=periods, ordered=True)
    return frame


def test_both_pools_rdt_and_microscopy_and_drops_impossible_pairs() -> None:
    # Row 1: RDT 100 tested / 50 positive. Row 2: RDT 100 / 150 is impossible
    # and left out; microscopy 10 / 5 counts. Pooled: 110 / 55 = 50.00 %.
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 100, "rdt_positive_u5": 50},
            {
                "ward": "Afon",
                "period": "2024-02",
                "rdt_tested_u5": 100,
                "rdt_positive_u5": 150,
                "microscopy_tested_u5": 10,
                "microscopy_positive_u5": 5,
            },
        ]
    )
    row = ward_table(t, Selection(age_group="u5", test_method="both")).iloc[0]
    assert (row["Tested"], row["Positive"], row["TPR"]) == (110, 55, 50.0)
    assert (row["RDT_Tested"], row["RDT_Positive"], row["RDT_TPR"]) == (100, 50, 50.0)
    assert (row["Microscopy_Tested"], row["Microscopy_Positive"]) == (10, 5)
    assert row["Flags"] == "POS_GT_TESTED:1"


def test_methods_separately_and_rate_equals_reported_counts() -> None:
    # RDT 500 / 100 = 20 %, microscopy 1000 / 120 = 12 %, pooled 220 / 1500.
    t = table(
        [
            {
                "ward": "Afon",
                "rdt_tested_u5": 500,
                "rdt_positive_u5": 100,
                "microscopy_tested_u5": 1000,
                "microscopy_positive_u5": 120,
            }
        ]
    )
    rdt = ward_table(t, Selection(test_method="rdt")).iloc[0]
    mic = ward_table(t, Selection(test_method="microscopy")).iloc[0]
    both = ward_table(t, Selection(test_method="both")).iloc[0]
    assert (rdt["TPR"], rdt["Tested"], rdt["Positive"]) == (20.0, 500, 100)
    assert (mic["TPR"], mic["Tested"], mic["Positive"]) == (12.0, 1000, 120)
    assert (both["Tested"], both["Positive"]) == (1500, 220)
    assert both["TPR"] == round(100 * 220 / 1500, 2) == 14.67
    # The other method's figures are carried whatever the choice.
    assert rdt["Microscopy_TPR"] == 12.0 and mic["RDT_TPR"] == 20.0


def test_legacy_max_rule_takes_maxima_independently_per_row() -> None:
    # RDT 100 / 10, microscopy 50 / 40: max tested 100, max positive 40 -> 40 %.
    t = table(
        [
            {
                "ward": "Afon",
                "rdt_tested_u5": 100,
                "rdt_positive_u5": 10,
                "microscopy_tested_u5": 50,
                "microscopy_positive_u5": 40,
            }
        ]
    )
    row = ward_table(t, Selection(test_method="both", combine="max")).iloc[0]
    assert (row["Tested"], row["Positive"], row["TPR"]) == (100, 40, 40.0)
    assert row["Test_Method"] == "both_max"


def test_ward_without_tests_has_empty_rate_not_zero() -> None:
    # Afon: u5 20 / 5 = 25 %. Bode reports zeros for u5: no tests, empty rate.
    # Cede has only o5 counts: for u5 nothing was filled in at all.
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 20, "rdt_positive_u5": 5},
            {"ward": "Bode", "rdt_tested_u5": 0, "rdt_positive_u5": 0},
            {"ward": "Cede", "rdt_tested_o5": 40, "rdt_positive_o5": 10},
        ]
    )
    tables = compute(t, Selection(age_group="u5"))
    ward = tables["ward"].set_index("WardName")
    assert ward.loc["Afon", "TPR"] == 25.0
    assert math.isnan(ward.loc["Bode", "TPR"]) and math.isnan(ward.loc["Cede", "TPR"])
    assert ward.loc["Bode", "Tested"] == 0
    assert ward.loc["Bode", "Flags"] == "NO_TESTS"
    assert ward.loc["Cede", "Flags"] == "NO_DATA"
    assert ward.loc["Bode", "Facilities"] == 1
    assert ward.loc["Cede", "Completeness"] == 0.0
    # The LGA pools only what was tested: 5 / 20, one ward of three with tests.
    lga = tables["lga"].iloc[0]
    assert (lga["Wards"], lga["Wards_With_Tests"], lga["TPR"]) == (3, 1, 25.0)
    assert lga["Mean_Ward_TPR"] == 25.0
    few = ward_table(
        table([{"ward": "Afon", "rdt_tested_u5": 9, "rdt_positive_u5": 1}]),
        Selection(),
    )
    assert few.iloc[0]["Flags"] == "FEW_TESTS"


def test_empty_positive_beside_present_tested_reads_as_zero() -> None:
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 30, "rdt_positive_u5": 15},
            {"ward": "Afon", "period": "2024-02", "rdt_tested_u5": 30},
        ]
    )
    row = ward_table(t, Selection(test_method="rdt")).iloc[0]
    assert (row["Tested"], row["Positive"], row["TPR"]) == (60, 15, 25.0)


def test_all_ages_sums_the_three_groups_and_checks_each_pair() -> None:
    # u5 10/5, o5 20/10, pw 5/9 (impossible, left out): 30 / 15 = 50 %.
    t = table(
        [
            {
                "ward": "Afon",
                "rdt_tested_u5": 10,
                "rdt_positive_u5": 5,
                "rdt_tested_o5": 20,
                "rdt_positive_o5": 10,
                "rdt_tested_pw": 5,
                "rdt_positive_pw": 9,
            }
        ]
    )
    row = ward_table(t, Selection(age_group="all", test_method="rdt")).iloc[0]
    assert (row["Tested"], row["Positive"], row["TPR"]) == (30, 15, 50.0)
    assert "POS_GT_TESTED:1" in row["Flags"]
    # u5 alone is not touched by the pw pair.
    u5 = ward_table(t, Selection(age_group="u5", test_method="rdt")).iloc[0]
    assert (u5["Tested"], u5["Positive"], u5["Flags"]) == (10, 5, "")


def test_lga_and_state_pool_counts_not_rates() -> None:
    # Wards 100 / 80 and 1000 / 500: pooled 580 / 1100 = 52.73 %, while the mean
    # of the two ward rates would be 65 %.
    t = table(
        [
            {"ward": "Afon", "rdt_tested_u5": 100, "rdt_positive_u5": 80},
            {"ward": "Bode", "rdt_tested_u5": 1000, "rdt_positive_u5": 500},
        ]
    )
    tables = compute(t, Selection(test_method="rdt"))
    lga = tables["lga"].iloc[0]
    assert (lga["Tested"], lga["Positive"], lga["TPR"]) == (1100, 580, 52.73)
    assert lga["Mean_Ward_TPR"] == 65.0
    assert tables["state"].iloc[0]["TPR"] == 52.73
    assert tables["state"].iloc[0]["Mean_Ward_TPR"] == 65.0
    assert (tables["state"].iloc[0]["Tested"], tables["state"].iloc[0]["Wards"]) == (
        1100,
        2,
    )


def test_facilities_counted_by_ward_and_name() -> None:
    t = table(
        [
            {"ward": "Afon", "facility": "PHC", "rdt_tested_u5": 10},
            {"ward": "Afon", "facility": "PHC", "period": "2024-02"},
            {"ward": "Afon", "facility": "Clinic", "rdt_tested_u5": 10},
            {"ward": "Bode", "facility": "PHC", "rdt_tested_u5": 10},
        ]
    )
    ward = ward_table(t, Selection()).set_index("WardName")
    assert ward.loc["Afon", "Facilities"] == 2
    assert ward.loc["Bode", "Facilities"] == 1


def test_filters_and_sorting() -> None:
    t = table(
        [
            {"state": "Osun", "lga": "Iwo", "ward": "Zango", "rdt_tested_u5": 10},
            {"state": "Kwara", "lga": "Asa", "ward": "Bode", "rdt_tested_u5": 10},
            {
                "state": "Kwara",
                "lga": "Asa",
                "ward": "Afon",
                "facility_level": "secondary",
                "period": "2023-05",
                "rdt_tested_u5": 10,
            },
        ]
    )
    ward = ward_table(t, Selection())
    assert list(ward["WardName"]) == ["Afon", "Bode", "Zango"]
    kwara = ward_table(t, Selection(state="Kwara", facility_level="primary"))
    assert list(kwara["WardName"]) == ["Bode"]
    in_2023 = ward_table(t, Selection(period="2023"))
    assert list(in_2023["WardName"]) == ["Afon"]
    ranged = ward_table(t, Selection(period="2023-06:2024-01"))
    assert list(ranged["WardName"]) == ["Bode", "Zango"]


def test_a_filter_that_matches_nothing_is_an_error_not_all_rows() -> None:
    t = table([{"ward": "Afon", "rdt_tested_u5": 10}])
    with pytest.raises(InputError, match="tertiary"):
        ward_table(t, Selection(facility_level="tertiary"))
    with pytest.raises(InputError, match="2019"):
        ward_table(t, Selection(period="2019"))
    with pytest.raises(InputError, match="Lagos"):
        ward_table(t, Selection(state="Lagos"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"age_group": "adults"},
        {"test_method": "pcr"},
        {"combine": "mean"},
        {"period": "2024-13x"},
        {"period": "2024-06:2024-01"},
        {"period": "2024:2024-06"},
        {"period": "2024-13"},
        {"test_method": "rdt", "combine": "max"},
    ],
)
def test_invalid_selection(kwargs: dict[str, str]) -> None:
    with pytest.raises(InputError):
        Selection(**kwargs)
