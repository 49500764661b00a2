"""Shared test set-up: every test (and every notebook kernel) uses a private store.

`TPR_WIDGETS_HOME` is pointed at a fresh folder before anything runs, so no test
touches a user's sessions and kernels started by nbval inherit it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_HOME = tempfile.mkdtemp(prefix="tpr-widgets-test-home-")
os.environ["TPR_WIDGETS_HOME"] = _HOME
os.environ.pop("TPR_WIDGETS_SECRET", None)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_A = REPO / "tpr_widgets" / "data" / "nmep_sample_format_a.xlsx"
SAMPLE_B = REPO / "tpr_widgets" / "data" / "dhis2_sample_format_b.xlsx"


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    """A store root of the test's own."""
    root = tmp_path / "store"
    root.mkdir()
    return root
