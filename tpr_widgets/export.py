"""Files for the people and programs downstream of the ward table.

`write_run` writes one run's tables into an output folder and records what it
wrote in `run.json`, so the next run into the same folder removes exactly those
files first: nothing stale from an earlier upload or state can be picked up.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tpr_widgets._version import __version__
from tpr_widgets.errors import InputError

RUN_FILE = "run.json"
TABLE_FILES = {
    "ward": "ward_tpr.csv",
    "lga": "lga_tpr.csv",
    "state": "state_tpr.csv",
    # Only when the rows cover several periods / several years.
    "period": "ward_period_tpr.csv",
    "trend": "ward_trend.csv",
}
# Further files a run may write (see tpr_widgets.outputs); role -> file name.
EXTRA_FILES = {
    "workbook": "ward_tpr.xlsx",
    "risk": "risk_analysis.csv",
    "matches": "ward_matches.csv",
    "geojson": "wards.geojson",
    "shapefile": "wards_shapefile.zip",
    "map": "tpr_map.png",
    "report": "report.md",
}


def table_csv(table: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV without BOM; rates with 2 decimals, empty if none."""
    return table.to_csv(index=False, float_format="%.2f", lineterminator="\n").encode(
        "utf-8"
    )


def _remove_previous(out: Path) -> None:
    record = out / RUN_FILE
    if not record.is_file():
        return
    try:
        files = json.loads(record.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError):
        files = {}
    ours = set(TABLE_FILES.values()) | set(EXTRA_FILES.values())
    for name in files.values() if isinstance(files, dict) else []:
        # Only the files this module writes, never a name from elsewhere.
        target = out / str(name)
        if str(name) in ours and target.is_file() and not target.is_symlink():
            target.unlink()
    record.unlink()


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a fresh temp file (never a planted link)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(
    tables: Mapping[str, pd.DataFrame],
    out: Path,
    provenance: Mapping[str, Any],
    extra: Mapping[str, bytes] | None = None,
) -> dict[str, Path]:
    """Write the tables and `run.json` into `out`; returns role -> path.

    `extra` maps roles of `EXTRA_FILES` to the bytes of those files.
    """
    unknown = set(extra or {}) - set(EXTRA_FILES)
    if unknown:
        raise ValueError(f"Unknown output roles: {', '.join(sorted(unknown))}.")
    if not str(out).strip():
        raise InputError("The output folder name is empty; give a folder with --out.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"The output folder {str(out)!r} cannot be created ({error.strerror}); "
            "give a folder path that is not a file, with --out."
        ) from None
    _remove_previous(out)
    written: dict[str, Path] = {}
    for name, filename in TABLE_FILES.items():
        if name in tables:
            path = out / filename
            _write(path, table_csv(tables[name]))
            written[name] = path
    for role, data in (extra or {}).items():
        path = out / EXTRA_FILES[role]
        _write(path, data)
        written[role] = path
    record = {
        "package": "tpr_widgets",
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **provenance,
        "files": {name: path.name for name, path in written.items()},
    }
    _write(out / RUN_FILE, json.dumps(record, indent=2, ensure_ascii=False).encode())
    return written
