"""Assign a role to each column: by header, checked against the values.

The user's own mapping (`columns`, role -> header) wins over detection. Several
headers with one count role (the DHIS2 `X` / `X.1` copies, or the same role
spelled twice) are all kept and later summed; several headers for a name role
keep the first. Copies must share one header (`X`, or `X.1` beside `X`);
different headers that look like the same count are refused with a request to
choose one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from tpr_widgets.errors import InputError
from tpr_widgets.ingest.headers import (
    FEVER_ROLES,
    INGEST_ROLES,
    fold,
    role_of,
    split_duplicate,
)
from tpr_widgets.ingest.levels import level_of
from tpr_widgets.vocab import COUNT_ROLES, EXTRA_ROLES

# Roles whose copies (DHIS2 `X` and `X.1`) are merged; for the others the
# first column wins.
_SUMMED = frozenset((*COUNT_ROLES, *EXTRA_ROLES, *FEVER_ROLES))


@dataclass
class RoleMap:
    """Which body columns (by position) hold each role."""

    positions: dict[str, list[int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def first(self, role: str) -> int | None:
        found = self.positions.get(role)
        return found[0] if found else None

    def headers(self, headers: list[str]) -> dict[str, str]:
        return {role: headers[cols[0]] for role, cols in self.positions.items()}


def _looks_like_levels(values: pd.Series) -> bool:
    present = values.dropna().astype(str)
    if present.empty:
        return False
    distinct = present.unique()[:200]
    known = sum(1 for value in distinct if level_of(value) is not None)
    return known >= max(1, len(distinct) // 2)


def assign_roles(
    headers: list[str], body: pd.DataFrame, columns: Mapping[str, str] | None
) -> RoleMap:
    """Roles for the columns of one sheet."""
    result = RoleMap()
    given = dict(columns or {})
    for role, header in given.items():
        if role not in INGEST_ROLES:
            raise InputError(
                f"{role!r} is not a column role. Use one of: {', '.join(INGEST_ROLES)}."
            )
        matches = [i for i, h in enumerate(headers) if h == header] or [
            i for i, h in enumerate(headers) if fold(h) == fold(header)
        ]
        if not matches:
            raise InputError(
                f"The file has no column headed {header!r} (asked for as {role!r}). "
                f"Its columns are: {', '.join(repr(h) for h in headers if h)}."
            )
        result.positions[role] = matches[:1]
    taken = {i for cols in result.positions.values() for i in cols}

    for position, header in enumerate(headers):
        if position in taken or not header:
            continue
        found = role_of(header)
        if found is None or found in given:
            continue
        role = found
        if role == "facility_level" and not _looks_like_levels(body[position]):
            result.notes.append(
                f"Column {header!r} is named like a facility level but its values "
                "are not levels; it was not used as the facility level."
            )
            continue
        if role in result.positions and role not in _SUMMED:
            continue
        result.positions.setdefault(role, []).append(position)

    present = set(headers)
    for role, cols in result.positions.items():
        bases = {fold(split_duplicate(headers[i], present)[0]) for i in cols}
        if len(bases) > 1:
            names = ", ".join(repr(headers[i]) for i in cols)
            raise InputError(
                f"Several different columns ({names}) look like {role}. Choose "
                f"the one to use with --column {role}=HEADER or in the column "
                "panel."
            )
    return result
