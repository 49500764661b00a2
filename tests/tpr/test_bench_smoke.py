"""A small run of the engine benchmark, so CI sees that it still works."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_engine_benchmark_small_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    national = load("national")
    bench = load("bench_engine")
    path = national.make_national_workbook(tmp_path / "small.xlsx", rows=1500)
    # run() stops with an error if the loop and the engine disagree on a ward.
    figures = bench.run(path, repeat=1)
    printed = capsys.readouterr().out
    assert "ward TPR, largest state" in printed and "ward TPR, all states" in printed
    assert "go back, switch age group" in printed
    for key in ("engine_all", "loop_all", "ratio_all", "switch_first"):
        assert figures[key] > 0
