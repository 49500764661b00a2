"""Results through the workflow: options, the review decision and the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import SAMPLE_A
from tests.tpr.test_periods import month_name_csv
from tpr_widgets import InputError, IntegrityError, Workflow, result_cache, results

KWARA = ["Kwara", "primary", "u5"]


def cached(wf: Workflow) -> list[str]:
    return sorted(k for k in wf._checkpoint.data if k.startswith("result:"))


def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the tables were computed again")

    monkeypatch.setattr(results, "compute", refuse)


@pytest.fixture
def at_review(store_root: Path) -> Workflow:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    for choice in KWARA:
        wf.select(choice)
    wf.select("both")
    wf.select("all")
    assert wf.stage == "review"
    return wf


def test_result_is_cached_in_the_commit_that_reaches_review(
    at_review: Workflow, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = at_review
    assert len(cached(wf)) == 1
    revision = wf.revision
    ward = wf.result
    assert ward is not None and "Review" not in ward.columns
    wf.select("keep")
    # The review choice costs one commit and no new result.
    assert wf.revision == revision + 1 and len(cached(wf)) == 1
    # Another process resumes and reads the result instead of computing it.
    no_compute(monkeypatch)
    other = Workflow.resume(store_root, wf.session_id)
    again = other.result
    assert again is not None
    pd.testing.assert_frame_equal(again, wf.result)
    assert set(again["Review"]) == {"keep"}


def test_going_back_and_returning_reuses_the_cache(
    at_review: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = at_review
    wf.select("keep")
    first = wf.result
    wf.go_back("age_group")
    assert wf.result is None
    wf.select("o5")
    wf.select("rdt")
    wf.select("2023")
    assert len(cached(wf)) == 2
    wf.select("keep")
    assert set(wf.result["Age_Group"]) == {"o5"}  # type: ignore[index]
    wf.go_back("age_group")
    no_compute(monkeypatch)
    for choice in ["u5", "both", "all", "keep"]:
        wf.select(choice)
    pd.testing.assert_frame_equal(wf.result, first)
    assert len(cached(wf)) == 2


def test_the_cache_is_bounded_and_dropped_on_a_new_upload(
    at_review: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = at_review
    monkeypatch.setattr(result_cache, "LIMIT", 2)
    keys = []
    for period in ["2023", "2024", "2023-01"]:
        wf.go_back("period")
        wf.select(period)
        keys.append(wf._state["cached_results"][-1])
    # The least recently used result ("all") went first.
    assert cached(wf) == sorted(f"result:{k}" for k in keys[1:])
    assert wf._state["cached_results"] == keys[1:]
    wf.load_file(SAMPLE_A)
    assert cached(wf) == []


def test_a_tampered_cached_result_is_refused(
    at_review: Workflow, store_root: Path
) -> None:
    ref = at_review._checkpoint.data[cached(at_review)[0]]
    files = [p for p in store_root.rglob("*") if p.is_file() and ref in p.name]
    assert files, "the cached result is a data file of the session"
    data = bytearray(files[0].read_bytes())
    data[-5] ^= 0xFF
    files[0].write_bytes(bytes(data))
    other = Workflow.resume(store_root, at_review.session_id)
    with pytest.raises(IntegrityError):
        other.result  # noqa: B018


def test_include_impossible_and_outpatient_through_the_workflow(
    store_root: Path,
) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    for choice in KWARA:
        wf.select(choice)
    with pytest.raises(InputError, match="include_impossible"):
        wf.select("both", include_impossible="yes")
    wf.select("both", include_impossible=True)
    assert wf.selections["include_impossible"] is True
    wf.select("all")
    values = [o.value for o in wf.options()]
    assert values == ["keep", "add_outpatient"]
    wf.select("add_outpatient")
    ward = wf.result
    assert ward is not None
    assert {"Outpatient_Positivity", "Review"} <= set(ward.columns)
    rows = ward[ward["Outpatient_Attendance"] > 0]
    assert len(rows) > 0
    # The indicator is its own column; TPR is untouched and the indicator is
    # 100 x its own positives / its own attendances.
    expected = (
        100 * rows["Outpatient_Positive"] / rows["Outpatient_Attendance"]
    ).round(2)
    assert (rows["Outpatient_Positivity"] - expected).abs().max() < 0.006
    assert (
        ward["TPR"].dropna() <= 100 * ward["Positive"] / ward["Tested"] + 0.006
    ).all()
    wf.go_back("test_method")
    assert "include_impossible" not in wf.selections


def test_periods_written_as_month_names_or_codes_are_accepted(
    store_root: Path,
) -> None:
    wf = Workflow.new(store_root)
    wf.load_bytes(month_name_csv(), "kwara_months.csv")
    wf.select("u5")
    wf.select("rdt")
    assert [o.value for o in wf.options()] == ["all", "2023", "2024"]
    wf.select("January 2024:202402")
    assert wf.selections["period"] == "2024-01:2024-02"
    assert wf.result is not None and wf.result.iloc[0]["Tested"] == 100
