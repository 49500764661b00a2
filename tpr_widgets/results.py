"""The results half of a session: its tables, cached in the checkpoint's data.

`Results` is the part of `Workflow` that turns the current selections into
tables. The tables of a selection are a pure function of the canonical table,
the choices and the package version, so they are cached with the store's
`write_data` (signed, verified on read) under `result:<key>` in the
checkpoint's `data` mapping (see `result_cache`), in the same commit as the
choice that reaches the review stage. A resumed session in any process reads
them back instead of computing them again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from tpr_widgets import choices, result_cache
from tpr_widgets.store import Checkpoint, Store
from tpr_widgets.store.ids import short_id as _short
from tpr_widgets.tpr import OUTPATIENT_COLUMNS, above_threshold, compute
from tpr_widgets.vocab import STAGES

log = logging.getLogger(__name__)


class Results:
    """Tables of the current selections, for `Workflow` (which provides the state)."""

    _store: Store
    _checkpoint: Checkpoint
    _tables: dict[str, pd.DataFrame] | None
    _tables_key: str | None

    if TYPE_CHECKING:

        @property
        def session_id(self) -> str: ...

        @property
        def stage(self) -> str: ...

        @property
        def selections(self) -> dict[str, Any]: ...

        @property
        def table(self) -> pd.DataFrame: ...

    def _result_key(self, selections: Mapping[str, Any]) -> str:
        """The cache key of the tables for `selections` (the review is applied
        on top of them, so it is not part of the key)."""
        fingerprint = self._checkpoint.data.get("table", "")
        base = {k: v for k, v in selections.items() if k != "review"}
        return result_cache.result_key(fingerprint, base)

    def _compute(self, selections: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
        selection = choices.selection_of(dict(selections))
        outpatient = "outpatient" in self.table.columns
        return compute(self.table, selection, outpatient=outpatient)

    def _read_cached(self, key: str) -> dict[str, pd.DataFrame] | None:
        ref = self._checkpoint.data.get(result_cache.PREFIX + key)
        if ref is None:
            return None
        found = self._store.read_data(self.session_id, ref)
        if not isinstance(found, dict) or not all(
            isinstance(v, pd.DataFrame) for v in found.values()
        ):
            log.warning(
                "session %s: a cached result is not tables; recomputing",
                _short(self.session_id),
            )
            return None
        return cast(dict[str, pd.DataFrame], found)

    def _cached_results(
        self, state: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, pd.DataFrame] | None, str | None]:
        """The data mapping for `state`, with its results cached when it has any.

        From the review stage on, the tables of the new selections are taken
        from the cache or computed and written, and their ref is recorded in
        the mapping (and the use order in `state`), bounded by the cache limit.
        """
        data = dict(self._checkpoint.data)
        if STAGES.index(state["stage"]) < STAGES.index("review"):
            return data, None, None
        key = self._result_key(state["selections"])
        if key == self._tables_key and self._tables is not None:
            tables: dict[str, pd.DataFrame] | None = self._tables
        else:
            tables = self._read_cached(key)
        ref = data.get(result_cache.PREFIX + key)
        if tables is None or ref is None:
            if tables is None:
                tables = self._compute(state["selections"])
            ref = self._store.write_data(self.session_id, tables)
        data, order = result_cache.remember(
            data, state.get("cached_results", []), key, ref
        )
        state["cached_results"] = order
        return data, tables, key

    def _base_tables(self) -> dict[str, pd.DataFrame]:
        """The selection's tables before the review is applied (read-only)."""
        selections = self.selections
        key = self._result_key(selections)
        if self._tables is None or self._tables_key != key:
            self._tables = self._read_cached(key) or self._compute(selections)
            self._tables_key = key
        return self._tables

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the selection (from the review stage on), else empty.

        `ward`, `lga`, `state`, `quality`, `impossible`, and `period` / `trend`
        when the rows cover several periods / years. After the review choice
        each of `ward`, `lga` and `state` carries `Review`; the outpatient
        indicator columns are kept only with `review="add_outpatient"`.
        """
        if STAGES.index(self.stage) < STAGES.index("review"):
            return {}
        tables = {name: table.copy() for name, table in self._base_tables().items()}
        review = self.selections.get("review")
        if review != "add_outpatient":
            ward = tables["ward"]
            tables["ward"] = ward.drop(
                columns=[c for c in OUTPATIENT_COLUMNS if c in ward.columns]
            )
        if review is not None:
            for name in ("ward", "lga", "state"):
                tables[name]["Review"] = review
        return tables

    @property
    def result(self) -> pd.DataFrame | None:
        """The ward table from the review stage on, else None."""
        return self.tables.get("ward")

    @property
    def high_wards(self) -> pd.DataFrame:
        """Wards above 50 % TPR, highest first (shown at the review stage)."""
        ward = self.result
        return above_threshold(ward) if ward is not None else pd.DataFrame()
