"""`Workflow.delete`: the session and all its data go, and stay gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpr_widgets.errors import InputError
from tpr_widgets.samples import sample_path
from tpr_widgets.workflow import Workflow


def test_delete_removes_every_file_of_the_session(root: Path) -> None:
    keep = Workflow.new(root)
    workflow = Workflow.new(root)
    workflow.load_file(sample_path())
    workflow.select("Kwara")
    folder = root / "sessions" / workflow.session_id
    assert len(list((folder / "data").glob("*.pkl"))) == 2  # table and upload

    workflow.delete()

    assert not folder.exists()
    assert [p.name for p in (root / "sessions").iterdir()] == [keep.session_id]
    with pytest.raises(InputError, match="no saved session"):
        Workflow.resume(root, workflow.session_id)
    assert [s["session_id"] for s in Workflow.sessions(root)] == [keep.session_id]


def test_a_deleted_workflow_saves_nothing_again(root: Path) -> None:
    workflow = Workflow.new(root)
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
    assert list((root / "sessions").iterdir()) == []
    workflow.delete()  # twice is fine


def test_sessions_lists_own_sessions_with_their_times(root: Path) -> None:
    first = Workflow.new(root)
    second = Workflow.new(root)
    second.load_file(sample_path())

    listed = Workflow.sessions(root)

    assert [s["session_id"] for s in listed] == [second.session_id, first.session_id]
    assert listed[0]["stage"] == second.stage
    assert listed[0]["label"] == "nmep_sample_format_a.xlsx"
    assert listed[0]["revision"] == 2
    assert listed[0]["created"] < listed[0]["updated"]
    assert listed[1]["created"] == listed[1]["updated"]
