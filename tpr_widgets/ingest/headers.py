"""Header text to column roles.

A role is the product's name for what a column holds (`ward`, `rdt_tested_u5`,
`outpatient`, ...; see `tpr_widgets.vocab`). Headers are compared in a folded
form: mis-encoded `≥` repaired, `>=` read as `≥`, `&` read as `and`, white space
collapsed, case ignored. The age group is read from explicit markers only (`<5`,
`≥5`, `Preg Women`), so the under-5, 5-and-over and pregnant-women columns never
absorb each other, and "positive" is tested before "tested" because positive
headers contain both words.
"""

from __future__ import annotations

import re
from typing import Final

from tpr_widgets.vocab import AGE_GROUPS, ALL_ROLES, count_role

# Persons with fever (no test method in the header), per age group.
FEVER_ROLES: Final = tuple(f"fever_{age}" for age in AGE_GROUPS)
INGEST_ROLES: Final = (*ALL_ROLES, *FEVER_ROLES)

# Mis-encodings of ≥ and ≤ seen in real exports, longest first: UTF-8 bytes read
# as cp1252 once (`â‰¥`) or twice (`Ã¢â€°Â¥`).
_MOJIBAKE: Final = (
    ("Ã¢â€°Â¥", "≥"),
    ("Ã¢â€°Â¤", "≤"),
    ("â‰¥", "≥"),
    ("â‰¤", "≤"),
)
_DUPLICATE_SUFFIX = re.compile(r"\.(\d+)$")
# DHIS2 templates replace the substring "na" of a few known headers with "0".
_ZERO_ME: Final = {
    "period0me": "periodname",
    "organisationunit0me": "organisationunitname",
    "categoryoptioncomboid0me": "categoryoptioncomboname",
    "attributeoptioncomboid0me": "attributeoptioncomboname",
}


def repair_text(text: str) -> str:
    """Undo the known ≥ / ≤ mis-encodings in a header."""
    for bad, good in _MOJIBAKE:
        text = text.replace(bad, good)
    return text


def fold(header: object) -> str:
    """The comparison form of a header: repaired, lower-case, single-spaced."""
    text = repair_text(str(header)).lower()
    text = text.replace(">=", "≥").replace("&", " and ")
    text = " ".join(text.split())
    match = _DUPLICATE_SUFFIX.search(text)
    if match and text[: match.start()] in _ZERO_ME:  # `period0me.1`
        return _ZERO_ME[text[: match.start()]] + match[0]
    return _ZERO_ME.get(text, text)


def split_duplicate(header: str, headers: set[str]) -> tuple[str, int]:
    """(base header, copy number) for pandas-style `X.1` copies of an existing `X`."""
    match = _DUPLICATE_SUFFIX.search(header)
    if match and header[: match.start()] in headers:
        return header[: match.start()], int(match[1])
    return header, 0


_GEO_NAMES: Final = {
    "state": ("state", "orgunitlevel2", "state name", "statename"),
    "lga": ("lga", "orgunitlevel3", "lga name", "lganame", "local government area"),
    "ward": ("ward", "wardname", "ward name", "orgunitlevel4"),
    "facility": (
        "health faccility",
        "health facility",
        "healthfacility",
        "facility",
        "facility name",
        "orgunitlevel5",
        "organisationunitname",
    ),
    "facility_level": ("level", "facility level", "facilitylevel", "facility_level"),
    "ownership": ("ownership", "facility ownership"),
    "period": ("periodname", "period", "months", "month", "period name"),
    "period_code": ("periodcode", "period code", "periodid"),
}
_NAME_ROLES: Final = {
    name: role for role, names in _GEO_NAMES.items() for name in names
}


def _age(text: str) -> str | None:
    if "preg" in text and "excl pw" not in text:
        return "pw"
    if re.search(r"(≥|>)\s*5", text):
        return "o5"
    if re.search(r"(<|under)\s*5", text):
        return "u5"
    return None


def count_role_of(header: object) -> str | None:
    """The indicator role of a header (`rdt_positive_o5`, ...), or None."""
    text = fold(header)
    if "rdt" in text:
        method = "rdt"
    elif "microscopy" in text:
        method = "microscopy"
    else:
        return None
    if "rate" in text or "tpr" in text or "%" in text:
        return None  # a pre-computed ratio, never a count
    if "positive" in text:
        kind = "positive"
    elif "tested" in text:
        kind = "tested"
    else:
        return None
    age = _age(text)
    return count_role(method, kind, age) if age else None


def role_of(header: object) -> str | None:
    """The role a header names on its own, or None when it names none."""
    text = fold(header)
    role = _NAME_ROLES.get(text)
    if role is not None:
        return role
    if "outpatient" in text or "out-patient" in text or "out patient" in text:
        return "outpatient"
    if "general attendance" in text:
        return "general_attendance"
    found = count_role_of(header)
    if found is None and "fever" in text and "test" not in text:
        age = _age(text)
        return f"fever_{age}" if age else None
    return found
