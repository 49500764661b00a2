"""Workflow hooks for the outputs: the boundary file and the recode table.

Uses the real Ilorin boundaries from the shared data folder beside the clone
(`../shared/data/`); skipped with that reason when it is absent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from tests.geo._synthetic import ILORIN, ILORIN_LGAS, SHARED, wards_of, write_export
from tpr_widgets import InputError, Workflow

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is absent"
)


def _at_results(tmp_path: Path) -> Workflow:
    write_export(
        tmp_path / "k.csv",
        "Kwara",
        "kw",
        [(lga, w) for lga, w, _ in wards_of(ILORIN_LGAS)],
    )
    wf = Workflow.new(tmp_path / "store")
    wf.load_file(tmp_path / "k.csv")
    answers = {
        "age_group": "u5",
        "test_method": "rdt",
        "period": "all",
        "review": "keep",
    }
    while wf.stage != "results":
        wf.select(answers[wf.stage])
    return wf


def test_boundaries_and_recode_are_checkpointed_and_resume(tmp_path: Path) -> None:
    wf = _at_results(tmp_path)
    data = ILORIN.read_bytes()
    wf.load_boundaries(data, "../../" + ILORIN.name)  # only the base name is kept
    wf.set_recode(
        pd.DataFrame(
            {"LGA": ["Ilorin East"], "WardName": ["Zango"], "BoundaryWard": ["Zango 1"]}
        )
    )
    again = Workflow.resume(tmp_path / "store", wf.session_id)
    assert again.boundary_file == {
        "name": ILORIN.name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert again.boundary_bytes() == data
    assert again.recode.to_dict(orient="records") == [
        {
            "LGA": "Ilorin East",
            "WardName": "Zango",
            "BoundaryWard": "Zango 1",
            "WardCode": "",
        }
    ]
    assert again.stage == "results" and again.revision == wf.revision


def test_a_bad_boundary_file_or_recode_changes_nothing(tmp_path: Path) -> None:
    wf = _at_results(tmp_path)
    revision = wf.revision
    with pytest.raises(InputError, match="not a boundary file"):
        wf.load_boundaries(b"hello", "wards.txt")
    with pytest.raises(InputError, match="neither a BoundaryWard nor a WardCode"):
        wf.set_recode(pd.DataFrame({"LGA": ["Ilorin East"], "WardName": ["Zango"]}))
    assert wf.revision == revision and wf.boundary_file is None and wf.recode.empty
    fresh = Workflow.new(tmp_path / "store")
    with pytest.raises(InputError, match="Upload an export before"):
        fresh.load_boundaries(ILORIN.read_bytes(), ILORIN.name)
