"""Files for the people and programs downstream of the ward table.

`write_run` writes one run's tables into an output folder and records what it
wrote in `run.json`, so the next run into the same folder removes exactly those
files first: nothing stale from an earlier upload or state can be picked up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tpr_widgets._version import __version__

RUN_FILE = "run.json"
TABLE_FILES = {"ward": "ward_tpr.csv", "lga": "lga_tpr.csv", "state": "state_tpr.csv"}


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
    for name in files.values() if isinstance(files, dict) else []:
        target = out / str(name)
        # Only plain file names this module wrote, never a path elsewhere.
        if Path(str(name)).name == str(name) and target.is_file():
            target.unlink()
    record.unlink()


def write_run(
    tables: Mapping[str, pd.DataFrame], out: Path, provenance: Mapping[str, Any]
) -> dict[str, Path]:
    """Write the tables and `run.json` into `out`; returns role -> path."""
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous(out)
    written: dict[str, Path] = {}
    for name, filename in TABLE_FILES.items():
        if name in tables:
            path = out / filename
            tmp = path.with_name(f".{filename}.tmp")
            tmp.write_bytes(table_csv(tables[name]))
            os.replace(tmp, path)
            written[name] = path
    record = {
        "package": "tpr_widgets",
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **provenance,
        "files": {name: path.name for name, path in written.items()},
    }
    (out / RUN_FILE).write_text(
        json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return written
