"""Synthetic DHIS2-style exports for real wards, with hand-checkable counts.

Ward names come from the national ward list shipped with the package (INEC
spellings), written as a DHIS2 export writes them: `kw Adewole Ward`, `kw Ilorin
West Local Government Area`, `kw Kwara State`. Every ward has one facility with
two months of u5 RDT counts: 20 tests a month and `k` positives, where `k` is
the ward's position in the list modulo 20, so its u5 RDT TPR is 5 * k %.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

from national import HEADERS  # noqa: E402  (the national export's own headers)

SHARED = REPO.parent / "shared" / "data"
ILORIN = SHARED / "ward_boundaries" / "kwara_ilorin_3lga" / "Ilorin_3LGA.geojson"
KANO = (
    SHARED / "ward_boundaries" / "kano_metro_6lga" / "Kano_metro_ward_sixLGAs.geojson"
)
NATIONAL = REPO / "tpr_widgets" / "data" / "nigeria_wards.csv"

ILORIN_LGAS = {
    "NG024006": "Ilorin East",
    "NG024007": "Ilorin South",
    "NG024008": "Ilorin West",
}
KANO_LGAS = {
    "NG020007": "Dala",
    "NG020012": "Fagge",
    "NG020018": "Gwale",
    "NG020021": "Kano Municipal",
    "NG020031": "Nasarawa",
    "NG020038": "Tarauni",
}


def national(pcodes: Sequence[str]) -> list[dict[str, str]]:
    with NATIONAL.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["lga_pcode"] in pcodes]


def wards_of(lgas: dict[str, str]) -> list[tuple[str, str, str]]:
    """(LGA as DHIS2 names it, INEC ward name, INEC ward code), in list order."""
    return [
        (lgas[r["lga_pcode"]], r["ward_name"], r["ward_inec_code"])
        for r in national(list(lgas))
    ]


def write_export(
    path: Path, state: str, code: str, wards: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], float]:
    """Write the CSV; returns (LGA, clean ward name) -> expected u5 RDT TPR."""
    expected: dict[tuple[str, str], float] = {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADERS)
        for k, (lga, ward) in enumerate(wards):
            positives = k % 20
            expected[(lga, ward)] = 100 * (2 * positives) / 40
            for month in (1, 2):
                out.writerow(
                    [
                        "ng Federal Government",
                        f"{code} {state} State",
                        f"{code} {lga} Local Government Area",
                        f"{code} {ward} Ward",
                        f"{code} {ward} Health Post {k}",
                        f"{code} {ward} Health Post {k}",
                        ["January", "February"][month - 1] + " 2024",
                        202400 + month,
                        20,
                        30,
                        5,
                        positives,
                        10,
                        2,
                        *[""] * 8,
                    ]
                )
    return expected
