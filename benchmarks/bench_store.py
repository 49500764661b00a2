"""Checkpoint and resume costs of the store with a national-size session loaded.

Prints, in one run:

1. the cost of one interaction's checkpoint (commit of the small manifest,
   median of many) against re-pickling and writing the whole table at every
   interaction, with their ratio (target: at least 20 times cheaper);
2. the time to resume the session in a fresh process (verified manifest and
   table, ready to show the stage's options) against re-reading the Excel file
   with the product's own reader in a fresh process, with their ratio (target:
   at least 20 times faster). Both are timed inside those processes, so
   interpreter start-up and imports are left out of both.

The workbook comes from `benchmarks/national.py` when it is there, else it is
built here by repeating the bundled Format A sample (each copy under new
facility names) up to `--rows` rows. It is cached in `benchmarks/.cache/`.

    python benchmarks/bench_store.py                 # 300,000 rows
    python benchmarks/bench_store.py --rows 3000 --repeats 3   # smoke run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "benchmarks" / ".cache"
SAMPLE = REPO / "tpr_widgets" / "data" / "nmep_sample_format_a.xlsx"
TARGET = 20.0

_RESUME_CHILD = """
import json, sys, time
from tpr_widgets.workflow import Workflow
started = time.perf_counter()
workflow = Workflow.resume(sys.argv[1], sys.argv[2])
offered = workflow.options()
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "stage": workflow.stage, "n": len(offered),
                  "rows": len(workflow.table)}))
"""

_INGEST_CHILD = """
import json, sys, time
from pathlib import Path
from tpr_widgets.ingest import ingest
started = time.perf_counter()
path = Path(sys.argv[1])
result = ingest(path.read_bytes(), path.name)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "rows": len(result.table)}))
"""


def replicated_sample(rows: int, path: Path) -> Path:
    """Write a Format A workbook of about `rows` rows from the bundled sample."""
    from openpyxl import Workbook, load_workbook

    source = load_workbook(SAMPLE, read_only=True)
    try:
        lines = list(source["raw"].iter_rows(values_only=True))
    finally:
        source.close()
    header, body = lines[0], [r for r in lines[1:] if r[0] and r[3]]
    facility = header.index("Health Faccility")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("raw")
    sheet.append(header)
    written, copy = 0, 0
    while written < rows:
        for row in body:
            if written >= rows:
                break
            cells = list(row)
            if copy:
                cells[facility] = f"{cells[facility]} Annex {copy}"
            sheet.append(cells)
            written += 1
        copy += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    book.save(temp)
    os.replace(temp, path)
    return path


def workbook(rows: int) -> Path:
    """The national-size workbook (cached), from national.py when available."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from national import make_national_workbook  # type: ignore[import-not-found]
    except ImportError:
        path = CACHE / f"replicated-{rows}.xlsx"
        return path if path.exists() else replicated_sample(rows, path)
    path = CACHE / f"national-{rows}.xlsx"
    return path if path.exists() else Path(make_national_workbook(path, rows=rows))


def child(code: str, *args: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter and return the JSON it prints."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def to_stage(workflow: object, stage: str) -> None:
    """Make the recommended choice at each stage until `stage` is reached."""
    while workflow.stage != stage:  # type: ignore[attr-defined]
        offered = workflow.options()  # type: ignore[attr-defined]
        pick = next((o for o in offered if o.recommended), offered[0])
        workflow.select(pick)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)

    from tpr_widgets.store import datafile
    from tpr_widgets.store.fsutil import atomic_write
    from tpr_widgets.workflow import Workflow

    book = workbook(args.rows)
    with tempfile.TemporaryDirectory(prefix="tpr-bench-") as temp:
        root = Path(temp) / "store"
        workflow = Workflow.new(root)
        workflow.load_file(book)
        to_stage(workflow, "age_group")
        table = workflow.table
        store = workflow._store
        sid = workflow.session_id
        table_mb = len(pickle.dumps(table, protocol=5)) / 1e6
        print(
            f"session: {len(table):,} facility-month rows from {book.name} "
            f"({book.stat().st_size / 1e6:.1f} MB), table pickle {table_mb:.1f} MB"
        )

        # 1. One interaction's checkpoint vs re-pickling the table each time.
        checkpoint = store.load(sid)
        small: list[float] = []
        for _ in range(args.commits):
            started = time.perf_counter()
            checkpoint = store.commit(
                sid, checkpoint.revision, checkpoint.state, checkpoint.data
            )
            small.append(time.perf_counter() - started)
        keys = store._keys  # type: ignore[attr-defined]
        whole: list[float] = []
        target = Path(temp) / "whole-table.pkl"
        for _ in range(args.repeats):
            started = time.perf_counter()
            _, head, body = datafile.encode(keys, sid, table)
            atomic_write(target, head, body)
            checkpoint = store.commit(
                sid, checkpoint.revision, checkpoint.state, checkpoint.data
            )
            whole.append(time.perf_counter() - started)
        # The floor under any durable checkpoint on this disk: write a manifest-
        # sized file, fsync it, rename it into place, fsync the folder.
        floor: list[float] = []
        probe = Path(temp) / "probe.json"
        manifest = (root / "sessions" / sid / "manifest.json").read_bytes()
        for _ in range(min(args.commits, 50)):
            started = time.perf_counter()
            atomic_write(probe, manifest)
            floor.append(time.perf_counter() - started)
        one, naive = statistics.median(small), statistics.median(whole)
        ratio = naive / one
        print(
            f"checkpoint of one interaction: {one * 1000:.2f} ms (median of "
            f"{len(small)}); re-pickling the whole table: {naive * 1000:.1f} ms "
            f"(median of {len(whole)}); ratio {ratio:.1f}x "
            f"({'meets' if ratio >= TARGET else 'BELOW'} the {TARGET:.0f}x target)"
        )
        print(
            f"  of which the disk's floor (write, fsync, rename, fsync the folder, "
            f"{len(manifest):,} bytes): {statistics.median(floor) * 1000:.2f} ms"
        )

        # 2. Resume in a fresh process vs re-reading the workbook.
        resumes = [child(_RESUME_CHILD, str(root), sid) for _ in range(args.repeats)]
        assert all(r["stage"] == "age_group" for r in resumes), resumes
        assert all(r["rows"] == len(table) for r in resumes), resumes
        reads = [
            child(_INGEST_CHILD, str(book)) for _ in range(max(1, args.repeats // 2))
        ]
        assert all(r["rows"] == len(table) for r in reads), reads
        resume = statistics.median(float(str(r["seconds"])) for r in resumes)
        read = statistics.median(float(str(r["seconds"])) for r in reads)
        ratio2 = read / resume
        print(
            f"resume in a fresh process: {resume * 1000:.0f} ms (median of "
            f"{len(resumes)}); re-reading the workbook: {read * 1000:.0f} ms "
            f"(median of {len(reads)}); ratio {ratio2:.1f}x "
            f"({'meets' if ratio2 >= TARGET else 'BELOW'} the {TARGET:.0f}x target)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
