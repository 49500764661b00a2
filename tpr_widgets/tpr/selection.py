"""What a ward table is computed for: the `Selection` and the rows it picks.

A selection names a state (or `all`), a facility level, an age group, a test
method (with `combine` for `both`), a period choice and whether impossible count
pairs are included. `selected` turns it into the positions of the canonical
table's rows; a filter that matches nothing is an error, never all rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.vocab import (
    AGE_CHOICES,
    AGE_GROUPS,
    COMBINE_CHOICES,
    LEVEL_CHOICES,
    METHOD_CHOICES,
    METHODS,
)

_PERIOD = re.compile(r"^(\d{4}(-\d{2})?)(:(\d{4}(-\d{2})?))?$")


@dataclass(frozen=True)
class Selection:
    """The choices that define one ward table."""

    state: str = "all"
    facility_level: str = "all"
    age_group: str = "u5"
    test_method: str = "both"
    combine: str = "sum"
    period: str = "all"
    include_impossible: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("facility_level", LEVEL_CHOICES),
            ("age_group", AGE_CHOICES),
            ("test_method", METHOD_CHOICES),
            ("combine", COMBINE_CHOICES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise InputError(
                    f"{value!r} is not a valid {name.replace('_', ' ')}; use one "
                    f"of {', '.join(allowed)}."
                )
        if self.combine == "max" and self.test_method != "both":
            raise InputError(
                "combine='max' (the legacy NMEP rule) applies only to the test "
                f"method 'both', not {self.test_method!r}; use combine='sum'."
            )
        if not isinstance(self.include_impossible, bool):
            raise InputError("include_impossible must be True or False.")
        check_period(self.period)

    @property
    def method_label(self) -> str:
        """`Test_Method` as written in the table (`both_max`: the legacy rule)."""
        if self.test_method == "both" and self.combine == "max":
            return "both_max"
        return self.test_method

    @property
    def ages(self) -> tuple[str, ...]:
        return AGE_GROUPS if self.age_group == "all" else (self.age_group,)

    @property
    def methods(self) -> tuple[str, ...]:
        return METHODS if self.test_method == "both" else (self.test_method,)


def check_period(spec: str) -> tuple[str, str] | None:
    """(first, last) bounds of a period choice, None for `all`."""
    if spec == "all":
        return None
    match = _PERIOD.match(spec) if isinstance(spec, str) else None
    if not match:
        raise InputError(
            f"{str(spec)[:40]!r} is not a period choice. Use 'all', a year (2024), "
            "a month (2024-03) or a range (2024-01:2024-06 or 2022:2024)."
        )
    first, last = match[1], match[4] or match[1]
    if len(first) != len(last) or first > last:
        raise InputError(
            f"The period range {spec!r} must run from an earlier to a later period "
            "written the same way (2024-01:2024-06 or 2022:2024)."
        )
    for bound in (first, last):
        if len(bound) == 7 and not 1 <= int(bound[5:]) <= 12:
            raise InputError(
                f"{bound!r} in the period choice {spec!r} is not a month; months "
                "run from 01 to 12."
            )
    return first, last


def period_mask(periods: pd.Series, spec: str) -> np.ndarray:
    """Which rows fall in the period choice (`periods`: the categorical column)."""
    bounds = check_period(spec)
    codes = periods.cat.codes.to_numpy()
    if bounds is None:
        return np.ones(len(periods), dtype=bool)
    first, last = bounds
    width = len(first)
    categories = pd.Index(periods.cat.categories.astype(str))
    cut = categories.str.slice(0, width)
    inside = np.asarray(
        (cut >= first) & (cut <= last) & (categories.str.len() >= width), dtype=bool
    )
    return np.append(inside, False)[codes]


def selected(table: pd.DataFrame, selection: Selection) -> np.ndarray:
    """Positions of the facility-month rows of a selection; an error if none."""
    mask = np.ones(len(table), dtype=bool)
    if selection.state != "all":
        mask &= (table["state"] == selection.state).to_numpy()
        if not mask.any():
            raise InputError(f"The file has no rows for the state {selection.state!r}.")
    if selection.facility_level != "all":
        level = (table["facility_level"] == selection.facility_level).to_numpy()
        if not (mask & level).any():
            raise InputError(
                f"No facilities of level {selection.facility_level!r} in this "
                "selection; choose another level or 'all'."
            )
        mask &= level
    if selection.period != "all":
        mask &= period_mask(table["period"], selection.period)
    if not mask.any():
        raise InputError(
            f"No rows fall in the period {selection.period!r} for this selection; "
            "choose another period."
        )
    return np.flatnonzero(mask)


def select_rows(table: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The facility-month rows of a selection, as a table."""
    return table.iloc[selected(table, selection)]
