"""The workflow: stages, validation, going back, checkpoints and resuming."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLE_A, SAMPLE_B
from tests.reference import rate, ward_tpr
from tpr_widgets import ConflictError, InputError, Workflow

KWARA_PATH = ["Kwara", "primary", "u5", "both", "all", "keep"]


def walk(wf: Workflow, choices: list[str]) -> None:
    for choice in choices:
        wf.select(choice)


def test_new_session_is_checkpointed_at_upload(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    assert (wf.stage, wf.revision, wf.selections, wf.result) == ("upload", 1, {}, None)
    assert len(wf.session_id) == 32
    again = Workflow.resume(store_root, wf.session_id)
    assert again.stage == "upload" and again.revision == 1


def test_full_path_on_the_sample_matches_reference(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    assert wf.stage == "state" and wf.revision == 2
    assert set(wf.summary["states"]) == {"Adamawa", "Kwara", "Osun"}
    assert wf.columns["facility"] == "Health Faccility"
    assert wf.file is not None and wf.file["name"] == SAMPLE_A.name
    walk(wf, KWARA_PATH[:5])
    assert wf.stage == "review"
    assert wf.result is not None
    assert (wf.high_wards["TPR"] > 50).all()
    wf.select("keep")
    assert wf.stage == "results" and wf.revision == 8
    assert wf.selections == {
        "state": "Kwara",
        "facility_level": "primary",
        "age_group": "u5",
        "test_method": "both",
        "combine": "sum",
        "period": "all",
        "review": "keep",
    }
    expected = ward_tpr(
        SAMPLE_A,
        state="Kwara",
        code="kw",
        ages=("u5",),
        methods=("rdt", "microscopy"),
        level="primary",
    )
    result = wf.result
    assert result is not None
    got = {(r.LGA, r.WardName): r.TPR for r in result.itertuples()}
    assert set(got) == set(expected)
    for key, sums in expected.items():
        want = rate(sums)
        assert (want is None and pd.isna(got[key])) or got[key] == pytest.approx(
            want, abs=0.006
        )
    assert {"ward", "lga", "state"} <= set(wf.tables)


def test_recommendations_follow_the_domain_rules(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    states = {o.value: o for o in wf.options()}
    # The state with most tests (all ages, both methods), from the reference.
    totals = {
        name: sum(
            s.tested
            for s in ward_tpr(
                SAMPLE_A,
                state=name,
                code=code,
                ages=("u5", "o5", "pw"),
                methods=("rdt", "microscopy"),
            ).values()
        )
        for name, code in (("Adamawa", "ad"), ("Kwara", "kw"), ("Osun", "os"))
    }
    best = max(totals, key=totals.__getitem__)
    assert [v for v, o in states.items() if o.recommended] == [best]
    assert states[best].figures["tests"] == int(totals[best])
    wf.select("Kwara")
    levels = {o.value: o for o in wf.options()}
    assert levels["primary"].recommended  # primary holds most records
    assert levels["primary"].figures["share_of_records"] >= 0.7
    wf.select("primary")
    ages = {o.value: o for o in wf.options()}
    assert [v for v, o in ages.items() if o.recommended] == ["u5"]
    wf.select("u5")
    assert [o.value for o in wf.options() if o.recommended] == ["both"]


def test_single_state_file_passes_the_state_and_level_stages(
    store_root: Path,
) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_B)
    assert wf.stage == "age_group"
    assert wf.selections == {"state": "Kano", "facility_level": "all"}
    assert wf.previous_stage == "upload"
    wf.go_back("state")
    assert wf.stage == "state" and wf.selections == {}
    assert [o.value for o in wf.options()] == ["Kano"]
    wf.select("Kano")
    assert wf.stage == "age_group"  # the level stage is passed again
    revision = wf.revision
    # A script written for a file of several states names the state again.
    with pytest.raises(InputError) as error:
        wf.select("KANO")
    assert str(error.value) == (
        "'KANO' is not a choice at the age group stage; choose one of: u5, o5, pw, "
        "all. The state stage is already passed: the file has one state, Kano, and "
        "it was chosen for you."
    )
    assert (wf.stage, wf.revision) == ("age_group", revision)
    with pytest.raises(InputError) as error:
        wf.select("Primary")
    assert str(error.value).endswith(
        "The facility level stage is already passed: the file offers only 'all' "
        "there, and it was chosen for you."
    )
    assert "'Primary' is not a choice" in str(error.value)


def test_invalid_choices_change_nothing(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    with pytest.raises(InputError, match="upload a file first"):
        wf.select("Kwara")
    wf.load_file(SAMPLE_A)
    before = (wf.stage, wf.revision, wf.selections)
    for bad in ["Lagos", "", "all; rm -rf /", "../../etc"]:
        with pytest.raises(InputError):
            wf.select(bad)
    with pytest.raises(InputError):
        wf.select(42)  # type: ignore[arg-type]
    assert (wf.stage, wf.revision, wf.selections) == before
    stored = Workflow.resume(store_root, wf.session_id)
    assert (stored.stage, stored.revision) == before[:2]
    walk(wf, ["Kwara", "primary", "u5", "both"])
    with pytest.raises(InputError, match="2019"):
        wf.select("2019")
    wf.select("2024-01:2024-06")
    assert wf.selections["period"] == "2024-01:2024-06"


def test_combine_max_needs_both_methods(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    walk(wf, ["Kwara", "primary", "u5"])
    revision = wf.revision
    with pytest.raises(InputError, match="combine"):
        wf.select("rdt", combine="max")
    assert wf.revision == revision


def test_go_back_clears_the_stage_and_everything_after(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    walk(wf, KWARA_PATH)
    wf.go_back("age_group")
    assert wf.stage == "age_group"
    assert wf.selections == {"state": "Kwara", "facility_level": "primary"}
    assert wf.result is None and wf.tables == {}
    resumed = Workflow.resume(store_root, wf.session_id)
    assert resumed.stage == "age_group" and resumed.selections == wf.selections
    with pytest.raises(InputError, match="earlier stage"):
        wf.go_back("results")
    with pytest.raises(InputError, match="not a stage"):
        wf.go_back("age_selection")
    wf.go_back("upload")
    assert wf.stage == "upload" and wf.summary == {} and wf.file is None


def test_bad_upload_leaves_the_session_as_it_was(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    wf.select("Kwara")
    before = (wf.stage, wf.revision, wf.selections, wf.summary)
    for data, name in [
        (b"", "empty.xlsx"),
        (b"not,a,malaria\n1,2,3\n", "other.csv"),
        (b"PK\x03\x04 broken zip", "broken.xlsx"),
    ]:
        with pytest.raises(InputError):
            wf.load_bytes(data, name)
    assert (wf.stage, wf.revision, wf.selections, wf.summary) == before
    stored = Workflow.resume(store_root, wf.session_id)
    assert (stored.stage, stored.revision, stored.selections) == before[:3]


def test_unknown_and_malformed_ids_are_refused(store_root: Path) -> None:
    with pytest.raises(InputError):
        Workflow.resume(store_root, "0" * 32)
    for bad in ["../x", "a/b", "x" * 32, "0" * 31, "0" * 33, "\x00" * 32]:
        with pytest.raises(InputError):
            Workflow.resume(store_root, bad)


def test_a_second_window_gets_a_conflict_not_a_silent_overwrite(
    store_root: Path,
) -> None:
    first = Workflow.new(store_root)
    first.load_file(SAMPLE_A)
    second = Workflow.resume(store_root, first.session_id)
    second.select("Osun")
    with pytest.raises(ConflictError, match="another window"):
        first.select("Kwara")
    first.reload()
    assert first.selections["state"] == "Osun" and first.stage == "facility_level"


def test_state_file_is_plain_json(store_root: Path) -> None:
    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    walk(wf, ["Kwara", "primary"])
    manifests = list(store_root.rglob("manifest.json"))
    assert len(manifests) == 1
    text = manifests[0].read_text(encoding="utf-8")
    assert "NaN" not in text
    state = json.loads(text)["state"]
    assert state["stage"] == "age_group"
    assert state["selections"] == {"state": "Kwara", "facility_level": "primary"}
    pickles = list(store_root.rglob("*.pkl"))
    assert len(pickles) == 2  # the table and the upload, written once per upload


STEP_ONE = """
import sys
from tpr_widgets import Workflow
wf = Workflow.new(sys.argv[1])
wf.load_file(sys.argv[2])
wf.select("Kwara")
wf.select("primary")
print(wf.session_id)
"""

STEP_TWO = """
import sys
# Prove the Excel file is not read again: no reader can even be imported here,
# and the product's sandboxed reader refuses to start a child.
for name in ("fastexcel", "python_calamine", "openpyxl"):
    sys.modules[name] = None
import tpr_widgets.ingest.reader as reader
def refuse(*args, **kwargs):
    raise AssertionError("the workbook was read again")
reader.read_in_child = refuse
from tpr_widgets import Workflow
wf = Workflow.resume(sys.argv[1], sys.argv[2])
assert wf.stage == "age_group", wf.stage
for choice in ["u5", "both", "all", "keep"]:
    wf.select(choice)
sys.stdout.write(wf.result.to_csv(index=False))
"""


def test_two_processes_finish_one_session_without_rereading(
    store_root: Path, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.xlsx"
    shutil.copy(SAMPLE_A, upload)
    first = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STEP_ONE), str(store_root), str(upload)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    session_id = first.stdout.strip()
    upload.unlink()
    second = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STEP_TWO), str(store_root), session_id],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr

    single = Workflow.new(store_root)
    single.load_file(SAMPLE_A)
    walk(single, KWARA_PATH)
    assert single.result is not None
    assert second.stdout == single.result.to_csv(index=False)


def test_choices_are_case_insensitive_and_uploads_must_be_bytes(
    store_root: Path,
) -> None:
    wf = Workflow.new(store_root)
    with pytest.raises(InputError, match="bytes"):
        wf.load_bytes("State,LGA", "x.csv")  # type: ignore[arg-type]
    assert wf.revision == 1
    wf.load_file(SAMPLE_A)
    wf.select("kwara state")
    wf.select("Primary")
    wf.select(" U5 ")
    assert wf.selections["age_group"] == "u5"


def test_str_subclasses_and_long_values_cannot_fool_validation(
    store_root: Path,
) -> None:
    class Agreeable(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    wf = Workflow.new(store_root)
    wf.load_file(SAMPLE_A)
    with pytest.raises(InputError):
        wf.select(Agreeable("bogus"))
    with pytest.raises(InputError) as caught:
        wf.select("x" * 5000)
    assert len(str(caught.value)) < 300
    assert wf.stage == "state" and wf.revision == 2
