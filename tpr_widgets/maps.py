"""The ward choropleth of TPR as a static PNG (matplotlib, Agg backend).

Wards with a TPR are coloured on one scale, either the data's own range or a
fixed 0-100 %; wards of the boundary file without data are grey with a hatch,
and say so in the legend; features without a geometry are left out (the join
reports them). The title names the state, facility level, age group, test
method and period, so a saved PNG still says what it shows.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, in the app or the CLI

import matplotlib.pyplot as plt
from matplotlib.colors import Normalize
from matplotlib.patches import Patch

from tpr_widgets.errors import InputError

log = logging.getLogger(__name__)

_LABELS = {
    "age_group": {
        "u5": "under 5",
        "o5": "5 and over",
        "pw": "pregnant women",
        "all": "all ages",
    },
    "test_method": {
        "rdt": "RDT",
        "microscopy": "microscopy",
        "both": "RDT + microscopy",
    },
}


def map_title(selections: Mapping[str, Any]) -> str:
    """`Kwara: TPR, all facilities, under 5, RDT, period all`."""
    state = selections.get("state", "all states")
    level = selections.get("facility_level", "all")
    age = _LABELS["age_group"].get(str(selections.get("age_group")), "?")
    method = _LABELS["test_method"].get(str(selections.get("test_method")), "?")
    if selections.get("combine") == "max":
        method += " (max rule)"
    period = selections.get("period", "all")
    return f"{state}: ward TPR, {level} facilities, {age}, {method}, period {period}"


def choropleth_png(
    frame: gpd.GeoDataFrame,
    selections: Mapping[str, Any],
    scale: str = "data",
    column: str = "TPR",
    provenance: Mapping[str, Any] | None = None,
) -> bytes:
    """The map as PNG bytes; `scale` is `data` (its range) or `fixed` (0-100).

    `provenance` (the run record) goes into the PNG's `Description` text.
    """
    if scale not in ("data", "fixed"):
        raise InputError(
            f"The map scale {scale!r} is not known; use 'data' or 'fixed'."
        )
    shown = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if shown.empty:
        raise InputError(
            "No boundary feature has a geometry, so there is no map; check the file."
        )
    values = shown[column].astype("float64")
    has = values.notna()
    if scale == "fixed" or not has.any():
        low, high = 0.0, 100.0
    else:
        low, high = float(values[has].min()), float(values[has].max())
        if low == high:
            low, high = max(0.0, low - 1), min(100.0, high + 1)
    figure, axes = plt.subplots(figsize=(8, 7), dpi=110)
    try:
        norm = Normalize(vmin=low, vmax=high)
        if (~has).any():
            shown[~has].plot(
                ax=axes,
                color="#d9d9d9",
                edgecolor="#7f7f7f",
                hatch="///",
                linewidth=0.4,
            )
        if has.any():
            shown[has].plot(
                ax=axes,
                column=values[has],
                cmap="YlOrRd",
                norm=norm,
                edgecolor="#555555",
                linewidth=0.4,
            )
        bar = figure.colorbar(
            plt.cm.ScalarMappable(norm=norm, cmap="YlOrRd"), ax=axes, shrink=0.7
        )
        bar.set_label("TPR (%)" + (" - fixed 0-100" if scale == "fixed" else ""))
        missing = int((~has).sum())
        handles = [
            Patch(
                facecolor="#d9d9d9",
                edgecolor="#7f7f7f",
                hatch="///",
                label=f"no data ({missing} wards)",
            ),
        ]
        axes.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
        axes.set_title(map_title(selections), fontsize=10, wrap=True)
        axes.set_axis_off()
        buffer = io.BytesIO()
        metadata = {"Title": map_title(selections), "Software": "tpr_widgets"}
        if provenance is not None:
            metadata["Description"] = json.dumps(dict(provenance), default=str)
        figure.savefig(buffer, format="png", bbox_inches="tight", metadata=metadata)
    finally:
        plt.close(figure)
    log.info("map drawn: %d wards with data, %d without", int(has.sum()), missing)
    return buffer.getvalue()
