"""HTML fragments the widget view shows: option tables, ward tables, charts.

Every value from a file (ward names, headers) is escaped before it is placed in
HTML, since the public app shows what anyone uploads.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pandas as pd

from tpr_widgets.choices import Option

_FIGURE_LABELS: Final = {
    "records": "Records",
    "facilities": "Facilities",
    "lgas": "LGAs",
    "wards": "Wards",
    "tests": "Tests",
    "positivity": "Positivity %",
    "completeness": "Completeness",
    "share_of_records": "Share of records",
    "rdt_completeness": "RDT completeness",
    "microscopy_completeness": "Microscopy completeness",
    "rdt_positivity": "RDT positivity %",
    "microscopy_positivity": "Microscopy positivity %",
    "periods": "Periods",
    "wards_above_50": "Wards above 50 %",
}
_SHARES: Final = {
    "completeness",
    "share_of_records",
    "rdt_completeness",
    "microscopy_completeness",
}


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _figure(key: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if key in _SHARES:
        return f"{100 * float(value):.0f} %"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return esc(value)


def options_table(options: Sequence[Option]) -> str:
    """A table of a stage's options and the figures behind them."""
    keys = [k for k in _FIGURE_LABELS if any(k in o.figures for o in options)]
    head = "".join(f"<th>{esc(_FIGURE_LABELS[k])}</th>" for k in keys)
    rows = []
    for option in options:
        mark = " ★ recommended" if option.recommended else ""
        note = f" <em>({esc(option.note)})</em>" if option.note else ""
        cells = "".join(f"<td>{_figure(k, option.figures.get(k))}</td>" for k in keys)
        rows.append(f"<tr><td>{esc(option.label)}{mark}{note}</td>{cells}</tr>")
    return (
        '<div class="tpr-scroll"><table class="tpr-table"><thead><tr><th>Choice</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def frame_table(frame: pd.DataFrame, limit: int = 500, css: str = "tpr-table") -> str:
    """An escaped HTML table of a DataFrame (at most `limit` rows)."""
    shown = frame.head(limit)
    head = "".join(f"<th>{esc(c)}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = "".join(f"<td>{_cell(v)}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    more = (
        f"<p>Showing {limit} of {len(frame):,} rows; download the file for all.</p>"
        if len(frame) > limit
        else ""
    )
    return (
        f'<div class="tpr-scroll"><table class="{css}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return esc(value)


def bar_chart(ward: pd.DataFrame, limit: int = 30) -> str:
    """Horizontal bars of ward TPR, highest first."""
    rated = ward.dropna(subset=["TPR"]).sort_values("TPR", ascending=False)
    bars = []
    for row in rated.head(limit).itertuples(index=False):
        tpr = float(row.TPR)  # type: ignore[arg-type]
        width = max(0.0, min(100.0, tpr))
        colour = "#b2182b" if tpr > 50 else "#2166ac"
        bars.append(
            '<div class="tpr-bar-row">'
            f'<span class="tpr-bar-label">{esc(row.WardName)} ({esc(row.LGA)})</span>'
            f'<span class="tpr-bar" style="width:{width:.1f}%;background:{colour}">'
            f"</span><span>{tpr:.1f} %</span></div>"
        )
    title = (
        f"<p><b>Ward TPR, highest {min(limit, len(rated))} of {len(rated):,} wards "
        "with tests</b> (red: above 50 %)</p>"
    )
    return title + "".join(bars)


def download_link(data: bytes, filename: str, label: str, mime: str) -> str:
    """A link that hands `data` to the browser as a file, without a server path."""
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<a class="tpr-download" download="{esc(filename)}" '
        f'href="data:{mime};base64,{encoded}">{esc(label)}</a>'
    )


def trail(stages: Iterable[str], current: str) -> str:
    """The stage trail with the current stage marked."""
    parts = []
    for stage in stages:
        name = esc(stage.replace("_", " "))
        if stage == current:
            parts.append(f'<b class="tpr-current">{name}</b>')
        else:
            parts.append(f"<span>{name}</span>")
    return '<div class="tpr-trail">' + " → ".join(parts) + "</div>"


STYLE: Final = """
<style>
.tpr-table { border-collapse: collapse; font-size: 13px; }
.tpr-table th, .tpr-table td { border: 1px solid #ddd; padding: 3px 6px; }
.tpr-table th { background: #f3f3f3; position: sticky; top: 0; }
.tpr-scroll { max-height: 420px; overflow: auto; max-width: 100%; }
.tpr-bar-row { display: flex; align-items: center; gap: 6px; font-size: 12px; }
.tpr-bar-label { width: 40%; overflow: hidden; white-space: nowrap; }
.tpr-bar { display: inline-block; height: 12px; }
.tpr-error { color: #a00; font-weight: bold; }
.tpr-trail { margin: 4px 0 8px 0; }
.tpr-current { color: #2166ac; }
</style>
"""
