"""Each malformed or hostile file gets its one clear error, and harms nothing.

Through `inspect` and `compute` (exit 2, one `error:` line on standard error,
no traceback) and through `Workflow.load_file` (`InputError`, the session
exactly as it was: same stage, revision, file, summary and stored data).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest.hostile import Case, corpus, good_xlsx
from tpr_widgets.cli import main
from tpr_widgets.errors import InputError
from tpr_widgets.workflow import Workflow

CASES = corpus()


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 20
    assert len({case.name for case in CASES}) == len(CASES)


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_inspect_and_compute_refuse_with_one_line(
    tmp_path: Path,
    case: Case,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    path = _write(tmp_path, case)
    for argv in (
        ["inspect", str(path)],
        ["compute", str(path), "--out", str(tmp_path / "out")],
    ):
        assert main(argv) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert lines[0].startswith("error: ")
        assert case.needle in lines[0], lines[0]
        assert "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_load_file_refuses_and_leaves_the_session_unchanged(
    tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(good_xlsx())
    root = tmp_path / "store"
    wf = Workflow.new(root)
    wf.load_file(good)
    wf.select("all")  # facility level
    before = (wf.stage, wf.revision, wf.selections, wf.summary, wf.file, wf.columns)
    stored = sorted(p.name for p in root.rglob("*") if p.is_file())
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(InputError) as error:
        wf.load_file(_write(tmp_path, case))
    assert case.needle in str(error.value)
    assert (wf.stage, wf.revision, wf.selections, wf.summary, wf.file, wf.columns) == (
        before
    )
    again = Workflow.resume(root, wf.session_id)
    assert (again.stage, again.revision, again.summary) == (
        before[0],
        before[1],
        before[3],
    )
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == stored


def test_a_real_process_exits_2_with_one_error_line(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "billion_laughs")
    path = _write(tmp_path, case)
    done = subprocess.run(
        [sys.executable, "-m", "tpr_widgets", "compute", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if line.startswith("error:")
    ]
    assert "entities" in done.stderr
