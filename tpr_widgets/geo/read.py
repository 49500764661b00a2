"""Read an uploaded ward boundary file, guarded like any upload.

Accepts GeoJSON, a zipped shapefile (`.shp`, `.shx`, `.dbf` and optionally
`.prj`, `.cpg` in one zip) and GeoPackage. The bytes are checked before any
reader sees them: a size cap, for zips a member count, an uncompressed-size and
ratio cap, no absolute or `..` member paths, no links, exactly one shapefile.
Members are written under fresh names into a private temporary folder, so
nothing in the archive chooses where a file lands. The result has the
standard columns `WardName, WardCode, LGA, LGACode, State, StateCode` and a
geometry in EPSG:4326 (a file without a CRS whose coordinates fit lon/lat is
taken as EPSG:4326, with a note).
"""

from __future__ import annotations

import io
import logging
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Final

import geopandas as gpd
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.settings import Settings

log = logging.getLogger(__name__)

_ZIP_MAX_ENTRIES: Final = 50
_ZIP_MAX_UNCOMPRESSED: Final = 1024**3
_ZIP_MAX_RATIO: Final = 100
_SHAPE_PARTS: Final = (".shp", ".shx", ".dbf", ".prj", ".cpg")

# Standard column -> accepted spellings (compared lower-case, no spaces/_).
_COLUMNS: Final = {
    "WardName": ("wardname", "ward", "wardnam", "name"),
    "WardCode": ("wardcode", "wardid", "wardpcode"),
    "LGA": ("lganame", "lga", "lganame1", "adm2name", "admin2name"),
    "LGACode": ("lgacode", "lgapcode", "adm2pcode", "admin2pcode"),
    "State": ("statename", "state", "adm1name", "admin1name"),
    "StateCode": ("statecode", "statepcode", "adm1pcode"),
}
STANDARD: Final = tuple(_COLUMNS)


class Boundaries:
    """A boundary file read into standard columns, with notes of what was done."""

    def __init__(self, frame: gpd.GeoDataFrame, notes: list[str]) -> None:
        self.frame = frame
        self.notes = notes


def _kind(filename: str, data: bytes) -> str:
    suffix = Path(filename).suffix.lower()
    if data[:4] == b"PK\x03\x04" or suffix == ".zip":
        return "zip"
    if data[:16].startswith(b"SQLite format 3") or suffix == ".gpkg":
        return "gpkg"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return "geojson"
    raise InputError(
        f"{filename!r} is not a boundary file this app reads; upload a GeoJSON, "
        "a zipped shapefile (.zip) or a GeoPackage (.gpkg)."
    )


def _unzip(data: bytes, filename: str, folder: Path) -> Path:
    """Write the zip's shapefile parts into `folder`; the path of the .shp."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(
            f"{filename!r} is not a readable zip file; zip the shapefile again."
        ) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > _ZIP_MAX_ENTRIES:
        raise InputError(
            f"{filename!r} holds {len(members)} files; a zipped shapefile has at "
            "most a few. Zip only the ward shapefile's parts."
        )
    total = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if total > _ZIP_MAX_UNCOMPRESSED or total / packed > _ZIP_MAX_RATIO:
        raise InputError(
            f"{filename!r} would unpack to {total:,} bytes, far more than a ward "
            "shapefile; it is refused."
        )
    shapes: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or ":" in member.filename:
            raise InputError(
                f"{filename!r} has a member with an unsafe path "
                f"({member.filename[:80]!r}); zip the shapefile's files directly."
            )
        if stat.S_ISLNK(member.external_attr >> 16):
            raise InputError(
                f"{filename!r} has a link ({member.filename[:80]!r}); zip the "
                "shapefile's files themselves."
            )
        suffix = path.suffix.lower()
        if suffix in _SHAPE_PARTS and not path.name.startswith("."):
            stem = str(path.with_suffix("")).lower()
            shapes.setdefault(stem, {})[suffix] = member
    complete = {s: p for s, p in shapes.items() if {".shp", ".shx", ".dbf"} <= set(p)}
    if len(complete) != 1:
        found = ", ".join(sorted(complete)) or "none"
        raise InputError(
            f"{filename!r} must hold exactly one shapefile (.shp with .shx and "
            f".dbf); it holds {len(complete)} ({found}). Zip one ward layer."
        )
    (parts,) = complete.values()
    for suffix, member in parts.items():
        (folder / f"boundary{suffix}").write_bytes(archive.read(member))
    return folder / "boundary.shp"


def _standardise(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    notes: list[str] = []
    keys = {str(c).lower().replace("_", "").replace(" ", ""): c for c in frame.columns}
    out = gpd.GeoDataFrame(geometry=frame.geometry.values, crs=frame.crs)
    for standard, spellings in _COLUMNS.items():
        source = next((keys[s] for s in spellings if s in keys), None)
        if source is None or source == frame.geometry.name:
            out[standard] = None
            continue
        values = frame[source].astype("object")
        values = values.where(values.notna(), None)
        out[standard] = [
            None if v is None or not str(v).strip() else str(v).strip() for v in values
        ]
        if standard != source:
            notes.append(f"column {source!r} used as {standard}")
    for extra in ("Urban", "AMAPCODE"):
        if extra in frame.columns:
            out[extra] = frame[extra].astype("object").values
    if out["WardName"].isna().all() and out["WardCode"].isna().all():
        raise InputError(
            "The boundary file has no ward name or ward code column (looked for "
            f"WardName, WardCode; it has {', '.join(map(str, frame.columns))}). "
            "Rename the ward name column to WardName."
        )
    return out, notes


def _to_wgs84(frame: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    if frame.crs is None:
        bounds = frame.geometry.dropna().total_bounds if len(frame) else None
        if (
            bounds is not None
            and len(bounds) == 4
            and (
                -180 <= bounds[0] <= bounds[2] <= 180
                and -90 <= bounds[1] <= bounds[3] <= 90
            )
        ):
            notes.append(
                "the file has no CRS; its lon/lat coordinates are taken as EPSG:4326"
            )
            return frame.set_crs(4326)
        raise InputError(
            "The boundary file has no coordinate reference system and its "
            "coordinates are not longitude/latitude; add the .prj file to the zip."
        )
    return frame if frame.crs.to_epsg() == 4326 else frame.to_crs(4326)


def read_boundaries(
    data: bytes, filename: str, max_bytes: int | None = None
) -> Boundaries:
    """The boundary file's features in standard columns, EPSG:4326."""
    limit = max_bytes or Settings.from_env().max_upload_bytes
    if not isinstance(data, bytes | bytearray):
        raise InputError("A boundary upload must be the file's bytes.")
    if not data:
        raise InputError(f"The boundary file {filename!r} is empty.")
    if len(data) > limit:
        raise InputError(
            f"The boundary file {filename!r} is {len(data) / 1e6:.0f} MB, above the "
            f"limit of {limit / 1e6:.0f} MB; cut it to the state's wards."
        )
    kind = _kind(filename, bytes(data))
    with tempfile.TemporaryDirectory(prefix="tpr-geo-") as tmp:
        folder = Path(tmp)
        if kind == "zip":
            path = _unzip(bytes(data), filename, folder)
        else:
            path = folder / ("boundary.gpkg" if kind == "gpkg" else "boundary.geojson")
            path.write_bytes(bytes(data))
        try:
            frame = gpd.read_file(path, engine="pyogrio")
        except Exception as error:  # the reader's own errors vary by driver
            # The reader names our private temporary file: never show that path.
            detail = str(error).replace(str(path), "the file").replace(tmp, "")
            raise InputError(
                f"The boundary file {filename!r} could not be read as {kind} "
                f"({detail[:160]}); export it again as GeoJSON."
            ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
        raise InputError(f"The boundary file {filename!r} has no features.")
    standard, notes = _standardise(frame)
    standard = _to_wgs84(standard, notes)
    nulls = int((standard.geometry.isna() | standard.geometry.is_empty).sum())
    if nulls:
        notes.append(f"{nulls} feature(s) have no geometry; they are left off the map")
    log.info("read %d boundary features from %r", len(standard), filename)
    return Boundaries(standard.reset_index(drop=True), notes)


def null_geometry(frame: gpd.GeoDataFrame) -> pd.Series:
    """True for features without a usable geometry."""
    mask: pd.Series = frame.geometry.isna() | frame.geometry.is_empty
    return mask
