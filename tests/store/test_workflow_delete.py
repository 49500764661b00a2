"""`Workflow.delete`, on both backends: the session and all its data go, and
stay gone; `Workflow.sessions` lists what is left.
"""

from __future__ import annotations

import pytest
from _backends import Backend

from tpr_widgets.errors import InputError
from tpr_widgets.samples import sample_path
from tpr_widgets.workflow import Workflow


def test_delete_removes_everything_of_the_session(backend: Backend) -> None:
    keep = Workflow.new(backend.location)
    workflow = Workflow.new(backend.location)
    workflow.load_file(sample_path())
    workflow.select("Kwara")
    assert len(backend.stored_refs(workflow.session_id)) == 2  # table and upload

    workflow.delete()

    assert backend.leftovers(workflow.session_id) == []
    assert backend.get_manifest(keep.session_id) is not None
    with pytest.raises(InputError, match="no saved session"):
        Workflow.resume(backend.location, workflow.session_id)
    listed = Workflow.sessions(backend.location)
    assert [s["session_id"] for s in listed] == [keep.session_id]


def test_a_deleted_workflow_saves_nothing_again(backend: Backend) -> None:
    workflow = Workflow.new(backend.location)
    workflow.load_file(sample_path())
    workflow.delete()

    for action in (
        lambda: workflow.select("Kwara"),
        lambda: workflow.load_file(sample_path()),
        lambda: workflow.go_back("upload"),
        workflow.reload,
    ):
        with pytest.raises(InputError, match="deleted"):
            action()
    assert backend.leftovers(workflow.session_id) == []
    assert Workflow.sessions(backend.location) == []
    workflow.delete()  # twice is fine


def test_sessions_lists_own_sessions_with_their_times(backend: Backend) -> None:
    first = Workflow.new(backend.location)
    second = Workflow.new(backend.location)
    second.load_file(sample_path())

    listed = Workflow.sessions(backend.location)

    assert [s["session_id"] for s in listed] == [second.session_id, first.session_id]
    assert listed[0]["stage"] == second.stage
    assert listed[0]["label"] == "nmep_sample_format_a.xlsx"
    assert listed[0]["revision"] == 2
    assert listed[0]["created"] < listed[0]["updated"]
    assert listed[1]["created"] == listed[1]["updated"]
