"""Period labels to canonical keys: `YYYY-MM` for months, `YYYY` for years.

Labels are parsed explicitly (`January 2024`, `Jan-24` is not guessed), never by a
general date parser that would read a month-year label as a day of this year.
A period code (`202401`) wins over the label when both are present.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_YEAR = re.compile(r"^([a-z]+)\.?[\s\-]+(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[ t].*)?$")
_DIGITS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(?:\.0+)?$")


def _month(year: int, month: int) -> str | None:
    if 1900 <= year <= 2100 and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}"
    return None


def period_key(value: object) -> str | None:
    """`YYYY-MM` or `YYYY` for a period label or code, or None if unreadable."""
    if isinstance(value, dt.datetime | dt.date):
        return _month(value.year, value.month)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value != value or value != int(value):
            return None
        value = str(int(value))
    if not isinstance(value, str):
        return None
    text = " ".join(value.split()).lower()
    match = _DIGITS.match(text)
    if match:
        year = int(match[1])
        if match[2] is None:
            return f"{year:04d}" if 1900 <= year <= 2100 else None
        return _month(year, int(match[2]))
    match = _YEAR_MONTH.match(text)
    if match:
        return _month(int(match[1]), int(match[2]))
    match = _MONTH_YEAR.match(text)
    if match and match[1] in _MONTHS:
        return _month(int(match[2]), _MONTHS[match[1]])
    return None
