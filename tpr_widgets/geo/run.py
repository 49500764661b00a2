"""The boundary steps of a run in one call, and reading a recode table.

`boundary_join` reads the uploaded boundary bytes, gives features their LGA
and state names, and joins the ward table; the CLI and the app both use it.
"""

from __future__ import annotations

import io

import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.geo.join import JoinResult, join_wards, parse_recode
from tpr_widgets.geo.lgas import derive_lgas
from tpr_widgets.geo.read import read_boundaries

RECODE_MAX_BYTES = 2 * 1024 * 1024
RECODE_COLUMNS = ("LGA", "WardName", "BoundaryWard", "WardCode")


def boundary_join(
    ward: pd.DataFrame,
    data: bytes,
    filename: str,
    state: str | None,
    recode: pd.DataFrame | None = None,
) -> JoinResult:
    """Read, derive LGAs, join: one row per boundary feature of `state`."""
    boundaries = read_boundaries(data, filename)
    chosen = state if state and state != "all" else None
    frame, lga_notes = derive_lgas(boundaries.frame, chosen)
    result = join_wards(ward, frame, recode, chosen)
    result.notes[:0] = boundaries.notes + lga_notes
    return result


def read_recode(data: bytes, filename: str) -> pd.DataFrame:
    """A recode table from CSV bytes: `LGA, WardName, BoundaryWard, WardCode`."""
    if len(data) > RECODE_MAX_BYTES:
        raise InputError(
            f"The recode table {filename!r} is larger than 2 MB; a recode table "
            "has one short row per ward."
        )
    try:
        text = data.decode("utf-8-sig")
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise InputError(
            f"The recode table {filename!r} is not a UTF-8 CSV with the columns "
            f"{', '.join(RECODE_COLUMNS)}; save it as CSV and try again."
        ) from None
    return parse_recode(table)
