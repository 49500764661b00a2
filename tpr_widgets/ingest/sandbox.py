"""Parse an Excel workbook in a child process with memory and time limits.

Workbooks come from the public app, so the parser runs where a hostile file can
do no harm: in a separate Python process that caps its own address space and
CPU time before it touches the file, and that the parent kills when it runs past
the wall-clock limit. The child reads with fastexcel (calamine underneath: .xlsx
and .xls), finds the sheet and header row, and hands the sheet back as an Arrow
IPC file; the parent never parses the workbook itself.

Run as `python -m tpr_widgets.ingest.sandbox SPEC.json` by `read_in_child`;
the child imports neither pandas nor the rest of the product.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

HEADER_SCAN_ROWS: Final = 30
_MB: Final = 1024 * 1024
_PRODUCT_ROOT: Final = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ChildResult:
    """What the child found: the chosen sheet, its header row and its cells."""

    sheet: str
    sheets: list[str]
    header_row: int  # 0-based row of the header within the sheet
    first_column: int  # 0-based column of the sheet's first used column
    headers: list[str]
    arrow_path: Path


class ChildError(Exception):
    """The child refused or failed: `code` says why, `detail` in the reader's words."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def read_in_child(
    data: bytes,
    workdir: Path,
    *,
    sheet: str | None,
    header_row: int | None,
    memory_mb: int,
    seconds: int,
) -> ChildResult:
    """Parse `data` (xlsx or xls bytes) in a limited child; raise `ChildError`."""
    source = workdir / "upload.bin"
    source.write_bytes(data)
    spec = {
        "source": str(source),
        "out": str(workdir / "sheet.arrow"),
        "sheet": sheet,
        "header_row": header_row,
        "memory_mb": memory_mb,
        "seconds": seconds,
    }
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH")
    }
    env["PYTHONNOUSERSITE"] = "1"
    # The child imports this very copy of the product, even where another
    # copy is installed (a checkout run beside an installed release).
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(_PRODUCT_ROOT), env.get("PYTHONPATH")) if part
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tpr_widgets.ingest.sandbox", str(spec_path)],
            capture_output=True,
            timeout=seconds * 2 + 10,
            env=env,
            cwd=workdir,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ChildError("time") from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if done.returncode != 0 or not answer:
        stderr = done.stderr.decode("utf-8", "replace")
        log.warning("reader child ended with %s: %s", done.returncode, stderr[-2000:])
        if "MemoryError" in stderr or "memory allocation" in stderr:
            raise ChildError("memory")
        if done.returncode in (-9, -24, 137, 152) or "SIGXCPU" in stderr:
            raise ChildError("time")
        raise ChildError("memory" if done.returncode < 0 else "crash", stderr[-300:])
    if "error" in answer:
        raise ChildError(str(answer["error"]), str(answer.get("detail", "")))
    return ChildResult(
        sheet=str(answer["sheet"]),
        sheets=[str(s) for s in answer["sheets"]],
        header_row=int(answer["header_row"]),
        first_column=int(answer["first_column"]),
        headers=[str(h) for h in answer["headers"]],
        arrow_path=workdir / "sheet.arrow",
    )


def new_workdir() -> tempfile.TemporaryDirectory[str]:
    """A private folder for one read (the upload copy and the child's output)."""
    return tempfile.TemporaryDirectory(prefix="tpr-widgets-read-")


# -- the child ------------------------------------------------------------------


def _limit(memory_mb: int, seconds: int) -> None:
    import resource

    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[0])
    current = pages * os.sysconf("SC_PAGE_SIZE")
    cap = current + memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _score(row: list[Any]) -> int:
    from tpr_widgets.ingest.headers import role_of

    return sum(1 for cell in row if isinstance(cell, str) and role_of(cell))


def _cells(batch: Any) -> list[list[Any]]:
    columns = [column.to_pylist() for column in batch.columns]
    height = batch.num_rows
    return [[column[i] for column in columns] for i in range(height)]


_NS: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _column(ref: str) -> int:
    number = 0
    for char in ref:
        if not char.isalpha():
            break
        number = number * 26 + ord(char.upper()) - 64
    return number - 1


def _stream(archive: Any, part: str) -> Any:
    """Elements of one zip part as they end, parsed incrementally (defused)."""
    from xml.etree.ElementTree import XMLPullParser

    from defusedxml.ElementTree import DefusedXMLParser

    parser = XMLPullParser(events=("end",), _parser=DefusedXMLParser(forbid_dtd=True))
    with archive.open(part) as handle:
        while chunk := handle.read(1 << 16):
            parser.feed(chunk)
            for _, element in parser.read_events():  # type: ignore[misc]
                yield element


def _xlsx_heads(data: bytes) -> dict[str, list[list[Any]]]:
    """The first rows of every sheet of an xlsx, without parsing whole sheets.

    Rows and columns are absolute (row 1 and column A are index 0), so the
    header row found here is the one fastexcel is asked for.
    """
    import io
    import posixpath
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    targets = {}
    for element in _stream(archive, "xl/_rels/workbook.xml.rels"):
        if element.tag.endswith("Relationship"):
            target = element.get("Target", "")
            target = (
                target.lstrip("/")
                if target.startswith("/")
                else (posixpath.normpath(posixpath.join("xl", target)))
            )
            targets[element.get("Id")] = target
    sheets = [
        (element.get("name"), targets.get(element.get(f"{_REL}id")))
        for element in _stream(archive, "xl/workbook.xml")
        if element.tag == f"{_NS}sheet"
    ]
    heads: dict[str, list[list[Any]]] = {}
    wanted: set[int] = set()
    for name, part in sheets:
        if name is None or part not in names:
            continue
        rows: list[list[Any]] = []
        for element in _stream(archive, part):
            if element.tag != f"{_NS}row":
                continue
            index = int(element.get("r", len(rows) + 1)) - 1
            if index >= HEADER_SCAN_ROWS:
                break
            while len(rows) < index:
                rows.append([])
            cells: list[Any] = []
            for cell in element.iter(f"{_NS}c"):
                at = _column(cell.get("r", "")) if cell.get("r") else len(cells)
                cells += [None] * (at - len(cells) + 1)
                kind = cell.get("t")
                value = cell.findtext(f"{_NS}v")
                if kind == "s" and value is not None:
                    cells[at] = ("sst", int(value))
                    wanted.add(int(value))
                elif kind == "inlineStr":
                    cells[at] = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
                elif value is not None:
                    cells[at] = value if kind in ("str", "e") else _number(value)
            rows.append(cells)
            element.clear()
        heads[name] = rows
    strings: dict[int, str] = {}
    if wanted and "xl/sharedStrings.xml" in names:
        index, last = 0, max(wanted)
        for element in _stream(archive, "xl/sharedStrings.xml"):
            if element.tag != f"{_NS}si":
                continue
            if index in wanted:
                strings[index] = "".join(t.text or "" for t in element.iter(f"{_NS}t"))
            element.clear()
            index += 1
            if index > last:
                break
    for rows in heads.values():
        for cells in rows:
            for i, cell in enumerate(cells):
                if isinstance(cell, tuple):
                    cells[i] = strings.get(cell[1])
    return heads


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _scan(reader: Any, name: str) -> tuple[list[list[Any]], int]:
    sheet = reader.load_sheet(
        name,
        header_row=None,
        skip_rows=0,
        n_rows=HEADER_SCAN_ROWS,
        dtypes="string",
        eager=True,
    )
    rows = _cells(sheet)
    first = 0
    found = reader.load_sheet(name, header_row=None, skip_rows=0, n_rows=1)
    for info in found.available_columns():
        first = int(info.absolute_index)
        break
    return rows, first


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    import fastexcel
    import pyarrow as pa
    import pyarrow.compute

    if sys.platform.startswith("linux"):
        _limit(int(spec["memory_mb"]), int(spec["seconds"]))
    data = Path(spec["source"]).read_bytes()
    try:
        reader = fastexcel.read_excel(data)
    except Exception as error:  # the reader's own exception types vary
        text = str(error)
        if "password" in text.lower() or "encrypt" in text.lower():
            return {"error": "password"}
        return {"error": "unreadable", "detail": text[:300]}
    names = [str(n) for n in reader.sheet_names]
    wanted = spec.get("sheet")
    if wanted is not None and wanted not in names:
        return {"error": "no_sheet", "detail": json.dumps(names)}
    heads = _xlsx_heads(data) if data.startswith(b"PK") else None
    best: tuple[int, str, int, int, list[Any]] | None = None
    for name in [wanted] if wanted is not None else names:
        try:
            if heads is not None:
                rows, first = heads.get(name, []), 0
            else:
                rows, first = _scan(reader, name)
        except Exception:  # an empty or unreadable sheet holds no data
            continue
        if not rows:
            continue
        given = spec.get("header_row")
        if given is not None:
            if not 0 <= int(given) < len(rows):
                return {"error": "header_row", "detail": str(len(rows))}
            row = int(given)
            header = rows[row]
        else:
            scores = [_score(r) for r in rows]
            row = max(range(len(scores)), key=lambda i: (scores[i], -i))
            header = rows[row]
        score = _score(header)
        if best is None or score > best[0]:
            best = (score, name, row, first, header)
    if best is None or best[0] == 0:
        return {"error": "no_headers", "detail": json.dumps(names)}
    _, name, row, first, header = best
    # Types are guessed from the first rows; a later cell that does not fit
    # its column's guess is a cell error, and then the sheet is read again
    # with types taken from every row, so nothing is read as empty.
    lazy = reader.load_sheet(name, header_row=row)
    # All columns are selected, and `selected_columns` is what the load found;
    # `available_columns()` would infer every column's type again.
    columns = lazy.selected_columns
    if heads is not None:
        first = int(columns[0].absolute_index) if columns else 0
        header = [
            header[int(c.absolute_index)]
            if int(c.absolute_index) < len(header)
            else None
            for c in columns
        ]
    batch, errors = lazy.to_arrow_with_errors()
    if errors is not None and errors.errors:
        lazy = reader.load_sheet(name, header_row=row, schema_sample_rows=None)
        batch = lazy.to_arrow()
    table = pa.table(batch)
    # Text columns travel dictionary-encoded: they arrive as categoricals.
    table = pa.table(
        [
            pa.compute.dictionary_encode(column)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            else column
            for column in table.columns
        ],
        names=[str(i) for i in range(table.num_columns)],
    )
    with (
        pa.OSFile(str(spec["out"]), "wb") as sink,
        pa.ipc.new_file(sink, table.schema) as writer,
    ):
        writer.write_table(table)
    headers = ["" if cell is None else str(cell).strip() for cell in header]
    headers = (headers + [""] * table.num_columns)[: table.num_columns]
    return {
        "sheet": name,
        "sheets": names,
        "header_row": row,
        "first_column": first,
        "headers": headers,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        answer = _child(spec)
    except MemoryError:
        answer = {"error": "memory"}
    except Exception as error:  # reported to the parent as one line
        if isinstance(error, OSError) and error.errno == errno.ENOMEM:
            answer = {"error": "memory"}
        else:
            detail = f"{type(error).__name__}: {error}"
            answer = {"error": "unreadable", "detail": detail}
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    # Leave without freeing the parsed sheet object by object: the answer and
    # the Arrow file are written and closed, and the system takes the memory
    # back at once.
    os._exit(status)
