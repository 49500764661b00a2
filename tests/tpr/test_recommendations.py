"""Recommendations follow the programme's reasoning and show their figures."""

from __future__ import annotations

from tests.tpr.test_engine import table
from tpr_widgets import choices


def kwara() -> list[dict[str, object]]:
    # 8 primary rows and 2 secondary: primary holds 80 % of records. Every row
    # has u5 RDT counts; one row of ten has pw counts, one has microscopy.
    rows: list[dict[str, object]] = [
        {"ward": "Afon", "facility": f"PHC {i}", "rdt_tested_u5": 10,
         "rdt_positive_u5": 4}
        for i in range(8)
    ]  # fmt: skip
    rows += [
        {"ward": "Bode", "facility": "General Hospital", "facility_level": "secondary",
         "rdt_tested_u5": 20, "rdt_positive_u5": 5, "rdt_tested_pw": 4,
         "rdt_positive_pw": 1},
        {"ward": "Bode", "facility": "General Hospital", "facility_level": "secondary",
         "period": "2024-02", "rdt_tested_u5": 20, "rdt_positive_u5": 5,
         "microscopy_tested_u5": 5, "microscopy_positive_u5": 2},
    ]  # fmt: skip
    return rows


def test_levels_ages_and_methods_carry_reasons_and_data_warnings() -> None:
    t = table(kwara())
    levels = {o.value: o for o in choices.level_options(t, {"state": "Kwara"})}
    assert levels["primary"].recommended
    assert levels["primary"].figures["share_of_records"] == 0.8
    assert levels["primary"].note.startswith("recommended: 80 % of records")
    assert not levels["all"].recommended

    ages = {o.value: o for o in choices.age_options(t, {"state": "Kwara"})}
    assert [v for v, o in ages.items() if o.recommended] == ["u5"]
    assert "highest risk of severe malaria" in ages["u5"].note
    # pw: 1 row of 10 has a tested count: 10 %, below the 20 % mark.
    assert ages["pw"].figures["completeness"] == 0.1
    assert ages["pw"].note == "little data: tested counts in 10 % of rows"
    assert ages["o5"].note == "no tests recorded"

    selections = {"state": "Kwara", "age_group": "u5"}
    methods = {o.value: o for o in choices.method_options(t, selections)}
    assert methods["both"].recommended
    assert methods["microscopy"].note == "little data: tested counts in 10 % of rows"
    # Both: (8 x 4 + 5 + 5 + 2) / (8 x 10 + 20 + 20 + 5) = 44 / 125 = 35.2 %.
    assert methods["both"].figures["positivity"] == 35.2


def test_level_all_is_recommended_when_primary_does_not_dominate() -> None:
    rows = kwara()[:5] + [
        {**kwara()[8], "facility": f"GH {i}", "period": f"2024-0{i + 1}"}
        for i in range(5)
    ]
    levels = {o.value: o for o in choices.level_options(table(rows), {})}
    assert levels["all"].recommended and not levels["primary"].recommended
    assert (
        levels["all"].note
        == "recommended: primary facilities hold only 50 % of records"
    )


def test_period_stage_offers_all_years_and_half_year_ranges() -> None:
    from tests.tpr.test_periods import three_years

    offered = choices.period_options(table(three_years()), {"age_group": "u5"})
    values = [o.value for o in offered]
    # 2022 has rows in March and July: its halves are real ranges. 2023 and
    # 2024 have rows in one half only, which would repeat the year.
    assert values == [
        "all",
        "2022",
        "2022-01:2022-06",
        "2022-07:2022-12",
        "2023",
        "2024",
    ]
    assert offered[0].recommended and "trend" in offered[0].label
    half = offered[2]
    assert half.label == "January to June 2022"
    # Afon 50 tested / 10 positive in March 2022; Bode reported zeros.
    assert (half.figures["tests"], half.figures["positivity"]) == (50, 20.0)
