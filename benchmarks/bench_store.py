"""Checkpoint and resume costs of the stores with a national-size session loaded.

Prints, in one run, for the file store (a folder, with fsync):

1. the cost of one interaction's checkpoint (commit of the small manifest,
   median of many) against re-pickling and writing the whole table at every
   interaction, with their ratio (target: at least 20 times cheaper);
2. the time to resume the session in a fresh process (verified manifest and
   table, ready to show the stage's options) against re-reading the Excel file
   with the product's own reader in a fresh process, with their ratio (target:
   at least 20 times faster). Both are timed inside those processes, so
   interpreter start-up and imports are left out of both.

and then the file store beside the Redis store (a redis-server started here on
127.0.0.1, in a temporary folder, append-only with `appendfsync always`, so a
commit is as durable as the file store's), the same session in both:

3. a checkpoint of a state change (commit of the manifest);
4. a checkpoint of the national-size table (write_data of the table, then the
   commit naming it, in a fresh session each time);
5. a resume in this process with a new store object (load, then read_data of
   the table), and in a fresh process (as in 2).

The Redis store needs a shared signing secret: a random `TPR_WIDGETS_SECRET` is
set for the run (both stores then sign with it). redis-server is
`$TPR_WIDGETS_REDIS_SERVER`, else `redis-server` on the PATH (Debian:
`apt-get install redis-server`).

The workbook comes from `benchmarks/national.py` when it is there, else it is
built here by repeating the bundled Format A sample (each copy under new
facility names) up to `--rows` rows. It is cached in `benchmarks/.cache/`
(`national.xlsx`, as `national.py` writes it by default, is used when it has
the rows asked for).

    python benchmarks/bench_store.py                 # 300,000 rows
    python benchmarks/bench_store.py --rows 3000 --repeats 3   # smoke run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    for cached in (CACHE / "national.xlsx", CACHE / f"national-{rows}.xlsx"):
        if cached.with_suffix(cached.suffix + f".{rows}.1.done").exists():
            return cached
    path = CACHE / f"national-{rows}.xlsx"
    return Path(make_national_workbook(path, rows=rows))


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


def redis_binary() -> str | None:
    sys.path.insert(0, str(REPO))
    from tests.redis_server import find_server

    return find_server()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def state_commits(store: Any, sid: str, count: int) -> list[float]:
    """Commit `count` new revisions of the session's state (one interaction each)."""
    checkpoint = store.load(sid)
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        checkpoint = store.commit(
            sid, checkpoint.revision, checkpoint.state, checkpoint.data
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def table_checkpoints(
    store: Any, state: dict[str, Any], table: Any, n: int
) -> list[float]:
    """write_data of the table and the commit naming it, in a fresh session each."""
    from tpr_widgets.store import new_session_id

    seconds = []
    for _ in range(n):
        fresh = new_session_id()
        started = time.perf_counter()
        ref = store.write_data(fresh, table)
        store.commit(fresh, 0, state, {"table": ref})
        seconds.append(time.perf_counter() - started)
        store.delete(fresh)
    return seconds


def resumes(location: str, sid: str, rows: int, n: int) -> list[float]:
    """load and read_data of the table, each time with a new store object."""
    from tpr_widgets.store import open_store

    seconds = []
    for _ in range(n):
        store = open_store(location)
        started = time.perf_counter()
        checkpoint = store.load(sid)
        table = store.read_data(sid, checkpoint.data["table"])
        seconds.append(time.perf_counter() - started)
        assert len(table) == rows  # type: ignore[arg-type]
        getattr(store, "close", lambda: None)()
    return seconds


def copy_session(source: Any, target: Any, sid: str) -> None:
    """Put the session's current checkpoint, data included, into `target`."""
    checkpoint = source.load(sid)
    data = {
        name: target.write_data(sid, source.read_data(sid, ref))
        for name, ref in checkpoint.data.items()
    }
    target.commit(sid, 0, checkpoint.state, data)


def fresh_resumes(location: str, sid: str, rows: int, n: int) -> list[float]:
    """Workflow.resume and the stage's options, each in a fresh process."""
    done = [child(_RESUME_CHILD, location, sid) for _ in range(n)]
    assert all(r["stage"] == "age_group" for r in done), done
    assert all(r["rows"] == rows for r in done), done
    return [float(str(r["seconds"])) for r in done]


def med_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)

    binary = redis_binary()
    if binary is None:
        print(
            "error: no redis-server: install it (Debian: apt-get install "
            "redis-server) or set TPR_WIDGETS_REDIS_SERVER to its path",
            file=sys.stderr,
        )
        return 2
    from tests.redis_server import RedisServer

    # One secret for the run: the Redis store needs it, the file store uses it too.
    os.environ["TPR_WIDGETS_SECRET"] = secrets.token_hex(32)
    os.environ.pop("TPR_WIDGETS_HOME", None)

    book = workbook(args.rows)
    with tempfile.TemporaryDirectory(prefix="tpr-bench-") as temp:
        (Path(temp) / "redis").mkdir()
        server = RedisServer(binary, Path(temp) / "redis").start()
        try:
            return run(args, book, Path(temp), server)
        finally:
            server.stop()


def run(args: argparse.Namespace, book: Path, temp: Path, server: Any) -> int:
    from tpr_widgets.store import datafile, open_store
    from tpr_widgets.store.fsutil import atomic_write
    from tpr_widgets.workflow import Workflow

    root = temp / "store"
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
    small = state_commits(store, sid, args.commits)
    checkpoint = store.load(sid)
    keys = store._keys
    whole: list[float] = []
    target = temp / "whole-table.pkl"
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
    probe = temp / "probe.json"
    manifest = (root / "sessions" / sid / "manifest.json").read_bytes()
    for _ in range(min(args.commits, 50)):
        floor.append(timed(lambda: atomic_write(probe, manifest)))
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
    file_fresh = fresh_resumes(str(root), sid, len(table), args.repeats)
    reads = [child(_INGEST_CHILD, str(book)) for _ in range(max(1, args.repeats // 2))]
    assert all(r["rows"] == len(table) for r in reads), reads
    resume = statistics.median(file_fresh)
    read = statistics.median(float(str(r["seconds"])) for r in reads)
    ratio2 = read / resume
    print(
        f"resume in a fresh process: {resume * 1000:.0f} ms (median of "
        f"{len(file_fresh)}); re-reading the workbook: {read * 1000:.0f} ms "
        f"(median of {len(reads)}); ratio {ratio2:.1f}x "
        f"({'meets' if ratio2 >= TARGET else 'BELOW'} the {TARGET:.0f}x target)"
    )

    # 3-5. The same session in the Redis store, beside the file store.
    location = f"{server.url}?prefix=bench"
    redis_store = open_store(location)
    copy_session(store, redis_store, sid)
    state = dict(checkpoint.state)
    stores = {"file": (store, str(root)), "redis": (redis_store, location)}
    rows: dict[str, dict[str, list[float]]] = {}
    for name, (each, where) in stores.items():
        rows[name] = {
            "commit": state_commits(each, sid, args.commits),
            "table": table_checkpoints(each, state, table, args.repeats),
            "resume": resumes(where, sid, len(table), args.repeats),
            "fresh": (
                file_fresh
                if name == "file"
                else fresh_resumes(where, sid, len(table), args.repeats)
            ),
        }
    redis_store.close()
    version = subprocess.run(
        [server.binary, "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    named = next((w[2:] for w in version if w.startswith("v=")), "?")
    print(
        f"file store (a folder in {temp.parent}, fsync) beside the Redis store "
        f"(redis-server {named} on 127.0.0.1, appendonly, appendfsync always), "
        "medians:"
    )
    labels = {
        "commit": f"checkpoint: commit of a state change (of {args.commits})",
        "table": f"checkpoint: write_data + commit of the table (of {args.repeats})",
        "resume": f"resume: load + read_data of the table (of {args.repeats})",
        "fresh": f"resume in a fresh process, with options (of {args.repeats})",
    }
    width = max(len(label) for label in labels.values())
    print(f"  {'':{width}}  {'file':>10}  {'redis':>10}")
    for key, label in labels.items():
        file_ms, redis_ms = med_ms(rows["file"][key]), med_ms(rows["redis"][key])
        digits = 2 if key == "commit" else 1
        print(
            f"  {label:{width}}  {file_ms:>7.{digits}f} ms  {redis_ms:>7.{digits}f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
