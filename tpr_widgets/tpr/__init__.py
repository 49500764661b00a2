"""Ward test positivity rates for a selection of the canonical table.

The rule everywhere: sum numerators and denominators first, then divide, at
ward, LGA, state and period level alike. A (row, method, age group) count pair
is used when either count is present; an empty count beside a present one reads
as 0, as DHIS2 leaves zeros empty. A pair whose positives exceed its tests is
impossible: it is left out of both sums (unless the caller includes impossible
pairs) and the ward is flagged either way. A ward with no tests has an empty
rate, never 0.

`both` pools the test events of RDT and microscopy (`combine="sum"`); the
legacy NMEP rule (`combine="max"`) takes, per facility-month row, the larger
tested and the larger positive count independently, and is labelled `both_max`.

Parts: `selection` (what to compute), `counts` (per-row counts), `engine`
(pooling into ward, LGA and state tables), `quality` (flags and run figures),
`periods` (ward x period table and trend). `compute` puts them together.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from tpr_widgets.tpr.counts import impossible_pairs
from tpr_widgets.tpr.engine import (
    OUTPATIENT_COLUMNS,
    QUALITY_COLUMNS,
    WARD_COLUMNS,
    above_threshold,
    aggregate,
    group_ids,
    ward_frame,
    ward_sums,
    ward_table,
)
from tpr_widgets.tpr.periods import (
    PERIOD_COLUMNS,
    TREND_COLUMNS,
    period_count,
    period_table,
    trend_table,
    year_count,
)
from tpr_widgets.tpr.quality import FEW_TESTS, FLAG_CODES, HIGH_TPR, run_quality
from tpr_widgets.tpr.selection import (
    Selection,
    check_period,
    period_mask,
    select_rows,
    selected,
)

__all__ = [
    "FEW_TESTS",
    "FLAG_CODES",
    "HIGH_TPR",
    "OUTPATIENT_COLUMNS",
    "PERIOD_COLUMNS",
    "QUALITY_COLUMNS",
    "TREND_COLUMNS",
    "WARD_COLUMNS",
    "Selection",
    "above_threshold",
    "check_period",
    "compute",
    "period_mask",
    "select_rows",
    "selected",
    "ward_table",
]

log = logging.getLogger(__name__)


def _wards_without_rows(table: pd.DataFrame, selection: Selection, seen: int) -> int:
    """Wards of the chosen state(s) that have rows in the file but not here."""
    scope = np.arange(len(table))
    if selection.state != "all":
        scope = np.flatnonzero((table["state"] == selection.state).to_numpy())
    _, total, _ = group_ids(table, scope, ["state", "lga", "ward"])
    return max(0, total - seen)


def compute(
    table: pd.DataFrame, selection: Selection, *, outpatient: bool = False
) -> dict[str, pd.DataFrame]:
    """Every table of a selection.

    `ward`, `lga`, `state`; `quality` (the run's figures) and `impossible` (the
    pairs with more positives than tests); `period` when the rows cover more
    than one period and `trend` when they cover more than one year. With
    `outpatient=True` the ward table carries the outpatient indicator.
    """
    started = time.perf_counter()
    pooled = ward_sums(table, selection)
    rows, counts, ids = pooled.rows, pooled.counts, pooled.ids
    ward = ward_frame(pooled, selection, outpatient)
    tables = {
        "ward": ward,
        "lga": aggregate(table, pooled, ["state", "lga"], selection),
        "state": aggregate(table, pooled, ["state"], selection),
        "quality": run_quality(
            pooled.sums,
            ward,
            selection.include_impossible,
            _wards_without_rows(table, selection, len(ward)),
        ),
        "impossible": impossible_pairs(table, rows, selection),
    }
    names = pooled.names
    if period_count(table, rows) > 1:
        tables["period"] = period_table(table, rows, counts, ids, names, selection)
    if year_count(table, rows) > 1:
        tables["trend"] = trend_table(table, rows, counts, ids, names)
    log.info(
        "computed %d wards from %d rows in %.3f s",
        len(ward),
        len(rows),
        time.perf_counter() - started,
    )
    return tables
