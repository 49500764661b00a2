"""Two processes acting on one session through `Workflow`: no silent lost update.

Each process reloads the session and acts on it, many times, at the same time as
the other. Every action either commits the next revision or is told
`ConflictError`; the committed revisions of both processes together are exactly
1..final with no revision claimed twice, so no update was overwritten unseen.
Both backends. `TPR_STORE_WORKFLOW_LOOPS` (default 60 per process) makes a longer
run.
"""

from __future__ import annotations

import json
import multiprocessing
import os

from _backends import Backend
from _store_workers import workflow_loop

from tpr_widgets.samples import sample_path
from tpr_widgets.workflow import Workflow

LOOPS = int(os.environ.get("TPR_STORE_WORKFLOW_LOOPS", "60"))


def test_two_processes_on_one_session_through_the_workflow(backend: Backend) -> None:
    root = backend.location
    workflow = Workflow.new(root)
    workflow.load_file(sample_path())
    workflow.select("Kwara")
    workflow.select("primary")
    assert workflow.stage == "age_group"
    start = workflow.revision
    sid = workflow.session_id

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(
            target=workflow_loop, args=(root, sid, n, LOOPS, barrier, results)
        )
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    parses = 0
    while any(worker.is_alive() for worker in workers):
        json.loads(backend.get_manifest(sid) or b"")  # always there, always parses
        parses += 1
    reports = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert [r for r in reports if r[0] != "ok"] == [], reports
    committed = [revision for report in reports for revision in report[2]]
    conflicts = sum(report[3] for report in reports)
    final = Workflow.resume(root, sid)
    print(
        f"\n{backend.name}: 2 x {LOOPS} workflow actions: {len(committed)} commits, "
        f"{conflicts} conflicts, {parses} manifest reads"
    )
    assert len(committed) + conflicts == 2 * LOOPS
    assert conflicts > 0, "the two processes never raced; the test proves nothing"
    # Every commit got its own revision, and together they are every revision.
    assert sorted(committed) == list(range(start + 1, final.revision + 1))
    # The stored session is one that a single sequence of actions produces.
    if final.stage == "age_group":
        assert "age_group" not in final.selections
    else:
        assert final.stage == "test_method"
        assert final.selections["age_group"] in {"u5", "o5"}
