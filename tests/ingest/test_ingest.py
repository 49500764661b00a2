"""Ingest on small files built in code, one quirk at a time."""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import tpr_widgets
from tests.reference import indicator
from tpr_widgets.errors import InputError
from tpr_widgets.ingest import ingest, sandbox

GEO_A = ["State", "LGA", "Ward", "Health Faccility", "level", "ownership"]
PERIOD_A = ["periodname", "periodcode"]
U5 = [
    indicator("rdt", "tested", "u5"),
    indicator("rdt", "positive", "u5"),
    indicator("microscopy", "tested", "u5"),
    indicator("microscopy", "positive", "u5"),
]
O5 = [indicator("rdt", "tested", "o5"), indicator("rdt", "positive", "o5")]


def xlsx(rows: list[list[Any]], sheet: str = "raw", extra: list[str] = ()) -> bytes:  # type: ignore[assignment]
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    for name in extra:
        book.create_sheet(name).append(["a title", None])
    first.title = sheet
    for row in rows:
        first.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def format_a_rows() -> list[list[Any]]:
    header = GEO_A + PERIOD_A + U5 + O5
    kw = ["Kwara State", "kw Ilorin East Local Government Area"]
    return [
        header,
        [*kw, "kw Agbeyangi Ward", "kw PHC A", "Primary", "Public",
         "January 2024", 202401, 100, 50, None, None, 20, 10],
        [*kw, "kw Agbeyangi Ward", "kw PHC A", "Primary", "Public",
         "February 2024", 202402, 100, 150, 10, 5, 20, None],
        ["kw Kwara State", "kw Ilorin East Local Government Area",
         "kw Ribadu Ward (Ilorin East)", "kw Clinic B", "Secondary", "Private",
         "February 2024", 202402, 40, 10, None, None, None, None],
        ["Kwara State", "kw Asa Local Government Area", "kw Ribadu Ward (Ilorin East)",
         "kw Clinic C", "primary", "Public", "March 2024", 202403, 10, 1, None, None,
         None, None],
        [*kw, "Unknown", "kw PHC D", "Primary", "Public", "March 2024", 202403,
         5, 1, None, None, None, None],
        [None] * len(header),
        [None] * 8 + [255, 212, 10, 5, 40, 10],
    ]  # fmt: skip


def test_format_a_names_periods_roles_and_summary() -> None:
    result = ingest(xlsx(format_a_rows(), extra=["pivot"]), "a.xlsx")
    summary = result.summary
    assert (summary["layout"], summary["sheet"], summary["header_row"]) == (
        "nmep",
        "raw",
        1,
    )
    assert result.columns["rdt_tested_o5"] == O5[0]  # the mis-encoded header
    assert result.columns["facility"] == "Health Faccility"
    table = result.table
    assert list(table["ward"]) == [
        "Agbeyangi",
        "Agbeyangi",
        "Ribadu",
        "Ribadu (Ilorin East)",
    ]
    assert list(table["lga"]) == ["Ilorin East"] * 3 + ["Asa"]
    assert set(table["state"]) == {"Kwara"}
    assert list(table["facility"]) == ["PHC A", "PHC A", "Clinic B", "Clinic C"]
    assert list(table["facility_level"]) == [
        "primary",
        "primary",
        "secondary",
        "primary",
    ]
    assert list(table["period"]) == ["2024-01", "2024-02", "2024-02", "2024-03"]
    assert summary["records"] == 4
    assert summary["rows_without_ward"] == 1
    assert summary["totals_rows_dropped"] == 1
    assert summary["empty_rows_dropped"] == 1
    assert summary["states"] == {
        "Kwara": {"lgas": 2, "wards": 3, "facilities": 3, "records": 4}
    }
    assert summary["periods"] == {
        "first": "2024-01", "last": "2024-03", "count": 3,
        "values": ["2024-01", "2024-02", "2024-03"],
    }  # fmt: skip
    # u5 RDT tested present in 4/4 rows, microscopy in 1/4, o5 RDT 2/4, pw 0.
    assert summary["completeness"]["u5"] == {"rdt": 1.0, "microscopy": 0.25}
    assert summary["completeness"]["o5"] == {"rdt": 0.5, "microscopy": 0.0}
    assert summary["completeness"]["pw"] == {"rdt": 0.0, "microscopy": 0.0}
    assert any("totals row" in note for note in summary["notes"])


def test_header_row_below_blank_and_title_rows_is_found() -> None:
    rows = [[None] * 3, ["NMEP monthly export", None, None], *format_a_rows()]
    result = ingest(xlsx(rows), "titled.xlsx")
    assert result.summary["header_row"] == 3
    assert result.summary["records"] == 4


def test_format_b_dhis2_and_csv_in_cp1252() -> None:
    header = [
        "orgunitlevel1", "orgunitlevel2", "orgunitlevel3", "orgunitlevel4",
        "orgunitlevel5", "organisationunitname", "periodname",
        indicator("rdt", "tested", "o5", ">="),
        indicator("rdt", "positive", "o5", ">="),
    ]  # fmt: skip
    row = [
        "ng Federal Government", "kn Kano State", "kn Dala Local Government Area",
        "kn Adakawa Ward", "kn Clinique Thérèse", "kn Clinique Thérèse", "2024-01",
        "30", "12",
    ]  # fmt: skip
    text = ",".join(header) + "\n" + ",".join(row) + "\n"
    result = ingest(text.encode("cp1252"), "kano.csv")
    assert result.summary["layout"] == "dhis2"
    assert result.summary["format"] == "csv"
    table = result.table
    assert (table["state"][0], table["lga"][0], table["ward"][0]) == (
        "Kano", "Dala", "Adakawa",
    )  # fmt: skip
    assert table["facility"][0] == "Clinique Thérèse"
    assert (table["rdt_tested_o5"][0], table["rdt_positive_o5"][0]) == (30.0, 12.0)


def test_prefix_stripped_only_when_it_is_the_state_code() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", *U5[:2]]
    rows = [
        header,
        ["Kwara", "Asa", "kw Afon Ward", "kw PHC", "2024-01", 10, 5],
        ["Kwara", "Asa", "Ab Oja", "Ab PHC", "2024-01", 10, 5],
    ]
    wards = list(ingest(xlsx(rows, sheet="Sheet1"), "x.xlsx").table["ward"])
    assert wards == ["Afon", "Ab Oja"]


def test_state_spellings_are_canonicalised() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", *U5[:2]]
    rows = [header] + [
        [state, "X", "Y", f"F{n}", "2024-01", 1, 1]
        for n, state in enumerate(
            [
                "fc Federal Capital Territory",
                "FCT",
                "Nassarawa",
                "AKWA-IBOM STATE",
            ]
        )
    ]
    states = list(ingest(xlsx(rows), "x.xlsx").table["state"])
    assert states == [
        "Federal Capital Territory", "Federal Capital Territory", "Nasarawa",
        "Akwa Ibom",
    ]  # fmt: skip


def test_user_mapping_overrides_detection() -> None:
    header = ["Province", "LGA", "Ward", "HF", "periodname", "Tests u5", "Pos u5"]
    rows = [header, ["Kwara", "Asa", "Afon", "PHC", "2024-01", 10, 4]]
    with pytest.raises(InputError, match="No malaria test columns"):
        ingest(xlsx(rows), "x.xlsx")
    result = ingest(
        xlsx(rows),
        "x.xlsx",
        columns={
            "state": "Province",
            "facility": "HF",
            "rdt_tested_u5": "Tests u5",
            "rdt_positive_u5": "Pos u5",
        },
    )
    assert result.columns["rdt_positive_u5"] == "Pos u5"
    assert result.table["rdt_positive_u5"][0] == 4.0
    with pytest.raises(InputError, match="no column headed"):
        ingest(xlsx(rows), "x.xlsx", columns={"ward": "Ward name"})


def test_duplicate_count_columns_are_summed() -> None:
    header = [
        "State",
        "LGA",
        "Ward",
        "Health Facility",
        "periodname",
        U5[0],
        U5[1],
        U5[0],
    ]
    rows = [
        header,
        ["Kwara", "Asa", "Afon", "PHC", "2020-01", 10, 5, None],
        ["Kwara", "Asa", "Afon", "PHC", "2021-01", None, 7, 12],
        ["Kwara", "Asa", "Afon", "PHC", "2022-01", None, None, None],
    ]
    result = ingest(xlsx(rows), "x.xlsx")
    tested = list(result.table["rdt_tested_u5"])
    assert tested[:2] == [10.0, 12.0]
    assert tested[2] != tested[2]  # NaN only where every copy is empty
    assert any("summed" in note for note in result.summary["notes"])


@pytest.mark.parametrize(
    ("value", "needle"),
    [("twelve", "holds text such as 'twelve' (cell I3)"), (-4, "negative value")],
)
def test_bad_counts_are_named_with_their_cell(value: Any, needle: str) -> None:
    rows = format_a_rows()[:3]
    rows[2] = list(rows[2])
    rows[2][8] = value
    with pytest.raises(
        InputError, match=needle.replace("(", r"\(").replace(")", r"\)")
    ):
        ingest(xlsx(rows), "x.xlsx")


def test_level_named_column_with_lga_values_is_not_the_level() -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "level", "periodname", *U5[:2]]
    rows = [header, ["Kwara", "Asa", "Afon", "PHC", "Asa", "2024-01", 10, 5]]
    result = ingest(xlsx(rows), "x.xlsx")
    assert "facility_level" not in result.columns
    assert result.summary["has_facility_level"] is False


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02" * 100, "neither a spreadsheet"),
        (b"PK\x03\x04garbage", "damaged"),
        (_zip({"xl/workbook.xml": b"<x/>", "xl/vbaProject.bin": b"x"}), "macros"),
        (_zip({"xl/externalLinks/externalLink1.xml": b"<x/>"}), "external links"),
        (_zip({"xl/worksheets/sheet1.xml": b" " * 50_000_000}), "expand"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            "password",
        ),
        (b"Name,Age\nAda,4\n", "No sheet"),
    ],
)
def test_unusable_files_get_one_clear_error(data: bytes, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        ingest(data, "upload.xlsx")


def test_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TPR_WIDGETS_MAX_UPLOAD_MB", "1")
    with pytest.raises(InputError, match="above this app's limit of 1 MB"):
        ingest(b"x" * (1024 * 1024 + 1), "big.csv")


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (1e19, "above 10,000,000"),
        (100.7, "fractional"),
    ],
)
def test_implausible_counts_are_refused(value: Any, needle: str) -> None:
    rows = format_a_rows()[:3]
    rows[1] = list(rows[1])
    rows[1][8] = value
    with pytest.raises(InputError, match=needle):
        ingest(xlsx(rows), "x.xlsx")


@pytest.mark.parametrize(
    "ward", ["kw Unknown", "unknown ward", "kw Unknown Ward", "Ward", "kw Ward"]
)
def test_placeholder_wards_never_become_wards(ward: str) -> None:
    rows = format_a_rows()[:3]
    rows[2] = list(rows[2])
    rows[2][2] = ward
    result = ingest(xlsx(rows), "x.xlsx")
    assert list(result.table["ward"]) == ["Agbeyangi"]
    assert result.summary["rows_without_ward"] == 1


def test_headers_without_data_rows() -> None:
    with pytest.raises(InputError, match="no data rows"):
        ingest(xlsx(format_a_rows()[:1]), "x.xlsx")


def test_a_huge_totals_row_is_dropped_not_refused() -> None:
    rows = format_a_rows()
    rows[-1] = [None] * 8 + [20_000_000, 10_000_001, 10, 5, 40, 10]
    result = ingest(xlsx(rows), "x.xlsx")
    assert result.summary["totals_rows_dropped"] == 1
    assert result.table["rdt_tested_u5"].max() == 100.0


def test_summary_counts_places_within_their_state_and_lga() -> None:
    header = GEO_A + PERIOD_A + U5[:2]
    asa, ungogo = "kw Asa Local Government Area", "kn Ungogo Local Government Area"
    rows = [
        header,
        ["Kwara State", asa, "Afon Ward", "PHC A", None, None, "January 2024",
         202401, 10, 1],
        ["Kwara State", asa, "Afon Ward", "PHC A", None, None, "February 2024",
         202402, 10, 1],
        ["Kwara State", None, "Oja Ward", "PHC B", None, None, "January 2024",
         202401, 10, 1],
        ["Kwara State", asa, "Oja Ward", "PHC B", None, None, "January 2024",
         202401, 10, 1],
        ["Kano State", ungogo, "Afon Ward", "PHC A", None, None, "January 2024",
         202401, 10, 1],
    ]  # fmt: skip
    summary = ingest(xlsx(rows), "x.xlsx").summary
    # Kwara: one named LGA (Asa; the empty one is not counted as an LGA), the
    # wards Asa/Afon, Asa/Oja and (no LGA)/Oja, one facility in each; Kano's
    # Afon ward and PHC A are other places than Kwara's.
    assert summary["states"] == {
        "Kwara": {"lgas": 1, "wards": 3, "facilities": 3, "records": 4},
        "Kano": {"lgas": 1, "wards": 1, "facilities": 1, "records": 1},
    }
    assert (summary["lgas"], summary["wards"], summary["facilities"]) == (3, 4, 4)
    assert summary["records"] == 5


def test_the_reader_child_imports_this_copy_of_the_product(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[dict[str, str]] = []
    run = subprocess.run

    def recording(*args: Any, **kwargs: Any) -> Any:
        started.append(kwargs["env"])
        return run(*args, **kwargs)

    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setattr(sandbox.subprocess, "run", recording)
    result = ingest(xlsx(format_a_rows()), "a.xlsx")
    assert result.summary["records"] == 4
    here = str(Path(tpr_widgets.__file__).resolve().parents[1])
    assert started[0]["PYTHONPATH"].split(os.pathsep) == [here, "/elsewhere"]


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ("", "Row 3 has an empty state cell; 1 row(s) in all are like it."),
        (
            "Atlantis",
            "Row 3 has 'Atlantis' in the state column, not a Nigerian state name; "
            "1 row(s) in all are like it.",
        ),
    ],
)
def test_a_row_without_a_known_state_is_named_by_its_row(state: str, said: str) -> None:
    header = ["State", "LGA", "Ward", "Health Facility", "periodname", *U5[:2]]
    rows = [
        header,
        ["Kwara", "Asa", "Afon", "A", "2024-01", 10, 5],
        [state, "Asa", "Oja", "B", "2024-01", 4, 1],
    ]
    with pytest.raises(InputError) as error:
        ingest(xlsx(rows), "x.xlsx")
    assert str(error.value).startswith(said), str(error.value)
