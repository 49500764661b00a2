"""A small run of `benchmarks/bench_read.py`: it runs and prints every figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_read.py"


def test_bench_read_smoke(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "3000", "--repeat", "1", "--out",
         str(tmp_path / "n.xlsx"), "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    results = summary["results"]
    assert set(results) == {"product", "fastexcel", "openpyxl"}
    # The generator writes 3,000 data rows and a totals row: the product drops
    # the totals row, the bare readers keep it.
    assert results["product"]["rows"] == 3000
    assert results["fastexcel"]["rows"] == results["openpyxl"]["rows"] == 3001
    for name in ("product / raw fastexcel", "openpyxl / product", "peak memory"):
        assert name in done.stdout
    assert all(r["peak_mb"] > 0 for r in results.values())
