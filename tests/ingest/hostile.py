"""A corpus of malformed and hostile uploads, built in code.

`corpus()` returns (name, file name, bytes, environment, expected message part)
for each case. Every case must be refused with one clear `InputError`.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any, NamedTuple

import openpyxl

from tests.reference import indicator

T_U5 = indicator("rdt", "tested", "u5")
P_U5 = indicator("rdt", "positive", "u5")
GOOD_HEADER = ["State", "LGA", "Ward", "Health Facility", "periodname", T_U5, P_U5]
GOOD_ROW: list[Any] = ["Kwara", "Asa", "Afon", "PHC", "2024-01", 10, 5]


class Case(NamedTuple):
    name: str
    filename: str
    data: bytes
    env: dict[str, str]
    needle: str


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def good_xlsx() -> bytes:
    return xlsx([GOOD_HEADER, GOOD_ROW])


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _replace_part(workbook: bytes, part: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook))
    entries = {name: source.read(name) for name in source.namelist()}
    entries[part] = data
    return _zip(entries)


def _with_cell(value: Any, column: int = 5) -> bytes:
    row = list(GOOD_ROW)
    row[column] = value
    return xlsx([GOOD_HEADER, GOOD_ROW, row])


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheets>&lol2;</sheets></workbook>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<si><t>&xxe;</t></si></sst>"
)


def corpus() -> list[Case]:
    good = good_xlsx()
    many = {f"xl/part{i}.xml": b"<x/>" for i in range(5_001)}
    many["xl/workbook.xml"] = b"<x/>"
    cases = [
        Case("empty", "empty.xlsx", b"", {}, "is empty"),
        Case("binary", "photo.xlsx", bytes(range(256)) * 40, {}, "neither a"),
        Case("truncated_zip", "cut.xlsx", good[: len(good) // 2], {}, "damaged"),
        Case("zip_garbage", "bad.xlsx", b"PK\x03\x04" + b"\x00" * 200, {}, "damaged"),
        Case(
            "macros",
            "macro.xlsm",
            _replace_part(good, "xl/vbaProject.bin", b"\x00" * 64),
            {},
            "macros",
        ),
        Case(
            "external_link",
            "linked.xlsx",
            _replace_part(good, "xl/externalLinks/externalLink1.xml", b"<x/>"),
            {},
            "external links",
        ),
        Case(
            "zip_bomb",
            "bomb.xlsx",
            _replace_part(good, "xl/worksheets/sheet2.xml", b" " * 60_000_000),
            {},
            "expand",
        ),
        Case("too_many_parts", "parts.xlsx", _zip(many), {}, "internal parts"),
        Case(
            "billion_laughs",
            "laughs.xlsx",
            _replace_part(good, "xl/workbook.xml", LAUGHS),
            {},
            "entities",
        ),
        Case(
            "external_entity",
            "xxe.xlsx",
            _replace_part(good, "xl/sharedStrings.xml", XXE),
            {},
            "entities",
        ),
        Case(
            "not_xml",
            "broken.xlsx",
            _replace_part(good, "xl/workbook.xml", b"<workbook><sheets>"),
            {},
            "not well-formed",
        ),
        Case(
            "not_a_workbook",
            "letter.xlsx",
            _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<T/>"}),
            {},
            "not an Excel workbook",
        ),
        Case(
            "password",
            "locked.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\x00" * 504
            + "EncryptionInfo".encode("utf-16-le")
            + b"\x00" * 64,
            {},
            "password",
        ),
        Case(
            "ole_garbage",
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000,
            {},
            "could not be read",
        ),
        Case("csv_no_headers", "notes.csv", b"Name,Age\nAda,4\n", {}, "No sheet"),
        Case("headers_only", "head.xlsx", xlsx([GOOD_HEADER]), {}, "no data rows"),
        Case("text_count", "text.xlsx", _with_cell("ten"), {}, "holds text"),
        Case("negative", "neg.xlsx", _with_cell(-3), {}, "negative"),
        Case("fraction", "frac.xlsx", _with_cell(2.5), {}, "fractional"),
        Case("huge_count", "huge.xlsx", _with_cell(1e12), {}, "above 10,000,000"),
        Case(
            "no_indicators",
            "geo.xlsx",
            xlsx([GOOD_HEADER[:5], GOOD_ROW[:5]]),
            {},
            "No malaria test columns were found",
        ),
        Case(
            "no_ward",
            "noward.xlsx",
            xlsx(
                [["State", "LGA", "periodname", T_U5], ["Kwara", "Asa", "2024-01", 3]]
            ),
            {},
            "No ward column",
        ),
        Case(
            "bad_state", "state.xlsx", _with_cell("Atlantis", 0), {}, "not a Nigerian"
        ),
        Case("bad_period", "period.xlsx", _with_cell("someday", 4), {}, "period"),
        Case(
            "no_state_column",
            "nostate.xlsx",
            xlsx([GOOD_HEADER[1:], GOOD_ROW[1:]]),
            {},
            "no state column",
        ),
        Case(
            "two_kinds_of_u5_tested",
            "twice.xlsx",
            xlsx(
                [[*GOOD_HEADER, "Total RDT Tested (<5)"], [*GOOD_ROW, 4]],
            ),
            {},
            "Several different columns",
        ),
        Case(
            "over_size_cap",
            "big.csv",
            b"State,Ward\n" + b"x" * (1024 * 1024 + 10),
            {"TPR_WIDGETS_MAX_UPLOAD_MB": "1"},
            "above this app's limit",
        ),
        Case(
            "over_memory_limit",
            "mem.xlsx",
            good,
            {"TPR_WIDGETS_READ_MEMORY_MB": "1"},
            "more memory",
        ),
    ]
    return cases
