"""The options each stage offers, with the figures that help choose.

Pure functions of the canonical table and the choices made so far, so the
workflow can ask "how many options would the next stage have" without changing
anything. Recommendations follow the programme's reasoning: the state with most
tests; Primary facilities when they hold most records (closest to community
transmission); under-5s when they have data (highest risk of severe malaria,
chosen by epidemiological priority rather than completeness); both methods
pooled; all periods; keep TPR as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest.periods import period_key
from tpr_widgets.tpr import HIGH_TPR, Selection, check_period, period_mask
from tpr_widgets.vocab import (
    AGE_CHOICES,
    AGE_GROUPS,
    AGE_LABELS,
    FACILITY_LEVELS,
    LEVEL_LABELS,
    METHOD_CHOICES,
    METHOD_LABELS,
    METHODS,
    count_role,
)

PRIMARY_SHARE: Final = 0.70
LITTLE_DATA: Final = 0.20
FEW_REPORTING: Final = 5


@dataclass(frozen=True)
class Option:
    """One choice of a stage, as the UI shows it."""

    value: str
    label: str
    recommended: bool = False
    figures: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _tests(
    rows: pd.DataFrame, methods: tuple[str, ...], ages: tuple[str, ...]
) -> dict[str, Any]:
    tested = positive = 0.0
    for method in methods:
        for age in ages:
            t = rows[count_role(method, "tested", age)].fillna(0.0).to_numpy()
            p = rows[count_role(method, "positive", age)].fillna(0.0).to_numpy()
            ok = p <= t
            tested += float(t[ok].sum())
            positive += float(p[ok].sum())
    rate = round(100.0 * positive / tested, 2) if tested else None
    return {"tests": int(tested), "positive": int(positive), "positivity": rate}


def _completeness(rows: pd.DataFrame, method: str, ages: tuple[str, ...]) -> float:
    if rows.empty:
        return 0.0
    present = np.zeros(len(rows), dtype=bool)
    for age in ages:
        present |= rows[count_role(method, "tested", age)].notna().to_numpy()
    return round(float(present.mean()), 4)


def _facilities(rows: pd.DataFrame) -> int:
    return int(rows[["state", "lga", "ward", "facility"]].drop_duplicates().shape[0])


def _ages(age_group: str) -> tuple[str, ...]:
    return AGE_GROUPS if age_group == "all" else (age_group,)


def _methods(test_method: str) -> tuple[str, ...]:
    return METHODS if test_method == "both" else (test_method,)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def rows_for(table: pd.DataFrame, selections: dict[str, Any]) -> pd.DataFrame:
    """The rows matching the choices made so far (state, level, period)."""
    mask = np.ones(len(table), dtype=bool)
    state = selections.get("state", "all")
    if state != "all":
        mask &= (table["state"] == state).to_numpy()
    level = selections.get("facility_level", "all")
    if level != "all":
        mask &= (table["facility_level"] == level).to_numpy()
    period = selections.get("period", "all")
    if period != "all":
        mask &= period_mask(table["period"], period)
    return table.loc[mask]


def state_options(table: pd.DataFrame, selections: dict[str, Any]) -> list[Option]:
    options = []
    for name, rows in table.groupby("state", observed=True, sort=True):
        figures = {
            "records": len(rows),
            "facilities": _facilities(rows),
            "lgas": int(rows["lga"].nunique()),
            "wards": int(rows[["lga", "ward"]].drop_duplicates().shape[0]),
            **_tests(rows, METHODS, AGE_GROUPS),
            "completeness": _completeness(rows, "rdt", AGE_GROUPS),
        }
        options.append(Option(str(name), str(name), figures=figures))
    if len(options) > 1:
        best = max(options, key=lambda o: o.figures["tests"])
        options = [
            Option(
                o.value,
                o.label,
                o is best,
                o.figures,
                "most tests" if o is best else "",
            )
            for o in options
        ]
        everything = {
            "records": len(table),
            "facilities": _facilities(table),
            **_tests(table, METHODS, AGE_GROUPS),
        }
        options.append(Option("all", "All states (national view)", figures=everything))
    return options


def level_options(table: pd.DataFrame, selections: dict[str, Any]) -> list[Option]:
    rows = rows_for(table, {"state": selections.get("state", "all")})
    levels = rows["facility_level"]
    if levels.isna().all():
        return [
            Option(
                "all",
                LEVEL_LABELS["all"],
                True,
                {"records": len(rows), "facilities": _facilities(rows)},
                "the file has no facility level column",
            )
        ]
    keys = ["state", "lga", "ward", "facility"]
    labelled = rows.dropna(subset=["facility_level"])
    # One level per facility for counting: its most frequent label.
    per_facility = (
        labelled.groupby(keys, observed=True)["facility_level"]
        .agg(lambda s: s.value_counts().index[0])
        .value_counts()
    )
    total = len(rows)
    options = []
    primary_share = float((levels == "primary").sum()) / max(1, total)
    for level in FACILITY_LEVELS:
        level_rows = rows[levels == level]
        if level_rows.empty:
            continue
        share = len(level_rows) / max(1, total)
        figures = {
            "records": len(level_rows),
            "share_of_records": round(share, 4),
            "facilities": int(per_facility.get(level, 0)),
            **_tests(level_rows, METHODS, AGE_GROUPS),
        }
        recommended = level == "primary" and primary_share >= PRIMARY_SHARE
        note = "few records" if share < 0.05 else ""
        if figures["tests"] == 0:
            note = "no tests recorded"
        if recommended:
            note = _join(
                f"recommended: {100 * share:.0f} % of records, closest to "
                "community transmission",
                note,
            )
        options.append(Option(level, LEVEL_LABELS[level], recommended, figures, note))
    everything = {
        "records": total,
        "facilities": _facilities(rows),
        **_tests(rows, METHODS, AGE_GROUPS),
    }
    all_note = (
        f"recommended: primary facilities hold only {100 * primary_share:.0f} % of "
        "records"
        if primary_share < PRIMARY_SHARE
        else ""
    )
    options.append(
        Option(
            "all",
            LEVEL_LABELS["all"],
            primary_share < PRIMARY_SHARE,
            everything,
            all_note,
        )
    )
    return options


def age_options(table: pd.DataFrame, selections: dict[str, Any]) -> list[Option]:
    rows = rows_for(table, selections)
    options = []
    for age in AGE_CHOICES:
        ages = _ages(age)
        figures: dict[str, Any] = {"records": len(rows)}
        for method in METHODS:
            counts = _tests(rows, (method,), ages)
            figures[f"{method}_completeness"] = _completeness(rows, method, ages)
            figures[f"{method}_tests"] = counts["tests"]
            figures[f"{method}_positivity"] = counts["positivity"]
        figures.update(_tests(rows, METHODS, ages))
        note = ""
        completeness = max(figures[f"{m}_completeness"] for m in METHODS)
        figures["completeness"] = completeness
        if figures["tests"] == 0:
            note = "no tests recorded"
        elif completeness < LITTLE_DATA:
            note = f"little data: tested counts in {100 * completeness:.0f} % of rows"
        options.append(Option(age, AGE_LABELS[age], figures=figures, note=note))
    with_data = [o for o in options if o.figures["tests"] > 0 and o.value != "all"]
    pick = next((o for o in with_data if o.value == "u5"), None) or next(
        iter(with_data), None
    )
    reason = "recommended: under-5s carry the highest risk of severe malaria"
    return [
        Option(
            o.value,
            o.label,
            o is pick,
            o.figures,
            _join(reason, o.note) if o is pick and o.value == "u5" else o.note,
        )
        for o in options
    ]


def method_options(table: pd.DataFrame, selections: dict[str, Any]) -> list[Option]:
    rows = rows_for(table, selections)
    ages = _ages(selections.get("age_group", "all"))
    options = []
    for method in METHOD_CHOICES:
        methods = _methods(method)
        figures = {
            **_tests(rows, methods, ages),
            "completeness": max(_completeness(rows, m, ages) for m in methods),
        }
        note = "no tests recorded" if figures["tests"] == 0 else ""
        if not note and figures["completeness"] < LITTLE_DATA:
            note = (
                f"little data: tested counts in {100 * figures['completeness']:.0f} "
                "% of rows"
            )
        if method == "both":
            note = _join("recommended: every test event counts, once", note)
        options.append(
            Option(method, METHOD_LABELS[method], method == "both", figures, note)
        )
    return options


def period_options(table: pd.DataFrame, selections: dict[str, Any]) -> list[Option]:
    rows = rows_for(table, selections)
    ages = _ages(selections.get("age_group", "all"))
    methods = _methods(selections.get("test_method", "both"))
    periods = [str(p) for p in rows["period"].dropna().unique()]
    periods.sort()
    first, last = (periods[0], periods[-1]) if periods else ("", "")
    label = f"All periods ({first} to {last})" if first != last else f"All ({first})"
    if len({p[:4] for p in periods}) > 1:
        label += ", with a trend per ward"
    options = [
        Option(
            "all",
            label,
            True,
            {
                "records": len(rows),
                "periods": len(periods),
                **_tests(rows, methods, ages),
            },
        )
    ]
    years = sorted({p[:4] for p in periods if p != "all"})
    if len(periods) > 1:
        for year in years:
            year_rows = rows[period_mask(rows["period"], year)]
            months = len({p for p in periods if p.startswith(year) and len(p) == 7})
            figures = {
                "records": len(year_rows),
                "periods": max(months, 1),
                **_tests(year_rows, methods, ages),
            }
            note = f"{months} months only" if 0 < months < 12 else ""
            if figures["tests"] == 0:
                note = "no tests recorded"
            options.append(Option(year, f"Year {year}", figures=figures, note=note))
            if months > 1:
                options += _half_years(rows, periods, year, methods, ages)
    return options


_HALVES: Final = (("01", "06", "January to June"), ("07", "12", "July to December"))


def _half_years(
    rows: pd.DataFrame,
    periods: list[str],
    year: str,
    methods: tuple[str, ...],
    ages: tuple[str, ...],
) -> list[Option]:
    """The two half-years of a year of monthly data, as period ranges."""
    options = []
    for first, last, words in _HALVES:
        spec = f"{year}-{first}:{year}-{last}"
        months = [p for p in periods if f"{year}-{first}" <= p <= f"{year}-{last}"]
        if not months or len(months) == len([p for p in periods if p[:4] == year]):
            continue  # no rows, or the half is the whole year already offered
        half = rows[period_mask(rows["period"], spec)]
        figures = {
            "records": len(half),
            "periods": len(months),
            **_tests(half, methods, ages),
        }
        note = "no tests recorded" if figures["tests"] == 0 else ""
        options.append(Option(spec, f"{words} {year}", figures=figures, note=note))
    return options


def review_options(table: pd.DataFrame, ward: pd.DataFrame) -> list[Option]:
    """Keep TPR as computed, or also add the outpatient indicator (never instead)."""
    high = ward[ward["TPR"] > HIGH_TPR]
    figures = {
        "wards": len(ward),
        "wards_above_50": len(high),
        "wards_above_90": int((ward["TPR"] > 90).sum()),
        "high_wards_under_5_reporting": int(
            (high["Facilities_Reporting"] < FEW_REPORTING).sum()
        ),
    }
    options = [Option("keep", "Keep TPR as computed", True, figures)]
    if "outpatient" in table.columns and table["outpatient"].notna().any():
        with_opd = int((ward["Outpatient_Attendance"] > 0).sum())
        options.append(
            Option(
                "add_outpatient",
                "Also add positives per 100 outpatient attendances",
                figures={**figures, "wards_with_outpatient_data": with_opd},
                note="a separate indicator beside TPR; TPR is not changed",
            )
        )
    return options


def validate_period(
    table: pd.DataFrame, selections: dict[str, Any], value: str
) -> None:
    """Refuse a period choice that is malformed or matches no rows."""
    check_period(value)
    rows = rows_for(table, {**selections, "period": value})
    if rows.empty:
        raise InputError(
            f"No rows fall in the period {value!r} for this selection; choose one "
            "of the periods offered."
        )


def selection_of(selections: dict[str, Any]) -> Selection:
    """The engine's `Selection` for a complete set of choices."""
    return Selection(
        state=selections.get("state", "all"),
        facility_level=selections.get("facility_level", "all"),
        age_group=selections.get("age_group", "u5"),
        test_method=selections.get("test_method", "both"),
        combine=selections.get("combine", "sum"),
        period=selections.get("period", "all"),
        include_impossible=bool(selections.get("include_impossible", False)),
    )


def normalise_period(spec: str) -> str:
    """A period choice with each bound in canonical form (`202401` -> `2024-01`).

    Bounds that cannot be read are left as typed, for `check_period` to refuse
    with its message.
    """
    if not isinstance(spec, str) or spec == "all":
        return spec
    parts = spec.split(":")
    if len(parts) > 2:
        return spec
    keys = [period_key(part.strip()) or part.strip() for part in parts]
    return ":".join(keys)


def quality_notes(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Sentences for the run's quality facts a user must not miss."""
    frame = tables["quality"]
    quality = dict(zip(frame["Measure"], frame["Value"], strict=True))
    notes = []
    pairs = int(quality.get("Pairs with positive > tested", 0))
    if pairs:
        how = quality.get("Pairs with positive > tested are", "")
        notes.append(
            f"{pairs} count pair(s) had more positives than tests and were {how} "
            "(flag POS_GT_TESTED)."
        )
    for measure in ("Wards with no data", "Wards with no tests"):
        count = int(quality.get(measure, 0))
        if count:
            notes.append(f"{measure.lower()}: {count} (their TPR is empty).")
    return notes
