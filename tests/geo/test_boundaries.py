"""The boundary join, map and files on the real Ilorin and Kano ward boundaries.

Reads the GRID3 ward boundaries from the shared data folder beside the clone
(`../shared/data/ward_boundaries/`, as CI lays it out); every test here is
skipped, with that reason, when the folder is absent. The facility data are
synthetic exports under the DHIS2 spellings of the real ward names (see
`tests/geo/_synthetic.py`); the expected pairs below were read off the two name
lists by hand (INEC spelling in the data, GRID3 spelling in the boundaries).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.geo._synthetic import (
    ILORIN,
    ILORIN_LGAS,
    KANO,
    KANO_LGAS,
    SHARED,
    wards_of,
    write_export,
)
from tpr_widgets.cli import main
from tpr_widgets.geo.read import read_boundaries

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is absent"
)

# data ward (INEC) -> boundary ward (GRID3), per LGA, as matched automatically.
ILORIN_AUTO = {
    "Ilorin East": {
        "Agbeyangi/Gbadamu/Osin": "Agbeyangi/Gbadamu",
        "Gambari I": "Gambari 1",
        "Ibagun": "Ibagun",
        "Apado": "Apado",
        "Iponrin": "Iponrin",
        "Marafa/Pepele": "Marafa/Pepele",
        "Maya/Ile-Apa": "Maya/Ileapa",
        "Oke Oyi/Oke Ose/Alalubosa": "Oke Oyi/Oke-Ose/Alalubosa",
    },
    "Ilorin South": {
        **{
            f"Akanbi-{r}": f"Akanbi {n}"
            for n, r in enumerate(["I", "II", "III", "IV", "V"], 1)
        },
        **{
            f"Balogun-Fulani {r}": f"Balogun Fulani {n}"
            for n, r in enumerate(["I", "II", "III"], 1)
        },
        "Okaka I": "Okaka 1",
        "Okaka II": "Okaka 2",
        "Oke-Ogun": "Oka-Ogun",
    },
    "Ilorin West": {
        "Adewole": "Adewole",
        "Ajikobi": "Ajikobi",
        "Baboko": "Baboko",
        "Badari": "Badari",
        "Oloje": "Oloje",
        "Ogidi": "Ogidi",
        "Ojuekun/Zarumi": "Oju-Ekun",
        "Oko-Erin": "Oko-Erin",
        "Ubandawaki": "Ubandawaki",
        "Warrah/Egbe Jila/Oshin": "Wara/Osin/Egbejila",
    },
}
# The six that differ too much for the matcher (no number, or a different
# word), given in the manual recode table.
ILORIN_RECODE = [
    ("Ilorin East", "Balogun Gambari II", "Gambari 2", ""),
    ("Ilorin East", "Magaji Are I", "Are 1", ""),
    ("Ilorin East", "Magaji Are II", "", "KWSKEY04"),
    ("Ilorin East", "Zango", "Zango 1", ""),
    ("Ilorin West", "Balogun Alanamu Central", "Alanamu", ""),
    ("Ilorin West", "Magaji Ngeri", "M/Ngeri", ""),
]


def _features(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["features"])


def _run(tmp: Path, export: Path, boundaries: Path, out: Path, *extra: str) -> Path:
    code = main(
        [
            "compute",
            str(export),
            "--test-method",
            "rdt",
            "--age-group",
            "u5",
            "--boundaries",
            str(boundaries),
            "--out",
            str(out),
            *extra,
        ]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def kwara(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("kwara")
    wards = [(lga, ward) for lga, ward, _ in wards_of(ILORIN_LGAS)]
    expected = write_export(tmp / "kwara.csv", "Kwara", "kw", wards)
    out = _run(tmp, tmp / "kwara.csv", ILORIN, tmp / "out")
    return {"tmp": tmp, "expected": expected, "out": out}


def test_every_ilorin_boundary_ward_gets_its_row(kwara: dict[str, Any]) -> None:
    risk = pd.read_csv(kwara["out"] / "risk_analysis.csv", dtype={"LGACode": str})
    codes = [f["properties"]["WardCode"] for f in _features(ILORIN)]
    assert len(risk) == 35 and sorted(risk["WardCode"]) == sorted(codes)
    assert list(risk.columns) == [
        "WardCode",
        "WardName",
        "LGA",
        "State",
        "StateCode",
        "LGACode",
        "GeopoliticalZone",
        "u5_tpr_rdt",
        "tpr",
    ]
    # LGA names come from the national list through the codes (24006 = NG024006).
    east = risk[risk["WardCode"].str.startswith("KWSKEY")]
    assert set(east["LGA"]) == {"Ilorin East"} and set(east["LGACode"]) == {"24006"}
    assert set(risk["State"]) == {"Kwara"} and set(risk["StateCode"]) == {"KW"}
    assert set(risk["GeopoliticalZone"]) == {"North_Central"}


def test_ilorin_matches_are_the_hand_read_pairs(kwara: dict[str, Any]) -> None:
    matches = pd.read_csv(kwara["out"] / "ward_matches.csv")
    found = {
        (r.LGA, r.Data_WardName): r.Boundary_WardName for r in matches.itertuples()
    }
    wanted = {
        (lga, d): b for lga, pairs in ILORIN_AUTO.items() for d, b in pairs.items()
    }
    assert found == wanted  # 29 of 35, none wrong
    assert len(found) == 29
    risk = pd.read_csv(kwara["out"] / "risk_analysis.csv")
    by_name = dict(zip(risk["WardName"], risk["u5_tpr_rdt"], strict=True))
    for (lga, data_name), boundary_name in wanted.items():
        assert by_name[boundary_name] == pytest.approx(
            kwara["expected"][(lga, data_name)]
        )
    assert risk["tpr"].equals(risk["u5_tpr_rdt"])
    assert risk["u5_tpr_rdt"].isna().sum() == 6
    report = (kwara["out"] / "report.md").read_text(encoding="utf-8")
    for lga, name, *_ in ILORIN_RECODE:
        assert f"| Kwara | {lga} | {name} |" in report


def test_the_recode_table_completes_the_ilorin_join(kwara: dict[str, Any]) -> None:
    recode = kwara["tmp"] / "recode.csv"
    pd.DataFrame(
        ILORIN_RECODE, columns=["LGA", "WardName", "BoundaryWard", "WardCode"]
    ).to_csv(recode, index=False)
    out = _run(
        kwara["tmp"],
        kwara["tmp"] / "kwara.csv",
        ILORIN,
        kwara["tmp"] / "recoded",
        "--recode",
        str(recode),
    )
    risk = pd.read_csv(out / "risk_analysis.csv")
    assert risk["u5_tpr_rdt"].notna().all()
    by_code = dict(zip(risk["WardCode"], risk["u5_tpr_rdt"], strict=True))
    assert by_code["KWSKEY04"] == pytest.approx(
        kwara["expected"][("Ilorin East", "Magaji Are II")]
    )
    matches = pd.read_csv(out / "ward_matches.csv")
    methods = dict(zip(matches["Data_WardName"], matches["Method"], strict=True))
    assert methods["Magaji Are II"] == "recode_code" and methods["Zango"] == "recode"
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    roles = [i["role"] for i in record["inputs"]]
    assert roles == ["export", "recode", "boundaries"]
    import hashlib

    assert (
        record["inputs"][2]["sha256"] == hashlib.sha256(ILORIN.read_bytes()).hexdigest()
    )


def test_kano_lgas_come_from_the_ward_names_where_the_codes_disagree(
    tmp_path: Path,
) -> None:
    listed = wards_of(KANO_LGAS)
    expected = write_export(
        tmp_path / "kano.csv", "Kano", "kn", [(lga, w) for lga, w, _ in listed]
    )
    out = _run(tmp_path, tmp_path / "kano.csv", KANO, tmp_path / "out")
    risk = pd.read_csv(out / "risk_analysis.csv", dtype={"LGACode": str})
    assert len(risk) == 66
    # 20012 is Gwale in this file (its wards are KN18..), although NG020012 is Fagge.
    assert set(risk.loc[risk["LGACode"] == "20012", "LGA"]) == {"Gwale"}
    matches = pd.read_csv(out / "ward_matches.csv")
    assert len(matches) == 62
    inec = {w: c for _, w, c in listed}
    # Kano's WardCodes carry the INEC LGA number (KN07.. = 19-07-..): every
    # match stays inside its LGA by that independent key.
    for row in matches.itertuples():
        assert row.WardCode[2:4] == inec[row.Data_WardName].split("-")[1]
        assert risk.loc[
            risk["WardCode"] == row.WardCode, "tpr"
        ].item() == pytest.approx(expected[(row.LGA, row.Data_WardName)])
    pairs = set(
        zip(matches["Data_WardName"], matches["Boundary_WardName"], strict=True)
    )
    assert {
        ("Sabongari East", "Sabon Gari East"),
        ("Dan'agundi", "Dan Agundi"),
        ("Sani Mai Magge", "Sani Mai Nagge"),
        ("Hotoro (Nnpc)", "Hotoro"),
    } <= pairs
    left = sorted(
        pd.read_excel(out / "ward_tpr.xlsx", sheet_name="Unmatched", engine="openpyxl")[
            "WardName"
        ]
    )
    assert left == sorted(
        [
            "Fagge D",
            "Fagge E",
            "Kauyen Alu",
            "Unguwa Uku",
            "Fagge D1",
            "Fagge D2",
            "Unguwa Uku Kauyen Alu",
            "Unguwa Uku Cikin Gari",
        ]
    )


def test_a_second_run_on_another_state_leaves_no_trace_of_the_first(
    kwara: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "same"
    _run(tmp_path, kwara["tmp"] / "kwara.csv", ILORIN, out)
    listed = wards_of(KANO_LGAS)
    write_export(
        tmp_path / "kano.csv", "Kano", "kn", [(lga, w) for lga, w, _ in listed]
    )
    _run(tmp_path, tmp_path / "kano.csv", KANO, out)
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*record["files"].values(), "run.json"]
    )
    assert record["selections"]["state"] == "Kano"
    for name in (
        "ward_tpr.csv",
        "risk_analysis.csv",
        "ward_matches.csv",
        "report.md",
        "wards.geojson",
    ):
        text = (out / name).read_text(encoding="utf-8")
        assert "Kwara" not in text and "Ilorin" not in text and "KWS" not in text, name
    book = pd.read_excel(out / "ward_tpr.xlsx", sheet_name=None, engine="openpyxl")
    assert all("Kwara" not in frame.to_csv() for frame in book.values())


def test_the_shapefile_zip_has_short_unique_fields_and_reads_back(
    kwara: dict[str, Any],
) -> None:
    data = (kwara["out"] / "wards_shapefile.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        meta = json.loads(archive.read("metadata.json"))
    parts = [f"wards.{s}" for s in ("shp", "shx", "dbf", "prj", "cpg")]
    assert names == sorted([*parts, "metadata.json"])
    fields = meta["fields"]
    assert all(len(v) <= 10 for v in fields.values())
    assert len({v.lower() for v in fields.values()}) == len(fields)
    assert fields["Microscopy_Tested"] == "Microscopy"
    assert fields["Microscopy_Positive"] == "Microsco01"
    assert meta["feature_count"] == 35 and meta["crs"] == "EPSG:4326"
    back = read_boundaries(data, "wards_shapefile.zip")  # our own reader reads it back
    assert len(back.frame) == 35 and back.frame.crs.to_epsg() == 4326
    doc = json.loads((kwara["out"] / "wards.geojson").read_text(encoding="utf-8"))
    assert doc["tpr_widgets"]["selections"]["test_method"] == "rdt"
    geo = gpd.read_file(kwara["out"] / "wards.geojson")
    assert len(geo) == 35 and geo["TPR"].notna().sum() == 29


def test_the_map_png_shows_data_wards_in_colour_and_missing_ones_grey(
    kwara: dict[str, Any],
) -> None:
    png = kwara["out"] / "tpr_map.png"
    text = Image.open(png).text  # the run's provenance rides in the PNG
    assert text["Title"] == "Kwara: ward TPR, all facilities, under 5, RDT, period all"
    assert json.loads(text["Description"])["inputs"][1]["name"] == ILORIN.name
    artifacts = os.environ.get("TPR_WIDGETS_ARTIFACTS")
    if artifacts:  # kept for a person to look at
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, Path(artifacts) / "kwara_ilorin_tpr_map.png")
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape[0] > 400 and image.shape[1] > 400
    colours = {tuple(c) for c in image.reshape(-1, 3)[::7]}
    assert (217, 217, 217) in colours  # the grey of wards without data
    assert (128, 0, 38) in colours or any(
        r > 150 and g < 60 and b < 60 for r, g, b in colours
    )


def test_zipped_shapefile_input_joins_like_the_geojson(
    kwara: dict[str, Any], tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in ILORIN.parent.glob("Ilorin_3LGA.*"):
            if part.suffix in (".shp", ".shx", ".dbf", ".prj"):
                archive.write(part, f"Ilorin_3LGA/{part.name}")
    zipped = tmp_path / "ilorin.zip"
    zipped.write_bytes(buffer.getvalue())
    out = _run(tmp_path, kwara["tmp"] / "kwara.csv", zipped, tmp_path / "out")
    a = pd.read_csv(out / "risk_analysis.csv")
    b = pd.read_csv(kwara["out"] / "risk_analysis.csv")
    pd.testing.assert_frame_equal(
        a.sort_values("WardCode").reset_index(drop=True),
        b.sort_values("WardCode").reset_index(drop=True),
    )
