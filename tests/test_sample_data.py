"""Checks on the sample workbooks shipped in ``tpr_widgets/data/``.

The files are made by ``tools/make_sample.py`` and stand in for real NMEP (Format A)
and DHIS2 (Format B) exports in notebooks, docs and other tests. These checks read
them with openpyxl alone and compute every expected value here, so they hold even
while the package itself does not import, and they fail if a regeneration loses one
of the quirks the ingest code is meant to handle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

DATA_DIR = Path(__file__).resolve().parents[1] / "tpr_widgets" / "data"
FORMAT_A = DATA_DIR / "nmep_sample_format_a.xlsx"
FORMAT_B = DATA_DIR / "dhis2_sample_format_b.xlsx"
MAX_BYTES = 3_000_000

Row = tuple[Any, ...]

# Format A: UTF-8 "≥" read as cp1252, double space before it, "&" for RDT only.
FORMAT_A_HEADERS = [
    "State",
    "LGA",
    "Ward",
    "Health Faccility",
    "level",
    "ownership",
    "periodname",
    "periodcode",
    "Persons presenting with fever & tested by RDT <5yrs",
    "Persons presenting with fever & tested by RDT  â‰¥5yrs (excl PW)",
    "Persons presenting with fever & tested by RDT Preg Women (PW)",
    "Persons presenting with fever and tested by Microscopy <5yrs",
    "Persons presenting with fever and tested by Microscopy  â‰¥5yrs (excl PW)",
    "Persons presenting with fever and tested by Microscopy Preg Women (PW)",
    "Persons tested positive for malaria by RDT <5yrs",
    "Persons tested positive for malaria by RDT  â‰¥5yrs (excl PW)",
    "Persons tested positive for malaria by RDT Preg Women (PW)",
    "Persons tested positive for malaria by Microscopy <5yrs",
    "Persons tested positive for malaria by Microscopy  â‰¥5yrs (excl PW)",
    "Persons tested positive for malaria by Microscopy Preg Women (PW)",
    "Total number of all outpatient attendance",
    "General Attendance",
]
FORMAT_B_HEADERS = [
    "orgunitlevel1",
    "orgunitlevel2",
    "orgunitlevel3",
    "orgunitlevel4",
    "orgunitlevel5",
    "organisationunitname",
    "periodname",
    "periodcode",
    "Persons presenting with fever & tested by RDT <5yrs",
    "Persons presenting with fever & tested by RDT  ≥5yrs (excl PW)",
    "Persons presenting with fever & tested by RDT Preg Women (PW)",
    "Persons tested positive for malaria by RDT <5yrs",
    "Persons tested positive for malaria by RDT  ≥5yrs (excl PW)",
    "Persons tested positive for malaria by RDT Preg Women (PW)",
    "Persons presenting with fever and tested by Microscopy <5yrs",
    "Persons presenting with fever and tested by Microscopy  ≥5yrs (excl PW)",
    "Persons presenting with fever and tested by Microscopy Preg Women (PW)",
    "Persons tested positive for malaria by Microscopy <5yrs",
    "Persons tested positive for malaria by Microscopy  ≥5yrs (excl PW)",
    "Persons tested positive for malaria by Microscopy Preg Women (PW)",
    "Children <5 yrs who received LLIN",
    "PW who received LLIN",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def read_sheets(path: Path) -> dict[str, list[Row]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets
        }
    finally:
        workbook.close()


@pytest.fixture(scope="module")
def book_a() -> dict[str, list[Row]]:
    return read_sheets(FORMAT_A)


@pytest.fixture(scope="module")
def book_b() -> dict[str, list[Row]]:
    return read_sheets(FORMAT_B)


def column(rows: Sequence[Row], header: Row, name: str) -> list[Any]:
    index = list(header).index(name)
    return [row[index] for row in rows]


def pairs(header: Row) -> list[tuple[int, int, str]]:
    """(tested index, positive index, label) for each (method, age) column pair."""
    names = list(header)
    result = []
    for index, name in enumerate(names):
        if name.startswith("Persons presenting with fever"):
            method, age = name.split(" tested by ")[1].split(" ", 1)
            positive = f"Persons tested positive for malaria by {method} {age}"
            result.append((index, names.index(positive), f"{method} {age}"))
    return result


@pytest.mark.parametrize("path", [FORMAT_A, FORMAT_B], ids=lambda p: p.name)
def test_file_is_small(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES


def test_format_a_sheets_and_headers(book_a: dict[str, list[Row]]) -> None:
    assert list(book_a) == ["pivot", "raw", "tpr"]
    assert list(book_a["raw"][0]) == FORMAT_A_HEADERS
    assert book_a["pivot"][0][0] and book_a["tpr"][0][0], "title rows expected"


def test_format_b_sheet_and_headers(book_b: dict[str, list[Row]]) -> None:
    assert list(book_b) == ["Sheet1"]
    assert list(book_b["Sheet1"][0]) == FORMAT_B_HEADERS


def test_format_a_geography_and_periods(book_a: dict[str, list[Row]]) -> None:
    header, *rows = book_a["raw"]
    states = column(rows, header, "State")
    clean = {re.sub(r"^[a-z]{2} ", "", s).removesuffix(" State") for s in states}
    assert clean == {"Adamawa", "Kwara", "Osun"}
    assert "ad Adamawa State" in states and "Adamawa State" in states

    prefix = {"Adamawa": "ad", "Kwara": "kw", "Osun": "os"}
    for row in rows:
        code = prefix[re.sub(r"^[a-z]{2} ", "", row[0]).removesuffix(" State")]
        assert row[1].startswith(f"{code} ")
        assert row[1].endswith(" Local Government Area")
        assert row[2].startswith(f"{code} ") and " Ward" in row[2]
    assert "ad Ribadu Ward (Mayo-Belwa)" in set(column(rows, header, "Ward"))

    codes = column(rows, header, "periodcode")
    names = column(rows, header, "periodname")
    assert all(isinstance(code, int) for code in codes)
    assert len(set(codes)) >= 24
    for code, name in set(zip(codes, names, strict=True)):
        assert name == f"{MONTHS[code % 100 - 1]} {code // 100}"


def test_format_a_facility_metadata(book_a: dict[str, list[Row]]) -> None:
    header, *rows = book_a["raw"]
    assert set(column(rows, header, "level")) == {"Primary", "Secondary", "Tertiary"}
    assert set(column(rows, header, "ownership")) == {"Public", "Private"}

    labels: dict[tuple[Any, ...], set[str]] = {}
    for row in rows:
        labels.setdefault((row[1], row[2], row[3]), set()).add(row[4])
    changing = sum(len(levels) > 1 for levels in labels.values())
    assert 0 < changing <= 20, "a handful of facilities should change level label"


def test_format_a_counts(book_a: dict[str, list[Row]]) -> None:
    header, *rows = book_a["raw"]
    indicator_cells = [v for row in rows for v in row[8:20]]
    assert None in indicator_cells and 0 in indicator_cells
    assert all(v is None or (isinstance(v, int) and v >= 0) for v in indicator_cells)

    column_pairs = pairs(header)
    impossible = [
        (label, row[t], row[p])
        for row in rows
        for t, p, label in column_pairs
        if row[t] is not None and row[p] is not None and row[p] > row[t]
    ]
    assert len(impossible) == 5, impossible
    assert not [item for item in impossible if "Preg Women" in item[0]]
    assert ("RDT <5yrs", 218, 1230) in impossible

    opd = header.index("Total number of all outpatient attendance")
    general = header.index("General Attendance")
    tested = [t for t, _, _ in column_pairs]
    for row in rows:
        assert row[opd] > sum(row[i] or 0 for i in tested)
        assert row[general] >= row[opd]


def test_format_b_geography_and_periods(book_b: dict[str, list[Row]]) -> None:
    header, *rows = book_b["Sheet1"]
    body = rows[:-1]
    assert set(column(body, header, "orgunitlevel1")) == {"ng Federal Government"}
    assert set(column(body, header, "orgunitlevel2")) == {"kn Kano State"}
    assert column(body, header, "orgunitlevel5") == column(
        body, header, "organisationunitname"
    )
    codes = column(body, header, "periodcode")
    assert set(codes) == set(range(202401, 202413))


def test_format_b_last_row_is_totals(book_b: dict[str, list[Row]]) -> None:
    header, *rows = book_b["Sheet1"]
    *body, total = rows
    assert total[0] == "Total"
    assert all(cell is None for cell in total[1:8])
    assert "Total" not in column(body, header, "orgunitlevel1")
    for index in range(8, len(header)):
        expected = sum(row[index] or 0 for row in body)
        assert total[index] == expected, header[index]


def test_format_b_microscopy_is_sparse(book_b: dict[str, list[Row]]) -> None:
    header, *rows = book_b["Sheet1"]
    body = rows[:-1]
    micro = [i for i, name in enumerate(header) if "Microscopy" in name]
    cells = [row[i] for row in body for i in micro]
    empty = sum(cell is None for cell in cells) / len(cells)
    assert 0.75 < empty < 0.95
