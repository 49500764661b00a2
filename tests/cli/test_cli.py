"""The command line on the bundled samples, checked against the reference."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_A, SAMPLE_B
from tests.reference import GE, rate, ward_tpr

CODES = {"Adamawa": "ad", "Kwara": "kw", "Osun": "os"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tpr_widgets", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("state", ["Adamawa", "Kwara", "Osun"])
def test_compute_every_sample_state_matches_reference(
    state: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run(
        "compute", str(SAMPLE_A), "--state", state, "--age-group", "all",
        "--test-method", "both", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ward_csv = Path(done.stdout.strip().splitlines()[-1])
    assert ward_csv == (out / "ward_tpr.csv").resolve()
    assert (out / "lga_tpr.csv").is_file() and (out / "state_tpr.csv").is_file()
    assert not ward_csv.read_bytes().startswith(b"\xef\xbb\xbf")

    rows = {(r["LGA"], r["WardName"]): r for r in read_csv(ward_csv)}
    expected = ward_tpr(
        SAMPLE_A, state=state, code=CODES[state],
        ages=("u5", "o5", "pw"), methods=("rdt", "microscopy"),
    )  # fmt: skip
    assert set(rows) == set(expected)
    for key, sums in expected.items():
        row = rows[key]
        assert row["State"] == state
        want = rate(sums)
        assert (row["TPR"] == "") == (want is None), key
        if want is not None:
            assert float(row["TPR"]) == pytest.approx(want, abs=0.006), key
        assert int(row["Tested"]) == int(sums.tested)
        assert int(row["Positive"]) == int(sums.positive)
        assert int(row["Facilities"]) == len(sums.facilities or ())
        assert (f"POS_GT_TESTED:{sums.impossible}" in row["Flags"]) == bool(
            sums.impossible
        )


def test_compute_kwara_primary_u5_rdt(tmp_path: Path) -> None:
    done = run(
        "compute", str(SAMPLE_A), "--state", "KWARA STATE", "--facility-level",
        "primary", "--age-group", "u5", "--test-method", "rdt", "--out",
        str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = read_csv(Path(done.stdout.strip().splitlines()[-1]))
    expected = ward_tpr(
        SAMPLE_A, state="Kwara", code="kw", ages=("u5",), methods=("rdt",),
        level="primary",
    )  # fmt: skip
    assert len(rows) == len(expected)
    for row in rows:
        sums = expected[(row["LGA"], row["WardName"])]
        want = rate(sums)
        assert row["RDT_TPR"] == ("" if want is None else f"{want:.2f}")
        assert row["TPR"] == row["RDT_TPR"]
        # The other method's figures are always carried beside the chosen one.
        assert row["Tested"] == row["RDT_Tested"]
        assert (row["Facility_Level"], row["Age_Group"], row["Test_Method"]) == (
            "primary", "u5", "rdt",
        )  # fmt: skip


def test_ward_table_columns_in_contract_order(tmp_path: Path) -> None:
    done = run("compute", str(SAMPLE_B), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    header = Path(done.stdout.strip().splitlines()[-1]).read_text().splitlines()[0]
    contract = (
        "State,LGA,WardName,TPR,Tested,Positive,RDT_Tested,RDT_Positive,RDT_TPR,"
        "Microscopy_Tested,Microscopy_Positive,Microscopy_TPR,Facilities,Flags,"
        "Facility_Level,Age_Group,Test_Method,Period"
    )
    assert header.startswith(contract)


def test_format_b_matches_reference(tmp_path: Path) -> None:
    done = run("compute", str(SAMPLE_B), "--age-group", "o5", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = {
        (r["LGA"], r["WardName"]): r
        for r in read_csv(Path(done.stdout.strip().splitlines()[-1]))
    }
    expected = ward_tpr(
        SAMPLE_B, state="Kano", code="kn", ages=("o5",),
        methods=("rdt", "microscopy"), sheet="Sheet1", ge=GE,
        geo=("orgunitlevel2", "orgunitlevel3", "orgunitlevel4", "orgunitlevel5"),
    )  # fmt: skip
    assert set(rows) == set(expected)
    checked = 0
    for key, sums in expected.items():
        want = rate(sums)
        got = rows[key]["TPR"]
        assert (got == "") == (want is None)
        if want is not None:
            assert float(got) == pytest.approx(want, abs=0.006)
            checked += 1
    assert checked > 400


def test_period_choice_limits_rows(tmp_path: Path) -> None:
    done = run(
        "compute", str(SAMPLE_B), "--period", "2024-01:2024-03", "--out",
        str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = read_csv(Path(done.stdout.strip().splitlines()[-1]))
    assert {r["Period"] for r in rows} == {"2024-01:2024-03"}
    full = run("compute", str(SAMPLE_B), "--out", str(tmp_path / "full"))
    full_rows = read_csv(Path(full.stdout.strip().splitlines()[-1]))
    assert sum(int(r["Tested"]) for r in rows) < sum(
        int(r["Tested"]) for r in full_rows
    )


def test_several_periods_and_years_write_the_period_and_trend_tables(
    tmp_path: Path,
) -> None:
    from tests.tpr.test_periods import month_name_csv

    source = tmp_path / "kwara_months.csv"
    source.write_bytes(month_name_csv())
    out = tmp_path / "out"
    done = run("compute", str(source), "--test-method", "rdt", "--out", str(out))
    assert done.returncode == 0, done.stderr

    period = read_csv(out / "ward_period_tpr.csv")
    # Per month, pooled over the ward's facilities: January (5 + 15) / (20 + 30).
    assert [(r["Period"], r["Tested"], r["TPR"]) for r in period] == [
        ("2023-12", "10", "90.00"),
        ("2024-01", "50", "40.00"),
        ("2024-02", "50", "40.00"),
        ("2024-03", "40", "25.00"),
    ]
    trend = read_csv(out / "ward_trend.csv")
    # Yearly pooled rates: 2023 9/10 = 90 %, 2024 50/140 = 35.71 %.
    assert [(r["Years"], r["TPR_First"], r["TPR_Last"]) for r in trend] == [
        ("2", "90.00", "35.71")
    ]
    record = json.loads((out / "run.json").read_text())
    assert record["files"]["period"] == "ward_period_tpr.csv"
    assert record["files"]["trend"] == "ward_trend.csv"
    import openpyxl

    sheets = openpyxl.load_workbook(out / "ward_tpr.xlsx", read_only=True).sheetnames
    assert sheets[:5] == ["Ward", "LGA", "State", "Period", "Trend"]

    # One period: neither table, and a later run removes the earlier ones.
    again = run(
        "compute", str(source), "--test-method", "rdt", "--period", "2024-01",
        "--out", str(out),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert not (out / "ward_period_tpr.csv").exists()
    assert not (out / "ward_trend.csv").exists()


def test_second_run_into_same_folder_leaves_nothing_stale(tmp_path: Path) -> None:
    first = run("compute", str(SAMPLE_A), "--state", "Adamawa", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr
    second = run("compute", str(SAMPLE_B), "--out", str(tmp_path))
    assert second.returncode == 0, second.stderr
    rows = read_csv(tmp_path / "ward_tpr.csv")
    assert {r["State"] for r in rows} == {"Kano"}
    lga = read_csv(tmp_path / "lga_tpr.csv")
    assert {r["State"] for r in lga} == {"Kano"}
    run_record = json.loads((tmp_path / "run.json").read_text())
    assert run_record["inputs"][0]["name"] == SAMPLE_B.name


def test_inspect_readable_and_json() -> None:
    text = run("inspect", str(SAMPLE_A))
    assert text.returncode == 0, text.stderr
    assert "Kwara" in text.stdout and "24 (2023-01 to 2024-12)" in text.stdout
    done = run("inspect", str(SAMPLE_B), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["layout"] == "dhis2"
    assert list(summary["states"]) == ["Kano"]
    assert summary["totals_rows_dropped"] == 1
    assert summary["periods"]["count"] == 12
    assert summary["states"]["Kano"]["lgas"] == 44
    assert set(summary["completeness"]) == {"u5", "o5", "pw"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["compute", "missing.xlsx"], "There is no file"),
        (["compute", "SAMPLE_A"], "several states"),
        (["compute", "SAMPLE_A", "--state", "Lagos"], "Lagos"),
        (["compute", "SAMPLE_B", "--facility-level", "primary"], "only 'all'"),
        (["compute", "SAMPLE_B", "--period", "2019"], "2019"),
        (["compute", "SAMPLE_B", "--period", "last year"], "not a period"),
        (["compute", "SAMPLE_B", "--age-group", "adults"], "invalid choice"),
        (["inspect", "SAMPLE_B", "--column", "ward"], "ROLE=HEADER"),
        (["inspect", "SAMPLE_B", "--column", "colour=Ward"], "not a column role"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(
    args: list[str], needle: str, tmp_path: Path
) -> None:
    real = [str(SAMPLE_A) if a == "SAMPLE_A" else a for a in args]
    real = [str(SAMPLE_B) if a == "SAMPLE_B" else a for a in real]
    done = run(*real, "--out", str(tmp_path)) if real[0] == "compute" else run(*real)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert needle in errors[0]
    assert "Traceback" not in done.stderr


def test_not_a_spreadsheet(tmp_path: Path) -> None:
    junk = tmp_path / "photo.xlsx"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    done = run("inspect", str(junk))
    assert done.returncode == 2
    assert done.stderr.startswith("error:")


def test_version_and_help() -> None:
    assert run("--version").stdout.startswith("tpr_widgets ")
    helped = run("compute", "--help")
    assert helped.returncode == 0 and "examples:" in helped.stdout


def test_out_must_be_a_usable_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    for out in [str(a_file), str(a_file / "sub"), ""]:
        done = run("compute", str(SAMPLE_B), "--out", out)
        assert done.returncode == 2, (out, done.stderr)
        assert done.stderr.strip().splitlines()[-1].startswith("error:")


def test_planted_links_and_foreign_run_records_are_not_followed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / ".ward_tpr.csv.tmp").symlink_to(victim)
    (out / "important.txt").write_text("mine")
    (out / "run.json").write_text(json.dumps({"files": {"x": "important.txt"}}))
    done = run("compute", str(SAMPLE_B), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "keep me"
    assert (out / "important.txt").read_text() == "mine"
    assert not (out / "ward_tpr.csv").is_symlink()
