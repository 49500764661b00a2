"""Every layout and header quirk of real exports, with ward TPRs worked by hand.

Each test builds its file in code (openpyxl for .xlsx, xlwt for a real BIFF8
.xls, plain text for CSV), reads it through the product, and compares the
summary and the ward TPRs with figures computed in the test's comments.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.reference import indicator
from tpr_widgets.errors import InputError
from tpr_widgets.ingest import ingest, ingest_many
from tpr_widgets.workflow import Workflow

T_U5 = indicator("rdt", "tested", "u5")
P_U5 = indicator("rdt", "positive", "u5")
MT_U5 = indicator("microscopy", "tested", "u5")
MP_U5 = indicator("microscopy", "positive", "u5")


def xlsx(rows: list[list[Any]], sheet: str = "Sheet1") -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls(rows: list[list[Any]], sheet: str = "Sheet 1") -> bytes:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ward_tprs(wf: Workflow) -> dict[str, str]:
    ward = wf.result
    assert ward is not None
    return {
        str(w): ("" if t != t else f"{t:.2f}")
        for w, t in zip(ward["WardName"], ward["TPR"], strict=True)
    }


def run_u5_rdt(wf: Workflow, level: str = "all") -> dict[str, str]:
    for stage, value in (
        ("state", None),
        ("facility_level", level),
        ("age_group", "u5"),
        ("test_method", "rdt"),
        ("period", "all"),
    ):
        if wf.stage == stage:
            wf.select(value if value is not None else wf.options()[0].value)
    wf.select("keep")
    return ward_tprs(wf)


def kwara_b_prime_rows() -> list[list[Any]]:
    """Format B' (Kwara state export): blank first row, `0me` headers, `Ward`,
    `Facility level` in mixed case, integer years, duplicate u5 RDT columns."""
    header = [
        "orgunitlevel1", "orgunitlevel2", "orgunitlevel3", "Ward",
        "organisationunit0me", "Facility level", "period0me",
        T_U5, P_U5, T_U5, P_U5,
    ]  # fmt: skip
    geo = ["ng Federal Government", "kw Kwara State", "kw Asa Local Government Area"]
    return [
        [None] * len(header),
        header,
        # 2020 in the first copy, 2021 in the second: complementary, summed.
        [*geo, "kw Afon Ward", "kw Afon PHC", "primary", 2020, 100, 40, None, None],
        [*geo, "kw Afon Ward", "kw Afon PHC", "primary", 2021, 0, 0, 50, 30],
        [*geo, "kw Afon Ward", "kw Gen Hosp", "Secondary", 2021, None, None, 20, 5],
        [*geo, "kw Oja Ward", "kw Oja PHC", "PHC", 2021, None, None, 10, 9],
        [*geo, "Unknown", "kw Lost PHC", "primary", 2021, None, None, 7, 7],
    ]


def test_format_b_prime_xlsx_kwara_quirks(tmp_path: Path) -> None:
    path = tmp_path / "Kwara TPR data 2020 - 2025.xlsx"
    path.write_bytes(xlsx(kwara_b_prime_rows(), sheet="Sheet 1"))
    wf = Workflow.new(tmp_path / "store")
    wf.load_file(path)
    summary = wf.summary
    assert (summary["layout"], summary["sheet"], summary["header_row"]) == (
        "dhis2_state",
        "Sheet 1",
        2,
    )
    assert summary["columns"]["facility"] == "organisationunit0me"
    assert summary["columns"]["period"] == "period0me"
    assert summary["rows_without_ward"] == 1
    assert summary["periods"]["values"] == ["2020", "2021"]
    assert any("summed" in note for note in summary["notes"])
    # Afon: 100/40 + (0+50)/(0+30) + 20/5 = 170 tested, 75 positive -> 44.12 %.
    # Oja: 10/9 -> 90.00 %. The Unknown ward's 7/7 is left out.
    assert run_u5_rdt(wf) == {"Afon": "44.12", "Oja": "90.00"}
    # Primary (PHC is a synonym): Afon 150/70 -> 46.67 %, Oja 90.00 %.
    wf.go_back("facility_level")
    assert run_u5_rdt(wf, "primary") == {"Afon": "46.67", "Oja": "90.00"}
    # The raw spellings stay beside the clean names.
    assert set(wf.table["ward_raw"]) == {"kw Afon Ward", "kw Oja Ward"}


def test_format_b_prime_as_real_xls(tmp_path: Path) -> None:
    rows = kwara_b_prime_rows()
    rows[0] = ["Kwara TPR export"]  # a title row instead of a blank one
    path = tmp_path / "kwara.xls"
    path.write_bytes(xls(rows))
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # a real OLE2 / BIFF file
    wf = Workflow.new(tmp_path / "store")
    wf.load_file(path)
    assert (wf.summary["format"], wf.summary["header_row"]) == ("xls", 2)
    assert run_u5_rdt(wf) == {"Afon": "44.12", "Oja": "90.00"}


KW_AFON = ["kw Kwara State", "kw Asa LGA", "kw Afon Ward"]


def test_identical_duplicate_columns_are_dropped_not_doubled() -> None:
    header = ["orgunitlevel2", "orgunitlevel3", "orgunitlevel4", "orgunitlevel5",
              "periodname", T_U5, P_U5, T_U5 + ".1", P_U5]  # fmt: skip
    rows = [
        header,
        [*KW_AFON, "kw A", "2024-01", 10, 4, 10, 4],
        [*KW_AFON, "kw B", "2024-01", None, None, None, None],
    ]  # fmt: skip
    result = ingest(xlsx(rows), "b.xlsx")
    tested = result.table["rdt_tested_u5"].tolist()
    assert tested[0] == 10.0 and tested[1] != tested[1]
    assert result.table["rdt_positive_u5"].tolist()[0] == 4.0
    assert any("identical" in note for note in result.summary["notes"])


def test_dotted_names_without_a_base_are_left_alone() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", "version_1.1",
              T_U5, P_U5]  # fmt: skip
    rows = [header, ["Kwara", "Asa", "Afon", "A", "2024-01", "x", 10, 4]]
    result = ingest(xlsx(rows), "x.xlsx")
    assert "version_1.1" not in result.columns.values()
    assert result.table["rdt_tested_u5"].tolist() == [10.0]


@pytest.mark.parametrize(
    "ge",
    ["≥", "â‰¥", "Ã¢â€°Â¥", ">=", ">"],
    ids=["ge", "cp1252", "double", "ascii", "gt"],
)
def test_header_variants_of_the_five_and_over_group(ge: str) -> None:
    o5_t = f"Persons presenting with fever & tested by RDT  {ge}5yrs (excl PW)"
    o5_p = f"Persons tested positive for malaria by RDT {ge}5yrs (excl PW)"
    pw_t = "Persons presenting with fever  and  tested by RDT Preg Women (PW)"
    header = ["State", "LGA", "Ward", "Health Facility", "periodname",
              T_U5, P_U5, o5_t, o5_p, pw_t]  # fmt: skip
    rows = [header, ["Kwara", "Asa", "Afon", "A", "2024-01", 10, 2, 20, 8, 5]]
    result = ingest(xlsx(rows), "x.xlsx")
    assert result.columns["rdt_tested_o5"] == o5_t
    assert result.columns["rdt_positive_o5"] == o5_p
    assert result.columns["rdt_tested_pw"] == pw_t
    row = result.table.iloc[0]
    # Each group keeps its own count: nothing absorbed by another group.
    assert (row["rdt_tested_u5"], row["rdt_tested_o5"], row["rdt_tested_pw"]) == (
        10.0,
        20.0,
        5.0,
    )
    assert (row["rdt_positive_u5"], row["rdt_positive_o5"]) == (2.0, 8.0)


def cleaned_csv_text() -> str:
    return (
        "State,LGA,WardName,HealthFacility,FacilityLevel,periodname,"
        f"{T_U5},{P_U5}\n"
        "Niger State,Bosso,Maikunkele,PHC Maikunkele,Primary Health Facility,"
        "January 2024,40,30\n"
        "Niger State,Bosso,Maikunkele,Gen Hosp Bosso,General Hospital,"
        "January 2024,60,15\n"
        "Niger State,Chanchaga,Tudun Wada,PHC Tudun Wada,primary,January 2024,25,5\n"
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_hand_cleaned_csv_in_common_encodings(tmp_path: Path, encoding: str) -> None:
    text = cleaned_csv_text().replace("Tudun Wada", "Tudun Wadà")
    path = tmp_path / "niger_tpr_cleaned.csv"
    path.write_bytes(text.encode(encoding))
    wf = Workflow.new(tmp_path / "store")
    wf.load_file(path)
    assert wf.summary["layout"] == "cleaned_csv"
    # Maikunkele: (30 + 15) / (40 + 60) = 45.00 %; Tudun Wadà: 5/25 = 20.00 %.
    assert run_u5_rdt(wf) == {"Maikunkele": "45.00", "Tudun Wadà": "20.00"}
    # Secondary via the synonym "General Hospital": 15/60 = 25.00 %.
    wf.go_back("facility_level")
    assert run_u5_rdt(wf, "secondary") == {"Maikunkele": "25.00"}


def test_state_names_and_every_fct_spelling() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    spellings = ["fc Federal Capital Territory", "FCT", "Abuja", "FCT Abuja",
                 "federal-capital-territory", "Nassarawa State",
                 "KANO STATE"]  # fmt: skip
    rows = [header] + [
        [state, "AMAC", f"W{i}", "F", "2024-01", 1, 1]
        for i, state in enumerate(spellings)
    ]
    states = list(ingest(xlsx(rows), "x.xlsx").table["state"])
    assert states == ["Federal Capital Territory"] * 5 + ["Nasarawa", "Kano"]


def test_prefix_suffix_and_lga_tag_rules() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    rows = [
        header,
        ["ab Abia State", "ab Ukwa West Local Government Area", "ab Oza-Ukwu Ward II",
         "ab Clinic", "2024-01", 1, 1],
        ["ad Adamawa State", "ad Mayo-Belwa Local Govt. Area",
         "ad Ribadu Ward (Mayo-Belwa)", "ad PHC", "2024-01", 1, 1],
        ["ad Adamawa State", "ad Yola North L.G.A", "ad Ribadu Ward (Yola North LGA)",
         "ad PHC", "2024-01", 1, 1],
        ["ab Abia State", "ab Arochukwu LGA", "ab Arochukwu Ward 4", "kw Not a code",
         "2024-01", 1, 1],
    ]  # fmt: skip
    table = ingest(xlsx(rows), "x.xlsx").table
    assert list(table["lga"]) == ["Ukwa West", "Mayo-Belwa", "Yola North", "Arochukwu"]
    assert list(table["ward"]) == [
        "Oza-Ukwu II",
        "Ribadu",  # the tag names the row's own LGA
        "Ribadu",
        "Arochukwu 4",
    ]
    # Only the row's own state code is a prefix: "kw" in an Abia row stays.
    assert list(table["facility"]) == ["Clinic", "PHC", "PHC", "kw Not a code"]


def test_several_files_merge_and_repeated_rows_count_once(tmp_path: Path) -> None:
    header = ["orgunitlevel2", "orgunitlevel3", "orgunitlevel4", "orgunitlevel5",
              "periodname", "periodcode", T_U5, P_U5]  # fmt: skip
    kw = ["kw Kwara State", "kw Asa Local Government Area", "kw Afon Ward", "kw A"]
    kn = ["kn Kano State", "kn Dala Local Government Area", "kn Adakawa Ward", "kn B"]
    first = [header, [*kw, "January 2024", 202401, 10, 5],
             [*kw, "February 2024", 202402, 30, 3]]  # fmt: skip
    second = [header, [*kw, "February 2024", 202402, 30, 3],  # repeated
              [*kn, "January 2024", 202401, 8, 6]]  # fmt: skip
    paths = []
    for name, rows in (("kw_2024.xlsx", first), ("kn_2024.xlsx", second)):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(xlsx(rows))
    wf = Workflow.new(tmp_path / "store")
    wf.load_files(paths)
    summary = wf.summary
    assert summary["records"] == 3
    assert summary["repeated_rows_dropped"] == 1
    assert set(summary["states"]) == {"Kano", "Kwara"}
    assert [f["file"] for f in summary["files"]] == ["kw_2024.xlsx", "kn_2024.xlsx"]
    wf.select("Kwara")
    # Afon: (5 + 3) / (10 + 30) = 20.00 %; the repeated February row once.
    assert run_u5_rdt(wf) == {"Afon": "20.00"}


def test_files_that_disagree_on_one_row_are_refused() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    one = xlsx([header, ["Kwara", "Asa", "Afon", "A", "2024-01", 10, 5]])
    two = xlsx([header, ["Kwara", "Asa", "Afon", "A", "2024-01", 12, 5]])
    with pytest.raises(InputError, match="disagree"):
        ingest_many([(one, "a.xlsx"), (two, "b.xlsx")])


def test_a_row_repeated_within_one_file_counts_once(tmp_path: Path) -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    rows = [
        header,
        ["Kwara", "Asa", "Afon", "HF1", "2024-01", 10, 2],
        ["Kwara", "Asa", "Afon", "HF1", "2024-01", 10, 2],  # an exact copy
        ["Kwara", "Asa", "Afon", "HF2", "2024-01", 30, 9],
    ]
    path = tmp_path / "copied_row.xlsx"
    path.write_bytes(xlsx(rows))
    wf = Workflow.new(tmp_path / "store")
    wf.load_file(path)
    summary = wf.summary
    assert summary["records"] == 2 and summary["repeated_rows_dropped"] == 1
    assert any(
        "repeat an earlier row of the file exactly" in n for n in summary["notes"]
    )
    # Afon: (2 + 9) / (10 + 30) = 27.50 %, the copied row once.
    assert run_u5_rdt(wf) == {"Afon": "27.50"}


def test_one_facility_period_with_two_different_rows_is_added_with_a_note() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    rows = [
        header,
        ["Kwara", "Asa", "Afon", "PHC", "2024-01", 10, 2],
        ["Kwara", "Asa", "Afon", "PHC", "2024-01", 6, 3],
    ]
    result = ingest(xlsx(rows), "x.xlsx")
    assert result.summary["records"] == 2
    assert result.summary["repeated_rows_dropped"] == 0
    notes = [n for n in result.summary["notes"] if "different counts" in n]
    assert len(notes) == 1 and notes[0].startswith("1 facility-periods")
    assert "'PHC' in ward 'Afon', 2024-01" in notes[0]
    # Both rows stay: 16 tested, 5 positive in the ward.
    assert list(result.table["rdt_tested_u5"]) == [10.0, 6.0]
    # The same two rows, split over two files, are a disagreement between files.
    one, two = xlsx(rows[:2]), xlsx([header, rows[2]])
    with pytest.raises(InputError, match="disagree"):
        ingest_many([(one, "a.xlsx"), (two, "b.xlsx")])
    # Within one file of several, they are that file's business, not a clash.
    other = xlsx([header, ["Kwara", "Asa", "Oja", "B", "2024-01", 4, 1]])
    merged = ingest_many([(xlsx(rows), "a.xlsx"), (other, "b.xlsx")])
    assert merged.summary["records"] == 3


def test_rows_of_a_file_without_facility_names_are_never_merged() -> None:
    header = ["State", "LGA", "Ward", "periodname", T_U5, P_U5]
    rows = [
        header,
        ["Kwara", "Asa", "Afon", "2024-01", 10, 2],
        ["Kwara", "Asa", "Afon", "2024-01", 10, 2],  # two unnamed facilities
    ]
    result = ingest(xlsx(rows), "x.xlsx")
    assert result.summary["records"] == 2
    assert result.summary["repeated_rows_dropped"] == 0


def test_adding_an_unrelated_file_changes_no_ward() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    rows = [
        header,
        ["Kwara", "Asa", "Afon", None, "2024-01", 5, 1],  # two facilities without
        ["Kwara", "Asa", "Afon", None, "2024-01", 5, 1],  # a name, same counts
        ["Kwara", "Asa", "Afon", "HF1", "2024-01", 10, 2],
        ["Kwara", "Asa", "Afon", "HF1", "2024-01", 8, 4],
    ]
    other = [header, ["Kwara", "Asa", "Ballah", "HF7", "2024-01", 3, 1]]
    alone = ingest(xlsx(rows), "a.xlsx").table
    both = ingest_many([(xlsx(rows), "a.xlsx"), (xlsx(other), "c.xlsx")])

    def afon(table: Any) -> tuple[float, float]:
        ward = table[table["ward"] == "Afon"]
        return ward["rdt_tested_u5"].sum(), ward["rdt_positive_u5"].sum()

    # Afon: 5 + 5 + 10 + 8 = 28 tested, 1 + 1 + 2 + 4 = 8 positive, either way.
    assert afon(alone) == afon(both.table) == (28.0, 8.0)
    assert both.summary["repeated_rows_dropped"] == 0
    assert not any("more than one file" in n for n in both.summary["notes"])
    # Unnamed rows of one place and period in two files are not a clash either.
    split = ingest_many([(xlsx(rows[:2]), "a.xlsx"), (xlsx([header, rows[4]]), "b")])
    assert split.summary["records"] == 2


def test_files_without_facility_names_are_merged_row_for_row() -> None:
    header = ["State", "LGA", "Ward", "periodname", T_U5, P_U5]
    one = xlsx([header, ["Kwara", "Asa", "Afon", "2024-01", 10, 2]])
    two = xlsx([header, ["Kwara", "Asa", "Afon", "2024-01", 10, 2]])
    merged = ingest_many([(one, "2024a.xlsx"), (two, "2024b.xlsx")])
    assert merged.summary["records"] == 2
    assert merged.table["rdt_tested_u5"].sum() == 20.0


def test_a_copy_must_agree_on_the_facility_level_too() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "FacilityLevel",
              "periodname", T_U5, P_U5]  # fmt: skip
    rows = [
        header,
        ["Kwara", "Asa", "Afon", "PHC", "Primary", "2024-01", 10, 2],
        ["Kwara", "Asa", "Afon", "PHC", "Secondary", "2024-01", 10, 2],
    ]
    result = ingest(xlsx(rows), "x.xlsx")
    assert result.summary["records"] == 2
    assert result.summary["repeated_rows_dropped"] == 0
    assert any("different counts or levels" in n for n in result.summary["notes"])


def test_no_state_and_no_lga_column_with_named_state(tmp_path: Path) -> None:
    header = ["Ward", "Facility", "period", T_U5, P_U5]
    rows = [header, ["Afon", "A", "2024-01", 10, 5], ["Oja", "B", "2024-01", 4, 1]]
    path = tmp_path / "no_state.xlsx"
    path.write_bytes(xlsx(rows))
    wf = Workflow.new(tmp_path / "store")
    with pytest.raises(InputError, match="no state column"):
        wf.load_file(path)
    assert wf.stage == "upload"
    wf.load_file(path, state="kwara")
    assert wf.summary["states"] == {
        "Kwara": {"lgas": 1, "wards": 2, "facilities": 2, "records": 2}
    }
    # Afon 5/10 = 50.00 %, Oja 1/4 = 25.00 %.
    assert run_u5_rdt(wf) == {"Afon": "50.00", "Oja": "25.00"}


def test_mapping_is_checkpointed_and_reuses_the_header_row(tmp_path: Path) -> None:
    header = ["Province", "LGA", "Ward", "HF", "periodname", "Tests u5", "Pos u5",
              T_U5, P_U5]  # fmt: skip
    rows = [["Report title"], [None], header,
            ["Kwara", "Asa", "Afon", "PHC", "2024-01", 10, 4, 99, 1]]  # fmt: skip
    path = tmp_path / "mapped.xlsx"
    path.write_bytes(xlsx(rows))
    wf = Workflow.new(tmp_path / "store")
    with pytest.raises(InputError, match="no state column"):
        wf.load_file(path)
    wf.load_file(path, state="Kwara")
    assert wf.summary["header_row"] == 3
    # The file's own u5 RDT columns are the wrong ones; the user points elsewhere.
    wf.map_column("rdt_tested_u5", "Tests u5")
    wf.map_column("rdt_positive_u5", "Pos u5")
    resumed = Workflow.resume(tmp_path / "store", wf.session_id)
    assert resumed.columns["rdt_tested_u5"] == "Tests u5"
    assert resumed.summary["header_row"] == 3
    assert resumed._state["reads"] == [{"header_row": 3, "sheet": "Sheet1"}]
    # Afon: 4/10 = 40.00 % with the mapped columns (not 1/99).
    assert run_u5_rdt(resumed) == {"Afon": "40.00"}


def test_level_named_column_holding_lga_names_is_refused_as_level() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "Level", "periodname",
              T_U5, P_U5]  # fmt: skip
    rows = [header, ["Kwara", "Asa", "Afon", "A", "Asa", "2024-01", 10, 5],
            ["Kwara", "Oyun", "Ipee", "B", "Oyun", "2024-01", 10, 5]]  # fmt: skip
    result = ingest(xlsx(rows), "x.xlsx")
    assert "facility_level" not in result.columns
    assert any("not levels" in note for note in result.summary["notes"])


def test_positive_columns_never_taken_for_tested() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname",
              "Persons presenting with fever & tested positive by RDT <5yrs",
              "Total RDT Tested (<5)"]  # fmt: skip
    rows = [header, ["Kwara", "Asa", "Afon", "A", "2024-01", 3, 12]]
    result = ingest(xlsx(rows), "x.xlsx")
    assert result.columns["rdt_positive_u5"] == header[5]
    assert result.columns["rdt_tested_u5"] == header[6]


def test_text_far_down_a_count_column_is_found() -> None:
    # Type guessing from the first rows would read this word as an empty cell.
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
    rows = [header] + [
        ["Kwara", "Asa", "Afon", f"F{i}", "2024-01", 10, 5] for i in range(1500)
    ]
    rows[1400][5] = "ten"  # list index 1400 is spreadsheet row 1401
    with pytest.raises(InputError, match=r"holds text such as 'ten' \(cell F1401\)"):
        ingest(xlsx(rows), "x.xlsx")


def test_code_number_prefixes_outpatient_and_fever_columns() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5,
              "Total Outpatient attendance", "General Attendance",
              "Persons with fever <5yrs"]  # fmt: skip
    rows = [header, ["ad Adamawa State", "ad1501 Demsa", "ad150101 Bille Ward",
                     "ad PHC", "2024-01", 10, 5, 40, 90, 12]]  # fmt: skip
    result = ingest(xlsx(rows), "x.xlsx")
    row = result.table.iloc[0]
    assert (row["lga"], row["ward"]) == ("Demsa", "Bille")
    assert result.columns["outpatient"] == "Total Outpatient attendance"
    assert result.columns["general_attendance"] == "General Attendance"
    assert result.columns["fever_u5"] == "Persons with fever <5yrs"
    assert (row["outpatient"], row["general_attendance"], row["fever_u5"]) == (
        40.0,
        90.0,
        12.0,
    )
    # The fever count is its own role, not a tested count.
    assert row["rdt_tested_u5"] == 10.0
