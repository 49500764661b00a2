"""Smoke run of `benchmarks/bench_store.py` on a small workbook.

The full run (300,000 rows) is made by hand; this checks that the script runs
end to end, prints both comparisons with their ratios, and prints every cost of
the file store beside the Redis store (it starts its own redis-server, so this
skips without one unless the run requires Redis).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.redis_server import find_server, required

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_store_smoke_run() -> None:
    if find_server() is None:
        if required():
            pytest.fail("TPR_WIDGETS_REQUIRE_REDIS=1 but no redis-server was found")
        pytest.skip("redis-server is not installed (tools/dev.py test installs it)")
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
    assert re.search(
        r"beside the Redis store \(redis-server [\d.]+ on 127\.0\.0\.1", out
    )
    costs = {
        "checkpoint: commit of a state change (of 10)",
        "checkpoint: write_data + commit of the table (of 2)",
        "resume: load + read_data of the table (of 2)",
        "resume in a fresh process, with options (of 2)",
    }
    for cost in costs:
        line = next((x for x in out.splitlines() if cost in x), None)
        assert line is not None, (cost, out)
        figures = re.findall(r"(\d+\.\d+) ms", line)
        assert len(figures) == 2 and all(float(f) > 0 for f in figures), line
