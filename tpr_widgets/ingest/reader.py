"""Read a spreadsheet upload into header cells and body rows, guarded.

This is the only place that touches file formats. It recognises the container
by its signature (not by the file name), refuses what is not safe to open
(oversized, zip bombs, macros, external links, encrypted files), finds the sheet
that holds the data and the header row within it, and returns cells as Python
values. Which column means what is decided later, in `detect`.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest.headers import role_of

log = logging.getLogger(__name__)

HEADER_SCAN_ROWS: Final = 30
_ZIP_MAX_ENTRIES: Final = 5_000
_ZIP_MAX_UNCOMPRESSED: Final = 3 * 1024**3
_ZIP_MAX_RATIO: Final = 250
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC: Final = b"PK\x03\x04"


@dataclass(frozen=True)
class RawSheet:
    """The cells of the sheet that holds the data."""

    kind: str  # "xlsx", "xls" or "csv"
    sheet: str | None
    header_row: int  # 0-based row index of the header within the sheet
    headers: list[str]
    body: pd.DataFrame  # object columns named 0..n-1, one per header


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(
            "The file looks like an Excel workbook but its contents are damaged. "
            "Open it in Excel and save it again as .xlsx, then upload it again."
        ) from None
    entries = archive.infolist()
    if len(entries) > _ZIP_MAX_ENTRIES:
        raise InputError(
            f"The workbook holds {len(entries):,} internal parts, far more than a "
            "data export has; it was not opened. Export the data again from DHIS2."
        )
    total = sum(entry.file_size for entry in entries)
    packed = max(1, sum(entry.compress_size for entry in entries))
    if total > _ZIP_MAX_UNCOMPRESSED or total / packed > _ZIP_MAX_RATIO:
        raise InputError(
            f"The workbook would expand to {total / 1024**2:,.0f} MB "
            f"({total / packed:,.0f} times its size); it was not opened because "
            "that is how compressed-file attacks look. Export the data again."
        )
    names = [entry.filename.lower() for entry in entries]
    if any(name.endswith("vbaproject.bin") for name in names):
        raise InputError(
            "The workbook contains macros, which this app does not open. Save it "
            "as a plain .xlsx workbook (without macros) and upload it again."
        )
    if any("externallink" in name for name in names):
        raise InputError(
            "The workbook links to other files (external links), which this app "
            "does not follow. Paste the values in place, save, and upload again."
        )


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
    best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=0)
    return best


def _frame(rows: list[list[Any]], header_row: int) -> tuple[list[str], pd.DataFrame]:
    width = max((len(row) for row in rows[: header_row + 1]), default=0)
    headers = [
        "" if cell is None else str(cell).strip() for cell in rows[header_row][:width]
    ]
    headers += [""] * (width - len(headers))
    body = pd.DataFrame(rows[header_row + 1 :], dtype=object)
    body = body.reindex(columns=range(width))
    return headers, body


def _excel_sheets(data: bytes, kind: str) -> dict[str, Callable[[], list[list[Any]]]]:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise InputError(
            "The workbook is protected with a password. Remove the password in "
            "Excel (File > Info > Protect Workbook), save, and upload it again."
        ) from None
    except (CalamineError, ValueError, OSError) as error:
        raise InputError(
            f"The {kind} workbook could not be read ({error}). Open it in Excel, "
            "save it again as .xlsx, and upload that file."
        ) from None

    def loader(name: str) -> Callable[[], list[list[Any]]]:
        def load() -> list[list[Any]]:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            return [[None if cell == "" else cell for cell in row] for row in rows]

        return load

    return {name: loader(name) for name in book.sheet_names}


def _decode(data: bytes) -> str:
    """Text of a CSV upload: UTF-8 (with or without BOM), UTF-16 with a BOM,
    then cp1252 (what Excel on Windows writes), then the best guess."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
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


def _csv_rows(data: bytes) -> list[list[Any]]:
    text = _decode(data)
    if "\x00" in text[:10_000]:
        raise InputError(
            "The file is neither a spreadsheet nor a text (CSV) file. Upload the "
            ".xlsx, .xls or .csv export from DHIS2 or the NMEP workbook."
        )
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
    rows: list[list[Any]] = frame.where(frame != "", None).values.tolist()
    return rows


def read_raw(
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    header_row: int | None = None,
    sheet: str | None = None,
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

    if data.startswith(_ZIP_MAGIC):
        _check_zip(data)
        kind = "xlsx"
    elif data.startswith(_OLE_MAGIC):
        kind = "xls"
        if (
            b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o"
            in data
        ):
            raise InputError(
                "The workbook is protected with a password. Remove the password in "
                "Excel (File > Info > Protect Workbook), save, and upload it again."
            )
    else:
        kind = "csv"

    if kind == "csv":
        loaders: dict[str, Callable[[], list[list[Any]]]] = {
            "": lambda: _csv_rows(data)
        }
    else:
        loaders = _excel_sheets(data, kind)
    if sheet is not None and sheet not in loaders:
        raise InputError(
            f"The workbook has no sheet named {sheet!r}; it has "
            f"{', '.join(map(repr, loaders))}."
        )

    best: tuple[int, str, list[list[Any]], int] | None = None
    for name in [sheet] if sheet is not None else list(loaders):
        rows = loaders[name]()
        if not rows:
            continue
        row = _find_header(rows, header_row)
        score = _score(rows[row])
        if best is None or score > best[0]:
            best = (score, name, rows, row)
    if best is None or best[0] == 0:
        raise InputError(
            f"No sheet of {filename!r} has recognisable column headers (such as "
            "'Ward' or 'Persons tested positive for malaria by RDT <5yrs'). Upload "
            "the DHIS2 export or the NMEP workbook."
        )

    _, name, rows, row = best
    headers, body = _frame(rows, row)
    log.info(
        "read %s: sheet %r, header row %d, %d rows", kind, name, row + 1, len(body)
    )
    return RawSheet(
        kind=kind,
        sheet=name or None,
        header_row=row,
        headers=headers,
        body=body,
    )
