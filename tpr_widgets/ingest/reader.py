"""Read a spreadsheet upload into header cells and typed body columns, guarded.

This is the only place that touches file formats. Uploads pass the checks in
`guard` first. Workbooks (.xlsx, .xls) are then parsed by fastexcel in a child
process with memory and time limits (`sandbox`), which finds the sheet that
holds the data and its header row and returns the sheet as Arrow columns: counts
come back as float64, and a column with any text cell comes back as text (type
inference looks at every row, so a stray word in a count column is found and
reported later, never read as empty). CSV text is decoded (BOM, UTF-16, UTF-8,
cp1252, then detection) and parsed here. Which column means what is decided
later, in `roles`.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest import guard
from tpr_widgets.ingest.headers import role_of
from tpr_widgets.ingest.sandbox import (
    HEADER_SCAN_ROWS,
    ChildError,
    new_workdir,
    read_in_child,
)

log = logging.getLogger(__name__)

DEFAULT_READ_MEMORY_MB: Final = 3072
DEFAULT_READ_SECONDS: Final = 300


@dataclass(frozen=True)
class RawSheet:
    """The cells of the sheet that holds the data."""

    kind: str  # "xlsx", "xls" or "csv"
    sheet: str | None
    header_row: int  # 0-based row index of the header within the sheet
    headers: list[str]
    body: pd.DataFrame  # columns named 0..n-1, one per header
    first_column: int = 0  # 0-based sheet column of body column 0


def _score(row: list[Any]) -> int:
    return sum(1 for cell in row if isinstance(cell, str) and role_of(cell))


def _find_header(rows: list[list[Any]], header_row: int | None) -> int:
    if header_row is not None:
        if not 0 <= header_row < len(rows):
            raise InputError(
                f"The header row {header_row + 1} is beyond the end of the sheet "
                f"({len(rows)} rows)."
            )
        return header_row
    scores = [_score(row) for row in rows[:HEADER_SCAN_ROWS]]
    return max(range(len(scores)), key=lambda i: (scores[i], -i), default=0)


def _decode(data: bytes) -> str:
    """Text of a CSV upload: UTF-8 (with or without BOM), UTF-16 with a BOM,
    then cp1252 (what Excel on Windows writes), then the best guess."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:2_000_000]).best()
    try:
        return data.decode(best.encoding if best is not None else "latin-1")
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")


def _not_a_table() -> InputError:
    return InputError(
        "The file is neither a spreadsheet nor a text (CSV) file. Upload the "
        ".xlsx, .xls or .csv export from DHIS2 or the NMEP workbook."
    )


def _csv(data: bytes, filename: str, header_row: int | None) -> RawSheet:
    text = _decode(data)
    if "\x00" in text[:10_000]:
        raise _not_a_table()
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=object,
            keep_default_na=False,
            sep=None,
            engine="python",
            on_bad_lines="skip",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError):
        raise InputError(
            "The text file could not be read as a table (CSV). Check that it has "
            "one header line and comma-separated values, or upload the Excel file."
        ) from None
    frame = frame.where(frame != "", None)
    rows: list[list[Any]] = frame.head(HEADER_SCAN_ROWS).values.tolist()
    row = _find_header(rows, header_row)
    if not rows or _score(rows[row]) == 0:
        raise _no_headers(filename)
    headers = ["" if v is None else str(v).strip() for v in frame.iloc[row]]
    body = frame.iloc[row + 1 :].reset_index(drop=True)
    body.columns = pd.RangeIndex(body.shape[1])
    return RawSheet("csv", None, row, headers, body)


def _no_headers(filename: str) -> InputError:
    return InputError(
        f"No sheet of {filename!r} has recognisable column headers (such as "
        "'Ward' or 'Persons tested positive for malaria by RDT <5yrs'). Upload "
        "the DHIS2 export or the NMEP workbook."
    )


def _child_error(error: ChildError, filename: str, kind: str) -> InputError:
    code = error.code
    if code == "password":
        return InputError(
            "The workbook is protected with a password. Remove the password in "
            "Excel (File > Info > Protect Workbook), save, and upload it again."
        )
    if code == "no_headers":
        return _no_headers(filename)
    if code == "no_sheet":
        return InputError(
            f"The workbook has no sheet of that name; it has {error.detail}."
        )
    if code == "header_row":
        return InputError(
            "The recorded header row is beyond the rows of the sheet; upload the "
            "file again so its header row is detected afresh."
        )
    if code == "memory":
        return InputError(
            f"Reading {filename!r} needed more memory than this app allows "
            "(TPR_WIDGETS_READ_MEMORY_MB); it was stopped. A real export this "
            "size does not need that much: export it again, or split it by state."
        )
    if code == "time":
        return InputError(
            f"Reading {filename!r} took longer than this app allows "
            "(TPR_WIDGETS_READ_SECONDS); it was stopped. Export it again, or "
            "split it by state."
        )
    lines = error.detail.strip().splitlines()
    detail = f" ({' '.join(lines[0].split())[:160]})" if lines else ""
    return InputError(
        f"The {kind} workbook {filename!r} could not be read{detail}. Open it in "
        "Excel, save it again as .xlsx, and upload that file."
    )


def _workbook(
    data: bytes,
    filename: str,
    kind: str,
    *,
    header_row: int | None,
    sheet: str | None,
    memory_mb: int,
    seconds: int,
) -> RawSheet:
    import pyarrow as pa

    with new_workdir() as folder:
        from pathlib import Path

        try:
            found = read_in_child(
                data,
                Path(folder),
                sheet=sheet,
                header_row=header_row,
                memory_mb=memory_mb,
                seconds=seconds,
            )
        except ChildError as error:
            raise _child_error(error, filename, kind) from None
        with pa.memory_map(str(found.arrow_path)) as source:
            table = pa.ipc.open_file(source).read_all()
        body = table.to_pandas(split_blocks=True, self_destruct=True)
    body.columns = pd.RangeIndex(body.shape[1])
    return RawSheet(
        kind=kind,
        sheet=found.sheet,
        header_row=found.header_row,
        headers=found.headers,
        body=body,
        first_column=found.first_column,
    )


def read_raw(
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    header_row: int | None = None,
    sheet: str | None = None,
    memory_mb: int = DEFAULT_READ_MEMORY_MB,
    seconds: int = DEFAULT_READ_SECONDS,
) -> RawSheet:
    """The data sheet of an upload, with its detected (or given) header row."""
    if not data:
        raise InputError(f"The file {filename!r} is empty. Upload the export again.")
    if len(data) > max_bytes:
        raise InputError(
            f"The file {filename!r} is {len(data) / 1024**2:,.0f} MB, above this "
            f"app's limit of {max_bytes / 1024**2:,.0f} MB. Export fewer states or "
            "periods at a time, or raise TPR_WIDGETS_MAX_UPLOAD_MB."
        )
    kind = guard.kind_of(data)
    if kind == "csv":
        raw = _csv(data, filename, header_row)
    else:
        if kind == "xlsx":
            guard.check_zip(data)
        else:
            guard.check_ole(data)
        raw = _workbook(
            data,
            filename,
            kind,
            header_row=header_row,
            sheet=sheet,
            memory_mb=memory_mb,
            seconds=seconds,
        )
    log.info(
        "read %s: sheet %r, header row %d, %d rows",
        kind,
        raw.sheet,
        raw.header_row + 1,
        len(raw.body),
    )
    return raw
