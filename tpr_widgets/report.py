"""The short Markdown report of one run.

Method, selections, data quality figures, the threshold review decision and,
with a boundary file, the join figures and every unmatched ward, so the person
who receives the files can see how they were made without the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from tpr_widgets.geo.join import JoinResult
from tpr_widgets.tpr import HIGH_TPR

_METHOD = {
    "rdt": "RDT positives / RDT tests",
    "microscopy": "microscopy positives / microscopy tests",
    "both": "(RDT + microscopy positives) / (RDT + microscopy tests), pooled",
}


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(frame: pd.DataFrame, limit: int = 200) -> list[str]:
    if frame.empty:
        return ["(none)"]
    shown = frame.head(limit)
    lines = [
        "| " + " | ".join(map(str, shown.columns)) + " |",
        "|" + "---|" * len(shown.columns),
    ]
    lines += [
        "| " + " | ".join(_cell(v) for v in row) + " |"
        for row in shown.itertuples(index=False)
    ]
    if len(frame) > limit:
        lines.append(f"\n... and {len(frame) - limit} more (see the workbook)")
    return lines


def report_markdown(
    tables: Mapping[str, pd.DataFrame],
    record: Mapping[str, Any],
    joined: JoinResult | None,
    summary: Mapping[str, Any] | None,
) -> str:
    """The report as Markdown text."""
    ward = tables["ward"]
    selections = dict(record.get("selections", {}))
    method = str(selections.get("test_method", "both"))
    rule = _METHOD.get(method, method)
    if method == "both" and selections.get("combine") == "max":
        rule = "per facility-month row the larger of the RDT and microscopy counts"
    tested = ward["Tested"].fillna(0).sum()
    positive = ward["Positive"].fillna(0).sum()
    high = int((ward["TPR"].astype("float64") > HIGH_TPR).sum())
    lines = [
        f"# Ward test positivity rate: {selections.get('state', 'all states')}",
        "",
        f"Made by tpr_widgets {record.get('version')} on {record.get('created')}.",
        "",
        "## Method",
        "",
        f"TPR = 100 x {rule}, summed over the facility-month rows of each ward "
        "before dividing. A count pair with more positives than tests is left out "
        "(and the ward flagged) unless impossible rows were included.",
        "",
        "## Selections",
        "",
        *[f"- {k}: {v}" for k, v in selections.items()],
        "",
        "## Inputs",
        "",
        *[
            f"- {i['role']}: {i['name']} ({i['size']:,} bytes, SHA-256 {i['sha256']})"
            for i in record.get("inputs", [])
        ],
        "",
        "## Data quality",
        "",
        f"- wards: {len(ward):,}; wards with tests: {int(ward['TPR'].notna().sum()):,}",
        f"- tests: {int(tested):,}; positives: {int(positive):,}",
        f"- wards flagged: {int((ward['Flags'].fillna('') != '').sum()):,}",
    ]
    if summary:
        lines.append(f"- facility-month records in the file: {summary.get('records')}")
        for age, methods in dict(summary.get("completeness", {})).items():
            cells = ", ".join(f"{m} {100 * v:.1f} %" for m, v in methods.items())
            lines.append(f"- completeness {age}: {cells}")
        lines += [f"- note: {n}" for n in summary.get("notes", [])]
    lines += [
        "",
        "## Threshold review",
        "",
        f"{high} ward(s) above {HIGH_TPR:.0f} %. Decision: "
        f"{selections.get('review', 'not made')}.",
    ]
    if joined is not None:
        counts = joined.counts
        lines += [
            "",
            "## Boundary join",
            "",
            *[f"- {k.replace('_', ' ')}: {v}" for k, v in counts.items()],
            *[f"- note: {n}" for n in joined.notes],
            "",
            "### Matches to review (not the same spelling)",
            "",
            *_table(joined.matches[joined.matches["Review"]].drop(columns="Review")),
            "",
            "### Data wards without a boundary ward",
            "",
            *_table(joined.unmatched_data),
            "",
            "### Boundary wards without data",
            "",
            *_table(joined.unmatched_boundary),
            "",
            "### Boundary wards without a geometry (left off the map)",
            "",
            *_table(joined.null_geometry),
        ]
    return "\n".join(lines) + "\n"
