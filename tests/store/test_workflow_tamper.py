"""Hostile store files are refused by `Workflow.resume`, before anything runs.

A session is saved at the test-method stage from the bundled sample; then one
file of it is changed the way an attacker with write access to the store folder
(but not the secret) could change it, and resuming must refuse it with
`IntegrityError`. The crafted pickle writes a marker file when unpickled: the
control case shows that it really does, the test that it never did.
"""

from __future__ import annotations

import json
import pathlib
import pickle
from pathlib import Path

import pytest
from _store_helpers import data_path, manifest_path

from tpr_widgets.errors import IntegrityError
from tpr_widgets.samples import sample_path
from tpr_widgets.store.datafile import MAGIC
from tpr_widgets.workflow import Workflow


class Evil:
    """Unpickling this creates `marker`: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (pathlib.Path.touch, (self.marker,))


def _saved(root: Path) -> Workflow:
    workflow = Workflow.new(root)
    workflow.load_file(sample_path())
    workflow.select("Kwara")
    workflow.select("primary")
    workflow.select("u5")
    assert workflow.stage == "test_method"
    return workflow


def _table_file(root: Path, workflow: Workflow) -> Path:
    manifest = json.loads(manifest_path(root, workflow.session_id).read_text())
    return data_path(root, workflow.session_id, manifest["data"]["table"])


def test_untouched_session_resumes(root: Path) -> None:
    saved = _saved(root)
    resumed = Workflow.resume(root, saved.session_id)
    assert resumed.stage == "test_method"
    assert resumed.selections == {
        "state": "Kwara",
        "facility_level": "primary",
        "age_group": "u5",
    }


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc["state"]["selections"].update(age_group="o5"),
        lambda doc: doc["state"].update(stage="results"),
        lambda doc: doc.update(revision=doc["revision"] + 1),
    ],
    ids=["choice", "stage", "revision"],
)
def test_tampered_manifest_is_refused(root: Path, change: object) -> None:
    saved = _saved(root)
    path = manifest_path(root, saved.session_id)
    doc = json.loads(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))

    with pytest.raises(IntegrityError, match="failed verification"):
        Workflow.resume(root, saved.session_id)


def test_tampered_table_is_refused_at_resume(root: Path) -> None:
    saved = _saved(root)
    path = _table_file(root, saved)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit inside the pickled table
    path.write_bytes(bytes(raw))

    with pytest.raises(IntegrityError, match="bad signature"):
        Workflow.resume(root, saved.session_id)


def test_table_from_another_session_is_refused(root: Path) -> None:
    mine, theirs = _saved(root), _saved(root)
    # Same upload, same table, same ref: the files differ only in whose they are.
    own, other = _table_file(root, mine), _table_file(root, theirs)
    assert own.name == other.name
    assert own.read_bytes() != other.read_bytes()
    own.write_bytes(other.read_bytes())

    with pytest.raises(IntegrityError, match="bad signature"):
        Workflow.resume(root, mine.session_id)
    assert Workflow.resume(root, theirs.session_id).stage == "test_method"


@pytest.mark.parametrize("mac", ["zero", "copied"])
def test_crafted_pickle_is_refused_and_never_runs(
    root: Path, tmp_path: Path, mac: str
) -> None:
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Evil(control)))
    assert control.exists(), "the payload must really run code when unpickled"

    saved = _saved(root)
    path = _table_file(root, saved)
    genuine = path.read_bytes()
    header = len(MAGIC) + 32
    marker = tmp_path / "marker"
    payload = pickle.dumps(Evil(marker), protocol=5)
    # A made-up MAC, or the genuine file's own MAC put in front of the payload.
    signature = b"\x00" * 32 if mac == "zero" else genuine[len(MAGIC) : header]
    path.write_bytes(MAGIC + signature + payload)

    with pytest.raises(IntegrityError):
        Workflow.resume(root, saved.session_id)
    assert not marker.exists(), "code from the crafted file ran"
