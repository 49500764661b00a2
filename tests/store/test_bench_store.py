"""Smoke run of `benchmarks/bench_store.py` on a small workbook.

The full run (300,000 rows) is made by hand; this checks that the script runs
end to end and prints both comparisons with their ratios.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_store_smoke_run() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_store.py"),
            "--rows",
            "2000",
            "--repeats",
            "2",
            "--commits",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"session: 2,000 facility-month rows", out), out
    assert re.search(r"checkpoint of one interaction: [\d.]+ ms .* ratio [\d.]+x", out)
    assert re.search(r"resume in a fresh process: \d+ ms .* ratio [\d.]+x", out), out
