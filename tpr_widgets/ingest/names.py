"""Clean state, LGA and ward names as NMEP / DHIS2 exports write them.

`kw Ilorin East Local Government Area` becomes `Ilorin East`, `ad Ribadu Ward
(Mayo-Belwa)` becomes `Ribadu (Mayo-Belwa)` (the tag is an LGA disambiguator and
is dropped only when it names the row's own LGA, see `clean_ward`). Only the
prefix that is the row's own state code is stripped, never any two letters, so a
genuine two-letter first word survives. Functions work on single values; the
ingest layer applies them to each distinct value once.
"""

from __future__ import annotations

import re
from typing import Final

_LGA_SUFFIX: Final = re.compile(
    r"\s+(local\s+government\s+area|local\s+govt\.?\s+area|l\.g\.a\.?|lga)\s*$",
    re.IGNORECASE,
)
_WARD_WORD: Final = re.compile(r"\bward\b", re.IGNORECASE)
_TAG: Final = re.compile(r"^(?P<name>.*?)\s*\((?P<tag>[^()]*)\)\s*$")
_MISSING: Final = frozenset({"", "unknown", "nan", "none", "null", "n/a", "-"})


def _spaces(text: str) -> str:
    return " ".join(text.split())


def strip_code(value: str, code: str | None) -> str:
    """Remove a leading `<code> ` (or code-number `ad1501 `) prefix when it is
    the row's own state code."""
    text = _spaces(value)
    if not code or len(text) <= 3 or text[:2].lower() != code:
        return text
    rest = text[2:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    if rest[digits : digits + 1] == " " and len(rest) > digits + 1:
        return rest[digits + 1 :].lstrip()
    return text


def is_missing(value: object) -> bool:
    """True for empty cells and the placeholders exports use for "no ward"."""
    if not isinstance(value, str):
        return True
    return _spaces(value).lower() in _MISSING


def clean_lga(value: str, code: str | None) -> str:
    """`kw Ilorin East Local Government Area` -> `Ilorin East`."""
    return _LGA_SUFFIX.sub("", strip_code(value, code)).strip()


def _fold_lga(text: str) -> str:
    return _LGA_SUFFIX.sub("", _spaces(text.replace("-", " "))).lower()


def clean_ward(value: str, code: str | None, lga: str | None) -> str:
    """`ad Ribadu Ward (Mayo-Belwa)` -> `Ribadu`, when the row's LGA is Mayo-Belwa.

    The word `Ward` goes wherever it stands (`Arochukwu Ward 4`, `Oza-Ukwu Ward
    II`). A parenthesised tag is kept unless it names the row's own LGA, so
    duplicate ward names in different LGAs stay distinct.
    """
    text = strip_code(value, code)
    match = _TAG.match(text)
    tag = None
    if match:
        text, tag = match["name"], _spaces(match["tag"])
    text = _spaces(_WARD_WORD.sub(" ", text))
    if not text:
        return ""  # nothing but "Ward": no ward name at all
    if tag and not (lga and _fold_lga(tag) == _fold_lga(lga)):
        text = f"{text} ({tag})"
    return text
