"""Boundary files with the defects recorded in domain.md 5.2, and upload guards.

Built in code from the real Ilorin boundaries (shared data folder beside the
clone, `../shared/data/`; skipped with that reason when it is absent): one
ward name occurring in two LGAs, features with null codes and names, a null
geometry; and archives that must be refused before any reader sees them.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.geo._synthetic import ILORIN, ILORIN_LGAS, SHARED, wards_of, write_export
from tpr_widgets.cli import main
from tpr_widgets.errors import InputError
from tpr_widgets.geo.join import join_wards
from tpr_widgets.geo.lgas import derive_lgas
from tpr_widgets.geo.read import read_boundaries
from tpr_widgets.geo.run import boundary_join
from tpr_widgets.maps import choropleth_png

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is absent"
)


def _ilorin() -> dict[str, Any]:
    return json.loads(ILORIN.read_text(encoding="utf-8"))


def _ward_table(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "State": "Kwara",
                "LGA": lga,
                "WardName": ward,
                "TPR": tpr,
                "Tested": 100,
                "Positive": tpr,
                "Flags": "",
            }
            for lga, ward, tpr in rows
        ]
    )


def _defective() -> bytes:
    """Ilorin with Adewole (Ilorin West) renamed Apado, as Apado of Ilorin East;
    Ajikobi with no name and no code; Baboko with no geometry."""
    doc = _ilorin()
    for feature in doc["features"]:
        p = feature["properties"]
        if p["WardName"] == "Adewole":
            p["WardName"] = "Apado"
        elif p["WardName"] == "Ajikobi":
            p["WardName"] = None
            p["WardCode"] = None
        elif p["WardName"] == "Baboko":
            feature["geometry"] = None
    return json.dumps(doc).encode()


def test_duplicate_names_null_keys_and_null_geometry() -> None:
    ward = _ward_table(
        [
            ("Ilorin East", "Apado", 11.0),
            ("Ilorin West", "Apado", 22.0),
            ("Ilorin West", "Baboko", 33.0),
            ("Ilorin West", "Ajikobi", 44.0),
            ("Ilorin West", "", 55.0),
        ]
    )
    result = boundary_join(ward, _defective(), "ilorin.geojson", "Kwara")
    frame = result.frame
    assert len(frame) == 35  # one row per feature, the null ones included
    by_code = frame.set_index("WardCode")
    # The same name in two LGAs: each joins inside its own LGA, no extra rows.
    assert by_code.loc["KWSKEY02", "TPR"] == 11.0
    assert by_code.loc["KWSLRN01", "TPR"] == 22.0
    assert sorted(frame.loc[frame["Data_WardName"] == "Apado", "WardName"]) == [
        "Apado (Ilorin East)",
        "Apado (Ilorin West)",
    ]
    # A feature without name or code never joins; the data's Ajikobi and the
    # nameless data ward stay unmatched.
    nameless = frame[frame["WardCode"].isna()]
    assert len(nameless) == 1 and nameless["TPR"].isna().all()
    assert sorted(result.unmatched_data["WardName"]) == ["", "Ajikobi"]
    # The null geometry is a row with its data, reported, and left off the map.
    assert by_code.loc["KWSLRN04", "TPR"] == 33.0
    assert list(result.null_geometry["WardCode"]) == ["KWSLRN04"]
    assert result.counts["null_geometry"] == 1
    png = choropleth_png(frame, {"state": "Kwara"})
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_null_codes_in_the_data_side_never_behave_like_one_code() -> None:
    # 46 Adamawa wards with null codes once joined as one code: here features
    # without WardCode and a recode by code must not pick any of them.
    doc = _ilorin()
    for feature in doc["features"][:5]:
        feature["properties"]["WardCode"] = None
    data = json.dumps(doc).encode()
    frame, _ = derive_lgas(read_boundaries(data, "x.geojson").frame, "Kwara")
    ward = _ward_table([("Ilorin East", "Magaji Are I", 10.0)])
    recode = pd.DataFrame(
        {"LGA": ["Ilorin East"], "WardName": ["Magaji Are I"], "WardCode": ["None"]}
    )
    result = join_wards(ward, frame, recode, "Kwara")
    assert result.counts["matched"] == 0
    assert any("not used" in note for note in result.notes)


def test_boundaries_of_another_state_are_refused() -> None:
    kano = (
        SHARED
        / "ward_boundaries"
        / "kano_metro_6lga"
        / "Kano_metro_ward_sixLGAs.geojson"
    )
    with pytest.raises(InputError, match="no wards of Kwara"):
        boundary_join(
            _ward_table([("Ilorin East", "Apado", 1.0)]),
            kano.read_bytes(),
            kano.name,
            "Kwara",
        )


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _shape_parts(prefix: str = "") -> dict[str, bytes]:
    return {
        f"{prefix}Ilorin_3LGA{p.suffix}": p.read_bytes()
        for p in ILORIN.parent.glob("Ilorin_3LGA.*")
        if p.suffix in (".shp", ".shx", ".dbf")
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_zip({**_shape_parts(), "../evil.txt": b"x"}), "unsafe path"),
        (_zip({**_shape_parts(), **_shape_parts("copy/")}), "exactly one shapefile"),
        (_zip({"readme.txt": b"no shapes"}), "exactly one shapefile"),
        (_zip({f"f{i}.txt": b"" for i in range(60)}), "holds 60 files"),
        (
            _zip({"Ilorin_3LGA.shp": b"\0" * 5_000_000, "a.shx": b"", "a.dbf": b""}),
            "far more than",
        ),
        (b"PK\x03\x04 broken", "not a readable zip"),
        (b"<html></html>", "not a boundary file"),
        (
            b'{"type": "FeatureCollection", "features": [',
            "could not be read as geojson",
        ),
        (b'{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_bad_boundary_uploads_get_one_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_boundaries(data, "upload.zip" if data[:2] == b"PK" else "upload.geojson")
    assert "/tmp" not in str(caught.value) and "tpr-geo" not in str(caught.value)


def test_size_cap() -> None:
    with pytest.raises(InputError, match="above the limit"):
        read_boundaries(ILORIN.read_bytes(), ILORIN.name, max_bytes=1000)


def test_cli_reports_a_bad_boundary_file_as_an_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_export(
        tmp_path / "k.csv",
        "Kwara",
        "kw",
        [(lga, w) for lga, w, _ in wards_of(ILORIN_LGAS)][:3],
    )
    bad = tmp_path / "b.geojson"
    bad.write_text("{not json")
    code = main(
        [
            "compute",
            str(tmp_path / "k.csv"),
            "--boundaries",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: The boundary file 'b.geojson'")
    code = main(
        [
            "compute",
            str(tmp_path / "k.csv"),
            "--recode",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2


def test_a_geopackage_reads_like_the_geojson(tmp_path: Path) -> None:
    import geopandas as gpd

    path = tmp_path / "ilorin.gpkg"
    gpd.read_file(ILORIN).set_crs(4326, allow_override=True).to_file(
        path, driver="GPKG"
    )
    from_gpkg = read_boundaries(path.read_bytes(), path.name).frame
    from_json = read_boundaries(ILORIN.read_bytes(), ILORIN.name).frame
    assert len(from_gpkg) == 35
    assert list(from_gpkg["WardCode"]) == list(from_json["WardCode"])
    assert from_gpkg.geometry.geom_equals_exact(
        from_json.geometry, tolerance=1e-9
    ).all()


def test_a_shapefile_without_prj_is_taken_as_lon_lat_with_a_note() -> None:
    # The Kano zip ships without a .prj; its coordinates are lon/lat degrees.
    folder = SHARED / "ward_boundaries" / "kano_metro_6lga"
    parts = {
        p.name: p.read_bytes()
        for p in folder.glob("Kano_metro_ward_sixLGAs.*")
        if p.suffix in (".shp", ".shx", ".dbf")
    }
    read = read_boundaries(_zip(parts), "kano.zip")
    assert len(read.frame) == 66 and read.frame.crs.to_epsg() == 4326
    assert any("no CRS" in note for note in read.notes)
    bounds = read.frame.total_bounds  # SOURCE note: lon 8.444-8.620, lat 11.933-12.073
    assert bounds == pytest.approx([8.444, 11.933, 8.620, 12.073], abs=0.001)
