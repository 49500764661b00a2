"""The national-size generator, run small: layout, row count, totals row."""

from __future__ import annotations

import calendar
import sys
from pathlib import Path

import openpyxl

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from national import HEADERS, make_national_workbook


def test_small_national_workbook(tmp_path: Path) -> None:
    path = make_national_workbook(tmp_path / "n.xlsx", rows=240, seed=3)
    sheet = openpyxl.load_workbook(path, read_only=True)["Sheet1"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    body, total = rows[1:-1], rows[-1]
    assert len(body) == 240
    assert total[0] == "Total" and all(v is None for v in total[1:8])
    for column in range(8, len(HEADERS)):
        assert total[column] == sum(r[column] or 0 for r in body)
    assert {r[6] for r in body} == {f"{m} 2024" for m in calendar.month_name[1:]}
