"""Write joined wards as GeoJSON and as a zipped shapefile.

Shapefile field names are limited to 10 characters; `field_names` shortens
them without collisions (`Microscopy_Tested` -> `Microscopy`,
`Microscopy_Positive` -> `Microsco01`) and the zip carries `metadata.json` with
the mapping back to the full names, the CRS and the feature count.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

SHAPE_STEM = "wards"


def field_names(columns: Iterable[str]) -> dict[str, str]:
    """Full column name -> unique shapefile field name of at most 10 characters."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        name = str(column)[:10]
        n = 0
        while name.lower() in used:
            n += 1
            name = f"{str(column)[: 10 - len(str(n).zfill(2))]}{n:02d}"
        used.add(name.lower())
        out[str(column)] = name
    return out


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns as types every writer takes (objects as text, empty as null)."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        series = out[column]
        if series.dtype == bool or series.dtype == object:
            out[column] = [
                None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                for v in series
            ]
    return out


def geojson_bytes(
    frame: gpd.GeoDataFrame, provenance: dict[str, Any] | None = None
) -> bytes:
    """The joined wards as GeoJSON (EPSG:4326), null geometries kept as null.

    `provenance` becomes the collection's foreign member `tpr_widgets`.
    """
    text: str = _plain(frame).to_json(na="null", drop_id=True, ensure_ascii=False)
    if provenance is None:
        return text.encode("utf-8")
    doc = json.loads(text)
    doc["tpr_widgets"] = provenance
    return json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")


def shapefile_zip(frame: gpd.GeoDataFrame, meta: dict[str, Any]) -> bytes:
    """`wards.shp/.shx/.dbf/.prj/.cpg` and `metadata.json` in one zip."""
    plain = _plain(frame)
    columns = [c for c in plain.columns if c != plain.geometry.name]
    names = field_names(columns)
    plain = plain.rename(columns=names)
    with tempfile.TemporaryDirectory(prefix="tpr-shp-") as tmp:
        path = Path(tmp) / f"{SHAPE_STEM}.shp"
        plain.to_file(path, engine="pyogrio", encoding="UTF-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
            metadata = {
                **meta,
                "feature_count": len(frame),
                "crs": "EPSG:4326",
                "fields": names,
                "has_tpr_data": bool(frame["TPR"].notna().any())
                if "TPR" in frame
                else False,
            }
            archive.writestr(
                "metadata.json", json.dumps(metadata, indent=2, ensure_ascii=False)
            )
    return buffer.getvalue()
