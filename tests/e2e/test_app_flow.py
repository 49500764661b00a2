"""The public Voilà app, driven in headless Chromium as a user would.

Upload the bundled Format A workbook through the FileUpload widget, click through
the stages and check the ward table against figures computed here from the
workbook with openpyxl alone; resume a session from its link; refuse malformed
and unknown ids; and share one session between two Voilà processes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
from openpyxl import load_workbook
from playwright.sync_api import expect

from tpr_widgets import Workflow

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tpr_widgets" / "data" / "nmep_sample_format_a.xlsx"
FIRST_RENDER_MS = 60_000  # a page load starts a kernel and runs the notebook
STEP_MS = 30_000
STAGE_ORDER = [
    "upload",
    "state",
    "facility level",
    "age group",
    "test method",
    "period",
    "review",
    "results",
]
SESSION_ID = re.compile(r"[0-9a-f]{32}")

# (LGA, ward) as the page shows them; chosen to cover microscopy tests, a facility
# that is labelled secondary in some months, and a parenthesis that is not an LGA.
CHECKED_WARDS = [
    ("Asa", "Afon"),
    ("Asa", "Ballah/Otte"),
    ("Irepodun", "Omu-Aran I (Aran)"),
    ("Irepodun", "Omu-Aran II (Ihaye)"),
    ("Kaiama", "Gwari A (Gwaria)"),
]

# -- the expected figures, from the workbook alone ------------------------------

TESTED_RDT_U5 = "Persons presenting with fever & tested by RDT <5yrs"
TESTED_MIC_U5 = "Persons presenting with fever and tested by Microscopy <5yrs"
POSITIVE_RDT_U5 = "Persons tested positive for malaria by RDT <5yrs"
POSITIVE_MIC_U5 = "Persons tested positive for malaria by Microscopy <5yrs"


def _clean(text: Any, prefix: str = "kw") -> str:
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return re.sub(rf"^{prefix} ", "", text, flags=re.IGNORECASE)


def _clean_ward(ward: Any, lga: str) -> str:
    name = _clean(ward)
    name = re.sub(rf"\s*\({re.escape(lga)}\)", "", name)  # an LGA tag only
    name = re.sub(r"\bWard\b", "", name)
    return re.sub(r"\s+", " ", name).strip()


def expected_kwara_primary_u5() -> dict[tuple[str, str], dict[str, int]]:
    """Tested/positive per (LGA, ward): Kwara, primary rows, under 5, RDT +
    microscopy, all periods; a (row, method) pair with positive > tested is left
    out, an empty count beside a present one counts as 0."""
    book = load_workbook(SAMPLE, read_only=True, data_only=True)
    try:
        rows = book["raw"].iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        at = {name: header.index(name) for name in header}
        pairs = [
            ("rdt", at[TESTED_RDT_U5], at[POSITIVE_RDT_U5]),
            ("mic", at[TESTED_MIC_U5], at[POSITIVE_MIC_U5]),
        ]
        found: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"tested": 0, "positive": 0, "mic": 0, "left_out": 0, "other": 0}
        )
        for row in rows:
            state = _clean(row[at["State"]]).removesuffix(" State")
            if state != "Kwara":
                continue
            lga = _clean(row[at["LGA"]]).removesuffix(" Local Government Area")
            key = (lga, _clean_ward(row[at["Ward"]], lga))
            if str(row[at["level"]]).strip().casefold() != "primary":
                found[key]["other"] += 1
                continue
            for method, t_col, p_col in pairs:
                tested, positive = row[t_col], row[p_col]
                if tested is None and positive is None:
                    continue
                tested, positive = int(tested or 0), int(positive or 0)
                if positive > tested:
                    found[key]["left_out"] += 1
                    continue
                found[key]["tested"] += tested
                found[key]["positive"] += positive
                if method == "mic":
                    found[key]["mic"] += tested
        return {k: v for k, v in found.items() if v["tested"] or v["positive"]}
    finally:
        book.close()


# -- driving the page -------------------------------------------------------------


def open_app(page: Any, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=FIRST_RENDER_MS)
    expect(page.locator(".tpr-app .tpr-current")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.locator(".tpr-body h3")).to_be_visible(timeout=FIRST_RENDER_MS)


def at_stage(page: Any, stage: str) -> None:
    """Wait until the trail and the panel both show `stage`."""
    expect(page.locator(".tpr-current")).to_have_text(stage, timeout=STEP_MS)
    number = STAGE_ORDER.index(stage) + 1
    expect(page.locator(".tpr-body h3")).to_have_text(
        re.compile(rf"^{number}\. "), timeout=STEP_MS
    )


def upload(page: Any, path: Path) -> None:
    # ipywidgets 8 keeps the FileUpload's <input type=file> out of the DOM and
    # clicks it from the button, so the file goes in through the file chooser
    # (which is `set_input_files` on that input).
    with page.expect_file_chooser(timeout=STEP_MS) as chooser:
        page.locator(".tpr-upload").click()
    chooser.value.set_files(str(path))
    at_stage(page, "state")


def pick(page: Any, label: str) -> None:
    radio = page.locator(".tpr-choice label").filter(has_text=re.compile(label))
    radio.click()
    expect(radio.locator("input")).to_be_checked()


def choose(page: Any, label: str, next_stage: str) -> None:
    """Click the radio whose label matches `label`, then Next."""
    pick(page, label)
    page.locator(".tpr-next").click()
    at_stage(page, next_stage)


def session_link(page: Any) -> tuple[str, str]:
    """The session link the page shows, and the id in it."""
    href = page.locator(".tpr-link a").get_attribute("href")
    assert href, "the page shows no session link"
    ids = parse_qs(urlsplit(href).query).get("session", [])
    assert len(ids) == 1 and SESSION_ID.fullmatch(ids[0]), href
    return href, ids[0]


def table_of(locator: Any) -> dict[str, Any]:
    return locator.evaluate(
        """t => ({
            head: [...t.querySelectorAll('thead th')].map(c => c.textContent.trim()),
            rows: [...t.querySelectorAll('tbody tr')].map(
                r => [...r.querySelectorAll('td')].map(c => c.textContent.trim())),
        })"""
    )


def save_screenshot(page: Any, path: Path) -> Path:
    # Voilà scrolls an inner element, not the window: bring every one to the top.
    page.evaluate(
        """() => { window.scrollTo(0, 0);
            for (const e of document.querySelectorAll('*')) {
                if (e.scrollTop) e.scrollTop = 0;
            } }"""
    )
    # ... and make the viewport tall enough for the whole app.
    bottom = page.locator(".tpr-app").evaluate("e => e.getBoundingClientRect().bottom")
    size = page.viewport_size or {"width": 1280, "height": 1000}
    page.set_viewport_size({"width": size["width"], "height": int(bottom) + 40})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    artifacts = os.environ.get("TPR_WIDGETS_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(artifacts) / path.name)
    return path


# -- tests -------------------------------------------------------------------------


def test_upload_choose_and_see_ward_table(page: Any, voila: Any, tmp_path: Path):
    expected = expected_kwara_primary_u5()
    checked = {key: expected.get(key) for key in CHECKED_WARDS}
    assert all(checked.values()), f"wards missing from the workbook: {checked}"
    # The checked wards exercise what they are meant to.
    assert any(v["mic"] for v in checked.values() if v)
    assert any(v["other"] for v in checked.values() if v)

    blocked_before = len(page.context.blocked)
    open_app(page, voila.url + "/")
    at_stage(page, "upload")
    upload(page, SAMPLE)
    expect(page.locator(".tpr-app")).to_contain_text("nmep_sample_format_a.xlsx")
    choose(page, r"^Kwara$", "facility level")
    choose(page, r"^Primary$", "age group")
    choose(page, r"^Under 5$", "test method")
    choose(page, r"^Both", "period")
    choose(page, r"^All periods", "review")
    choose(page, r"^Keep", "results")

    results = page.locator(".tpr-results")
    expect(results).to_be_visible(timeout=STEP_MS)
    expect(results).to_contain_text(f"{len(expected):,} wards")
    expect(results).to_contain_text("state: Kwara")
    expect(page.locator(".tpr-error")).to_have_count(0)

    ward_table = (
        page.locator(".widget-tab table.tpr-table")
        .filter(has=page.locator("th", has_text=re.compile(r"^WardName$")))
        .first
    )
    expect(ward_table).to_be_visible()
    shown = table_of(ward_table)
    head = shown["head"]
    for column in ("State", "LGA", "WardName", "TPR", "Tested", "Positive"):
        assert column in head, head
    rows = [dict(zip(head, cells, strict=True)) for cells in shown["rows"]]
    assert {r["State"] for r in rows} == {"Kwara"}
    by_ward = {(r["LGA"], r["WardName"]): r for r in rows}
    assert len(by_ward) == len(rows), "a ward appears twice in the table"

    def check(key: tuple[str, str], want: dict[str, int]) -> None:
        row = by_ward.get(key)
        assert row is not None, f"{key} is not in the ward table"
        assert (int(row["Tested"]), int(row["Positive"])) == (
            want["tested"],
            want["positive"],
        ), (key, row, want)
        exact = 100 * want["positive"] / want["tested"]
        assert re.fullmatch(r"\d+\.\d\d", row["TPR"]), row["TPR"]
        assert abs(float(row["TPR"]) - exact) <= 0.005 + 1e-9, (key, row, exact)

    for key, want in checked.items():
        assert want is not None
        check(key, want)
    # And every other ward: the page shows exactly the wards of the workbook.
    assert set(by_ward) == set(expected)
    for key, want in expected.items():
        check(key, want)

    shot = save_screenshot(page, tmp_path / "tpr_results.png")
    assert shot.stat().st_size > 10_000
    # The public page asked no host but the one serving it for anything.
    assert page.context.blocked[blocked_before:] == []


def test_reload_resumes_stage_and_choices(page: Any, voila: Any):
    open_app(page, voila.url + "/")
    upload(page, SAMPLE)
    choose(page, r"^Kwara$", "facility level")
    choose(page, r"^Primary$", "age group")
    choose(page, r"^Under 5$", "test method")
    href, session_id = session_link(page)
    # The option figures depend on every earlier choice.
    figures = page.locator(".tpr-body table.tpr-table").inner_text()

    open_app(page, voila.url + href)  # a fresh page load: a new kernel
    at_stage(page, "test method")
    assert session_link(page)[1] == session_id
    expect(page.locator(".tpr-message")).not_to_contain_text("could not be opened")
    expect(page.locator(".tpr-app")).to_contain_text("File: nmep_sample_format_a.xlsx")
    assert page.locator(".tpr-body table.tpr-table").inner_text() == figures
    stored = Workflow.resume(voila.store, session_id)
    assert stored.stage == "test_method"
    assert stored.selections == {
        "state": "Kwara",
        "facility_level": "primary",
        "age_group": "u5",
    }

    page.locator(".tpr-back").click()  # the resumed view acts on the session
    at_stage(page, "age group")
    assert Workflow.resume(voila.store, session_id).stage == "age_group"


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


@pytest.mark.parametrize("kind", ["traversal", "unknown", "uppercase"])
def test_bad_session_id_gets_new_session(page: Any, voila: Any, kind: str):
    if kind == "traversal":
        requested = "../../etc"
    elif kind == "unknown":
        requested = secrets.token_hex(16)
    else:  # an existing session's id in capitals is not that session
        existing = Workflow.new(voila.store).session_id
        requested = existing.upper()
        if requested == existing:
            pytest.skip("the random id has no letters")
    store = voila.store
    base = store.parent
    traversal_targets = [
        base / "etc",
        store / "etc",
        store / "sessions" / "etc",
        REPO / "etc",
        REPO / "notebooks" / "etc",
    ]
    exists_before = [p.exists() for p in traversal_targets]
    outside_before = _files(base) - _files(store) - _files(voila.workdir)
    store_before = _files(store)

    open_app(page, f"{voila.url}/?session={requested}")
    at_stage(page, "upload")
    expect(page.locator(".tpr-message")).to_contain_text("could not be opened")
    expect(page.locator(".tpr-message")).to_contain_text("new session")
    _, new_id = session_link(page)
    assert new_id.lower() != requested.lower()
    if kind == "uppercase":
        assert new_id != existing

    assert [p.exists() for p in traversal_targets] == exists_before
    outside_after = _files(base) - _files(store) - _files(voila.workdir)
    assert outside_after == outside_before, "files appeared outside the store"
    new_files = _files(store) - store_before
    new_session = store / "sessions" / new_id
    assert new_files, "the new session was not saved"
    stray = [p for p in new_files if new_session not in (p, *p.parents)]
    assert not stray, f"files other than the new session's: {stray}"
    assert not (store / "sessions" / requested).exists()
    assert Workflow.resume(store, new_id).stage == "upload"


def test_two_servers_share_a_session_and_detect_conflicts(
    page: Any, voila: Any, start_voila: Any, browser_context: Any
):
    workflow = Workflow.new(voila.store)
    workflow.load_file(SAMPLE)
    workflow.select("Kwara")
    workflow.select("primary")
    session_id = workflow.session_id
    second = start_voila(voila.store)
    other = browser_context.new_page()
    try:
        open_app(page, f"{voila.url}/?session={session_id}")
        open_app(other, f"{second.url}/?session={session_id}")
        at_stage(page, "age group")
        at_stage(other, "age group")

        choose(other, r"^Under 5$", "test method")  # the second process commits
        pick(page, r"^5 and over")  # this page still holds the older revision
        page.locator(".tpr-next").click()
        expect(page.locator(".tpr-message")).to_contain_text(
            "changed in another window", timeout=STEP_MS
        )
        at_stage(page, "test method")  # reloaded to the other window's stage
    finally:
        other.close()
    stored = Workflow.resume(voila.store, session_id)
    assert stored.stage == "test_method"
    assert stored.selections["age_group"] == "u5"
