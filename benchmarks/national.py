"""Generate a national-size DHIS2 export (Format B) for the benchmarks.

About 300,000 facility-month rows over the twelve months of 2024, in all 37
states and every ward of the national ward list shipped with the package
(`tpr_widgets/data/nigeria_wards.csv`), in the national export's layout: one
sheet `Sheet1`, `orgunitlevel1..5`, `organisationunitname`, `periodname`,
`periodcode`, the twelve indicator columns, two LLIN columns and a final totals
row. Counts are random but plausible (Poisson tests, binomial positives, most
microscopy cells empty). The workbook is cached under `benchmarks/.cache/`.

    python benchmarks/national.py --rows 300000 --out benchmarks/.cache/national.xlsx
"""

from __future__ import annotations

import argparse
import calendar
import csv
import time
from pathlib import Path

import numpy as np
from openpyxl import Workbook

REPO = Path(__file__).resolve().parent.parent
WARDS = REPO / "tpr_widgets" / "data" / "nigeria_wards.csv"
CACHE = REPO / "benchmarks" / ".cache"
MONTHS = list(calendar.month_name)[1:]
GE = "≥"
HEADERS = [
    "orgunitlevel1",
    "orgunitlevel2",
    "orgunitlevel3",
    "orgunitlevel4",
    "orgunitlevel5",
    "organisationunitname",
    "periodname",
    "periodcode",
    "Persons presenting with fever & tested by RDT <5yrs",
    f"Persons presenting with fever & tested by RDT  {GE}5yrs (excl PW)",
    "Persons presenting with fever & tested by RDT Preg Women (PW)",
    "Persons tested positive for malaria by RDT <5yrs",
    f"Persons tested positive for malaria by RDT  {GE}5yrs (excl PW)",
    "Persons tested positive for malaria by RDT Preg Women (PW)",
    "Persons presenting with fever and tested by Microscopy <5yrs",
    f"Persons presenting with fever and tested by Microscopy  {GE}5yrs (excl PW)",
    "Persons presenting with fever and tested by Microscopy Preg Women (PW)",
    "Persons tested positive for malaria by Microscopy <5yrs",
    f"Persons tested positive for malaria by Microscopy  {GE}5yrs (excl PW)",
    "Persons tested positive for malaria by Microscopy Preg Women (PW)",
    "Children <5 yrs who received LLIN",
    "PW who received LLIN",
]
KINDS = ("Primary Health Centre", "Health Post", "Clinic", "Maternity", "Hospital")


def _wards() -> list[dict[str, str]]:
    with WARDS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Twelve count columns for n rows (NaN where a cell is empty)."""
    mean = rng.gamma(2.0, 20.0, n)
    positivity = np.clip(rng.beta(6, 4, n), 0.02, 0.98)
    out = np.full((n, 14), np.nan)
    for age, scale in enumerate((1.0, 1.6, 0.3)):
        for method, share, present in ((0, 1.0, 0.95), (1, 0.25, 0.05)):
            tested = rng.poisson(mean * scale * share).astype(float)
            positive = rng.binomial(tested.astype(np.int64), positivity).astype(float)
            keep = rng.random(n) < present
            tested[~keep] = np.nan
            positive[~keep] = np.nan
            base = method * 6
            out[:, base + age] = tested
            out[:, base + 3 + age] = positive
    out[:, 12] = rng.poisson(mean * 0.2)
    out[:, 13] = rng.poisson(mean * 0.05)
    return out


def make_national_workbook(path: Path, rows: int = 300_000, seed: int = 1) -> Path:
    """Write the workbook (unless an identical one is cached) and return its path."""
    path = Path(path)
    marker = path.with_suffix(path.suffix + f".{rows}.{seed}.done")
    if path.exists() and marker.exists():
        return path
    rng = np.random.default_rng(seed)
    wards = _wards()
    facilities = -(-rows // 12)
    ward_of = rng.integers(0, len(wards), facilities)
    ward_of[: min(len(wards), facilities)] = np.arange(min(len(wards), facilities))
    ward_of.sort()  # an export lists facilities ward by ward
    counts = _counts(rng, facilities * 12)

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(HEADERS)
    totals = np.zeros(14)
    written = 0
    for f, w in enumerate(ward_of):
        ward = wards[int(w)]
        code = ward["state_code"].lower()
        state = ward["state_name"]
        state_label = f"{code} {state}" + ("" if code == "fc" else " State")
        lga = f"{code} {ward['lga_name']} Local Government Area"
        ward_label = f"{code} {ward['ward_name']} Ward"
        facility = f"{code} {ward['ward_name']} {KINDS[f % len(KINDS)]} {f}"
        for month in range(12):
            if written == rows:
                break
            values = counts[f * 12 + month]
            totals += np.nan_to_num(values)
            cells = [None if v != v else int(v) for v in values]
            sheet.append(
                [
                    "ng Federal Government",
                    state_label,
                    lga,
                    ward_label,
                    facility,
                    facility,
                    f"{MONTHS[month]} 2024",
                    202401 + month,
                    *cells,
                ]
            )
            written += 1
    sheet.append(
        ["Total", None, None, None, None, None, None, None] + [int(v) for v in totals]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    marker.touch()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=CACHE / "national.xlsx")
    args = parser.parse_args()
    started = time.perf_counter()
    path = make_national_workbook(args.out, args.rows, args.seed)
    size = path.stat().st_size / 1024**2
    print(f"{path} ({size:.1f} MB) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
