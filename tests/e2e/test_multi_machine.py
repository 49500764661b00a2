"""A rehearsal of the several-machine deployment: two Voilà servers, one Redis.

Each server stands for a machine: its own port, its own home folder, nothing
shared with the other but the Redis store (`TPR_WIDGETS_HOME=redis://...`) and
the signing secret. In headless Chromium a session is walked halfway on the
first (upload, state, facility level), its link is opened on the second, which
shows the saved stage and figures, and the session is finished there. The ward
table is checked against figures computed from the workbook by
`tests/reference.py` (openpyxl only), and the checkpoint is looked up in Redis
itself: the session's keys are there, and no folder holds a session file.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
import redis
from playwright.sync_api import expect
from test_app_flow import (
    SAMPLE,
    STEP_MS,
    at_stage,
    choose,
    open_app,
    session_link,
    table_of,
    upload,
)

from tests.reference import rate, ward_tpr
from tpr_widgets import Workflow

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _files_naming(root: Path, session_id: str) -> list[Path]:
    """Files and folders under `root` whose path names the session."""
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if session_id in p.name]


def test_session_walked_on_one_machine_finishes_on_another(
    page: Any,
    start_voila: Any,
    redis_server: Any,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = secrets.token_hex(32)
    monkeypatch.setenv("TPR_WIDGETS_SECRET", secret)  # for the checks made here
    homes = {name: tmp_path / f"home-{name}" for name in ("a", "b")}
    machines = []
    for name, home in homes.items():
        home.mkdir()
        env = {"TPR_WIDGETS_SECRET": secret, "HOME": str(home)}
        machines.append(start_voila(redis_url, f"machine-{name}", env=env))
    first, second = machines
    assert first.url != second.url

    # Halfway on the first machine: upload, state, facility level.
    open_app(page, first.url + "/")
    upload(page, SAMPLE)
    choose(page, r"^Kwara$", "facility level")
    choose(page, r"^Primary$", "age group")
    href, session_id = session_link(page)
    figures = page.locator(".tpr-body table.tpr-table").inner_text()
    halfway = Workflow.resume(redis_url, session_id)
    assert halfway.stage == "age_group"
    assert halfway.selections == {"state": "Kwara", "facility_level": "primary"}

    # The second machine opens the link: the same stage, file and figures.
    assert parse_qs(urlsplit(href).query)["session"] == [session_id]
    open_app(page, f"{second.url}/?session={session_id}")
    at_stage(page, "age group")
    assert session_link(page)[1] == session_id
    expect(page.locator(".tpr-message")).not_to_contain_text("could not be opened")
    expect(page.locator(".tpr-app")).to_contain_text("File: nmep_sample_format_a.xlsx")
    # The age-group figures are sums over Kwara, primary only.
    assert page.locator(".tpr-body table.tpr-table").inner_text() == figures

    # ... and finishes the session.
    choose(page, r"^Under 5$", "test method")
    choose(page, r"^Both", "period")
    choose(page, r"^All periods", "review")
    choose(page, r"^Keep", "results")
    results = page.locator(".tpr-results")
    expect(results).to_be_visible(timeout=STEP_MS)
    expect(results).to_contain_text("state: Kwara")
    expect(page.locator(".tpr-error")).to_have_count(0)

    expected = ward_tpr(
        SAMPLE,
        state="Kwara",
        code="kw",
        ages=("u5",),
        methods=("rdt", "microscopy"),
        level="primary",
    )
    expect(results).to_contain_text(f"{len(expected):,} wards")
    ward_table = (
        page.locator(".widget-tab table.tpr-table")
        .filter(has=page.locator("th", has_text=re.compile(r"^WardName$")))
        .first
    )
    shown = table_of(ward_table)
    rows = [dict(zip(shown["head"], cells, strict=True)) for cells in shown["rows"]]
    by_ward = {(r["LGA"], r["WardName"]): r for r in rows}
    assert len(by_ward) == len(rows), "a ward appears twice in the table"
    assert set(by_ward) == set(expected)
    for key, sums in expected.items():
        row = by_ward[key]
        assert (int(row["Tested"]), int(row["Positive"])) == (
            sums.tested,
            sums.positive,
        ), (key, row)
        assert float(row["TPR"]) == rate(sums), (key, row)

    done = Workflow.resume(redis_url, session_id)
    assert done.stage == "results"
    assert done.selections == {
        "state": "Kwara",
        "facility_level": "primary",
        "age_group": "u5",
        "test_method": "both",
        "combine": "sum",
        "period": "all",
        "review": "keep",
    }

    # The checkpoint is in Redis, under the store's prefix, with its retention TTL.
    prefix = parse_qs(urlsplit(redis_url).query)["prefix"][0]
    client = redis.Redis.from_url(redis_server.url)
    try:
        manifest = f"{prefix}:{{{session_id}}}:manifest"
        assert client.exists(manifest) == 1
        assert client.pttl(manifest) > 0
        keys = {k.decode() for k in client.scan_iter(match=f"{prefix}:*")}
        assert f"{prefix}:{{{session_id}}}:refs" in keys
        assert any(k.startswith(f"{prefix}:{{{session_id}}}:data:") for k in keys)
    finally:
        client.close()
    # ... and in no folder: not the machines' homes or work folders, not the
    # folder store of the test run, not the repository.
    roots = [tmp_path, Path(os.environ["TPR_WIDGETS_HOME"]), REPO]
    for root in roots:
        assert _files_naming(root, session_id) == [], root
    for home in homes.values():
        assert not (home / ".tpr_widgets").exists()
