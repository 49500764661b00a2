"""Time the TPR engine on national-size data against a plain Python loop.

In one run on the national-size workbook (`benchmarks/national.py`), this
prints:

- ward TPR for the largest state and for all states with the product's engine
  (`tpr_widgets.tpr.compute`: ward, LGA, state, quality and period tables),
  the median of several runs;
- the same ward figures with a straightforward loop, the way the earlier
  system computed them: group the rows by ward, then by facility, walk each
  facility's rows with `iterrows` and add up the count pairs by the same rule
  (a pair is used when either count is present, an empty count reads as 0, a
  pair with more positives than tests is left out). Its answers are checked
  against the engine's before any figure is printed;
- their ratio, against the target of at least 50 times;
- the time to go back from the results, switch the age group and return to
  the results for the largest state, through the `Workflow` with its checkpoint
  store (first visit of the new combination, then the return to one seen
  before, served from the result cache).

The workbook is read once (ingest is not what is timed here).

    python benchmarks/bench_engine.py                # 300,000 rows
    python benchmarks/bench_engine.py --rows 5000    # a quick run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from national import CACHE, make_national_workbook  # noqa: E402

from tpr_widgets import Workflow  # noqa: E402
from tpr_widgets.tpr import Selection, compute  # noqa: E402
from tpr_widgets.vocab import count_role  # noqa: E402

TARGET_RATIO = 50.0
TARGET_ALL = 0.5
TARGET_SWITCH = 0.3
Key = tuple[str, str, str]


def loop_ward_tpr(
    rows: pd.DataFrame, ages: tuple[str, ...], methods: tuple[str, ...]
) -> dict[Key, tuple[float, float, int]]:
    """(state, LGA, ward) -> (tested, positive, facilities), row by row."""
    out: dict[Key, tuple[float, float, int]] = {}
    pairs = [
        (count_role(m, "tested", a), count_role(m, "positive", a))
        for m in methods
        for a in ages
    ]
    for (state, lga, ward), ward_rows in rows.groupby(
        ["state", "lga", "ward"], observed=True, sort=True
    ):
        tested = positive = 0.0
        facilities = 0
        for _, facility_rows in ward_rows.groupby("facility", observed=True):
            facilities += 1
            for _, row in facility_rows.iterrows():
                for t_name, p_name in pairs:
                    t, p = row[t_name], row[p_name]
                    if pd.isna(t) and pd.isna(p):
                        continue
                    t = 0.0 if pd.isna(t) else float(t)
                    p = 0.0 if pd.isna(p) else float(p)
                    if p > t:
                        continue
                    tested += t
                    positive += p
        out[(str(state), str(lga), str(ward))] = (tested, positive, facilities)
    return out


def _median_time(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _check(ward: pd.DataFrame, loop: dict[Key, tuple[float, float, int]]) -> None:
    """Fail loudly unless the loop and the engine agree ward by ward."""
    engine = {
        (r.State, r.LGA, r.WardName): (r.Tested, r.Positive, r.Facilities)
        for r in ward.itertuples()
    }
    if set(engine) != set(loop):
        raise SystemExit("the loop and the engine found different wards")
    for key, (tested, positive, facilities) in loop.items():
        got = engine[key]
        if (int(tested), int(positive), facilities) != tuple(int(v) for v in got):
            raise SystemExit(f"the loop and the engine disagree for {key}: {got}")


def _switch(wf: Workflow, age: str) -> float:
    started = time.perf_counter()
    wf.go_back("age_group")
    wf.select(age)
    wf.select("both")
    if wf.stage == "period":
        wf.select("all")
    wf.select("keep")
    tables = wf.tables
    elapsed = time.perf_counter() - started
    assert wf.stage == "results" and tables["ward"]["Age_Group"].iloc[0] == age
    return elapsed


def run(path: Path, repeat: int = 5) -> dict[str, float]:
    """Run every measurement on the workbook at `path`; print and return them."""
    with tempfile.TemporaryDirectory(prefix="tpr-bench-") as root:
        wf = Workflow.new(root)
        started = time.perf_counter()
        wf.load_file(path)
        read = time.perf_counter() - started
        table = wf.table
        states = table["state"].value_counts()
        largest = str(states.index[0])
        print(
            f"data: {len(table):,} facility-month rows, {len(states)} states "
            f"(read once in {read:.1f} s); largest state {largest} "
            f"({int(states.iloc[0]):,} rows)"
        )
        figures: dict[str, float] = {}
        ages, methods = ("u5",), ("rdt", "microscopy")
        for name, state in (("largest state", largest), ("all states", "all")):
            selection = Selection(state=state, age_group="u5", test_method="both")
            engine_s, tables = _median_time(
                lambda s=selection: compute(table, s), repeat
            )
            rows = table if state == "all" else table[table["state"] == state]
            started = time.perf_counter()
            loop = loop_ward_tpr(rows, ages, methods)
            loop_s = time.perf_counter() - started
            _check(tables["ward"], loop)
            ratio = loop_s / engine_s
            key = "largest" if state != "all" else "all"
            figures[f"engine_{key}"], figures[f"loop_{key}"] = engine_s, loop_s
            figures[f"ratio_{key}"] = ratio
            print(
                f"ward TPR, {name} ({len(tables['ward']):,} wards): engine "
                f"{engine_s * 1000:.1f} ms, loop {loop_s:.2f} s, ratio {ratio:.0f}x "
                f"(target >= {TARGET_RATIO:.0f}x)"
            )
        path_choices = {
            "state": largest,
            "facility_level": "all",
            "age_group": "u5",
            "test_method": "both",
            "period": "all",
            "review": "keep",
        }
        while wf.stage != "results":
            wf.select(path_choices[wf.stage])
        first = _switch(wf, "o5")
        back = _switch(wf, "u5")
        figures["switch_first"], figures["switch_return"] = first, back
        print(
            f"go back, switch age group u5 -> o5, return to results ({largest}): "
            f"{first:.3f} s; back to u5 (cached): {back:.3f} s "
            f"(target < {TARGET_SWITCH} s)"
        )
    verdict = (
        figures["ratio_largest"] >= TARGET_RATIO
        and figures["ratio_all"] >= TARGET_RATIO
        and figures["engine_all"] < TARGET_ALL
        and max(first, back) < TARGET_SWITCH
    )
    print(
        f"engine, all states: {figures['engine_all']:.3f} s (target < {TARGET_ALL} "
        f"s); targets {'met' if verdict else 'NOT met'}"
    )
    figures["met"] = float(verdict)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--file", type=Path, help="an existing national workbook")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    path = args.file or CACHE / f"national-{args.rows}.xlsx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        make_national_workbook(path, rows=args.rows)
    run(path, args.repeat)


if __name__ == "__main__":
    main()
