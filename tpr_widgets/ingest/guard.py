"""Checks an upload must pass before any parser sees it.

The container is recognised by its signature, not by the file name. A zip
(.xlsx) is opened only as a directory: its entry count, declared uncompressed
size and compression ratio are checked, macros and external links are refused,
and its small XML parts are parsed with defusedxml so entity tricks (billion
laughs, external entities) are refused. An OLE container (.xls) that holds an
`EncryptionInfo` stream is a password-protected Office file.
"""

from __future__ import annotations

import io
import zipfile
from typing import Final

from tpr_widgets.errors import InputError

ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAX_ENTRIES: Final = 5_000
ZIP_MAX_UNCOMPRESSED: Final = 3 * 1024**3
ZIP_MAX_RATIO: Final = 250
# Parts parsed in full with defusedxml; worksheets (large) only have their
# prolog checked, since a document type declaration must come before the root.
_SMALL_PART: Final = 2 * 1024 * 1024
_PROLOG: Final = 4096
_PASSWORD: Final = (
    "The workbook is protected with a password. Remove the password in Excel "
    "(File > Info > Protect Workbook), save, and upload it again."
)


def kind_of(data: bytes) -> str:
    """`xlsx`, `xls` or `csv`, from the first bytes."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        return "xls"
    return "csv"


def check_ole(data: bytes) -> None:
    """Refuse an encrypted Office file (xlsx with a password is an OLE file)."""
    marks = ("EncryptionInfo", "EncryptedPackage")
    if any(mark.encode("utf-16-le") in data for mark in marks):
        raise InputError(_PASSWORD)


def _check_xml(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    with archive.open(entry) as handle:
        if entry.file_size <= _SMALL_PART:
            text = handle.read()
            try:
                fromstring(text, forbid_dtd=True)
            except DefusedXmlException:
                raise InputError(
                    f"The workbook part {entry.filename!r} declares XML entities "
                    "or a document type, which spreadsheets do not need and XML "
                    "attacks use; it was not opened. Export the data again."
                ) from None
            except Exception:
                raise InputError(
                    f"The workbook part {entry.filename!r} is not well-formed XML; "
                    "the file is damaged. Open it in Excel, save it again as "
                    ".xlsx and upload that file."
                ) from None
        else:
            head = handle.read(_PROLOG)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise InputError(
                    f"The workbook part {entry.filename!r} declares XML entities, "
                    "which XML attacks use; it was not opened. Export the data "
                    "again."
                )


def check_zip(data: bytes) -> None:
    """Refuse a zip that is damaged, a bomb, has macros or external links."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InputError(
            "The file looks like an Excel workbook but its contents are damaged. "
            "Open it in Excel and save it again as .xlsx, then upload it again."
        ) from None
    if len(entries) > ZIP_MAX_ENTRIES:
        raise InputError(
            f"The workbook holds {len(entries):,} internal parts, far more than a "
            "data export has; it was not opened. Export the data again from DHIS2."
        )
    total = sum(entry.file_size for entry in entries)
    packed = max(1, sum(entry.compress_size for entry in entries))
    if total > ZIP_MAX_UNCOMPRESSED or total / packed > ZIP_MAX_RATIO:
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
    if "xl/workbook.xml" not in names and not any(
        name.endswith("workbook.xml") for name in names
    ):
        raise InputError(
            "The file is a zip archive but not an Excel workbook (it has no "
            "workbook part). Upload the .xlsx, .xls or .csv export itself."
        )
    try:
        for entry in entries:
            if entry.filename.lower().endswith((".xml", ".rels")):
                _check_xml(archive, entry)
    except InputError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError):
        raise InputError(
            "The workbook's contents are damaged or encrypted and cannot be "
            "read. Open it in Excel, save it again as .xlsx and upload that file."
        ) from None
