"""The `compute` options of the command line, on files built here."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE_A
from tests.reference import GE, indicator
from tests.tpr.test_periods import month_name_csv


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tpr_widgets", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def abia_csv(path: Path) -> Path:
    """One ward: a facility with 218 tested and 1,230 positive, one with 100 / 40."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["State", "LGA", "Ward", "Health Faccility", "periodname",
         indicator("rdt", "tested", "u5", GE), indicator("rdt", "positive", "u5", GE)]
    )  # fmt: skip
    writer.writerow(["Abia", "Obingwa", "Ngwa 1", "HC A", "January 2024", 218, 1230])
    writer.writerow(["Abia", "Obingwa", "Ngwa 1", "HC B", "January 2024", 100, 40])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_impossible_pairs_left_out_or_included_on_request(tmp_path: Path) -> None:
    data = abia_csv(tmp_path / "abia.csv")
    left_out = run("compute", str(data), "--test-method", "rdt", "--out",
                   str(tmp_path / "a"))  # fmt: skip
    assert left_out.returncode == 0, left_out.stderr
    ward = rows_of(Path(left_out.stdout.strip().splitlines()[-1]))[0]
    assert (ward["Tested"], ward["Positive"], ward["TPR"]) == ("100", "40", "40.00")
    assert ward["Flags"] == "POS_GT_TESTED:1"
    assert "1 count pair(s) had more positives than tests" in left_out.stderr
    kept = run("compute", str(data), "--test-method", "rdt", "--include-impossible",
               "--out", str(tmp_path / "b"))  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    ward = rows_of(Path(kept.stdout.strip().splitlines()[-1]))[0]
    # (1230 + 40) / (218 + 100) = 399.37 %.
    assert (ward["Tested"], ward["Positive"], ward["TPR"]) == ("318", "1270", "399.37")
    assert ward["Flags"] == "POS_GT_TESTED_INCLUDED:1;TPR_GT_50"
    assert "included, as asked" in kept.stderr


def test_outpatient_indicator_period_range_and_tables_beside(tmp_path: Path) -> None:
    out = tmp_path / "kwara"
    done = run(
        "compute", str(SAMPLE_A), "--state", "Kwara", "--period", "202301:2023-06",
        "--outpatient-indicator", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ward_path = Path(done.stdout.strip().splitlines()[-1])
    names = {p.name for p in ward_path.parent.iterdir()}
    assert any("lga" in n for n in names) and any("state" in n for n in names)
    rows = rows_of(ward_path)
    assert {r["Period"] for r in rows} == {"2023-01:2023-06"}
    assert {r["Review"] for r in rows} == {"add_outpatient"}
    for row in rows:
        if row["Outpatient_Attendance"] not in ("", "0"):
            want = (
                100
                * int(row["Outpatient_Positive"])
                / int(row["Outpatient_Attendance"])
            )
            assert abs(float(row["Outpatient_Positivity"]) - want) < 0.006


def test_outpatient_indicator_without_attendance_is_a_clear_error(
    tmp_path: Path,
) -> None:
    data = tmp_path / "months.csv"
    data.write_bytes(month_name_csv())
    done = run("compute", str(data), "--outpatient-indicator", "--out",
               str(tmp_path / "o"))  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and "outpatient" in lines[-1]
    assert "Traceback" not in done.stderr
    bad = run("compute", str(data), "--test-method", "rdt", "--combine", "max")
    assert bad.returncode == 2 and "combine" in bad.stderr.splitlines()[-1]
