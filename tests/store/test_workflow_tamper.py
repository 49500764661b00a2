"""Hostile store files are refused by `Workflow.resume`, before anything runs.

A session is saved at the test-method stage from the bundled sample; then one
file of it is changed the way an attacker with write access to the store folder
(but not the secret) could change it, and resuming must refuse it with
`IntegrityError`. The crafted pickle writes a marker file when unpickled: the
control case shows that it really does, the test that it never did. Both
backends: a store folder, and the keys of a Redis server.
"""

from __future__ import annotations

import json
import pathlib
import pickle
from pathlib import Path

import pytest
from _backends import Backend

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


def _saved(backend: Backend) -> Workflow:
    workflow = Workflow.new(backend.location)
    workflow.load_file(sample_path())
    workflow.select("Kwara")
    workflow.select("primary")
    workflow.select("u5")
    assert workflow.stage == "test_method"
    return workflow


def _table_ref(backend: Backend, workflow: Workflow) -> str:
    raw = backend.get_manifest(workflow.session_id)
    assert raw is not None
    ref: str = json.loads(raw)["data"]["table"]
    return ref


def _table(backend: Backend, workflow: Workflow) -> bytes:
    raw = backend.get_data(workflow.session_id, _table_ref(backend, workflow))
    assert raw is not None
    return raw


def test_untouched_session_resumes(backend: Backend) -> None:
    saved = _saved(backend)
    resumed = Workflow.resume(backend.location, saved.session_id)
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
def test_tampered_manifest_is_refused(backend: Backend, change: object) -> None:
    saved = _saved(backend)
    raw = backend.get_manifest(saved.session_id)
    assert raw is not None
    doc = json.loads(raw)
    change(doc)  # type: ignore[operator]
    backend.put_manifest(saved.session_id, json.dumps(doc).encode("utf-8"))

    with pytest.raises(IntegrityError, match="failed verification"):
        Workflow.resume(backend.location, saved.session_id)


def test_tampered_table_is_refused_at_resume(backend: Backend) -> None:
    saved = _saved(backend)
    raw = bytearray(_table(backend, saved))
    raw[len(raw) // 2] ^= 0x01  # one bit inside the pickled table
    backend.put_data(saved.session_id, _table_ref(backend, saved), bytes(raw))

    with pytest.raises(IntegrityError, match="bad signature"):
        Workflow.resume(backend.location, saved.session_id)


def test_table_from_another_session_is_refused(backend: Backend) -> None:
    mine, theirs = _saved(backend), _saved(backend)
    # Same upload, same table, same ref: the blobs differ only in whose they are.
    ref = _table_ref(backend, mine)
    assert _table_ref(backend, theirs) == ref
    assert _table(backend, mine) != _table(backend, theirs)
    backend.put_data(mine.session_id, ref, _table(backend, theirs))

    with pytest.raises(IntegrityError, match="bad signature"):
        Workflow.resume(backend.location, mine.session_id)
    assert Workflow.resume(backend.location, theirs.session_id).stage == "test_method"


@pytest.mark.parametrize("mac", ["zero", "copied"])
def test_crafted_pickle_is_refused_and_never_runs(
    backend: Backend, tmp_path: Path, mac: str
) -> None:
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Evil(control)))
    assert control.exists(), "the payload must really run code when unpickled"

    saved = _saved(backend)
    genuine = _table(backend, saved)
    header = len(MAGIC) + 32
    marker = tmp_path / "marker"
    payload = pickle.dumps(Evil(marker), protocol=5)
    # A made-up MAC, or the genuine file's own MAC put in front of the payload.
    signature = b"\x00" * 32 if mac == "zero" else genuine[len(MAGIC) : header]
    backend.put_data(
        saved.session_id, _table_ref(backend, saved), MAGIC + signature + payload
    )

    with pytest.raises(IntegrityError):
        Workflow.resume(backend.location, saved.session_id)
    assert not marker.exists(), "code from the crafted file ran"
