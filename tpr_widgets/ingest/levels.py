"""Facility level labels to `primary`, `secondary` or `tertiary`."""

from __future__ import annotations

from typing import Final

_SYNONYMS: Final = {
    "primary": "primary",
    "primary health facility": "primary",
    "primary health care": "primary",
    "primary health centre": "primary",
    "phc": "primary",
    "secondary": "secondary",
    "secondary health facility": "secondary",
    "general hospital": "secondary",
    "tertiary": "tertiary",
    "tertiary health facility": "tertiary",
    "teaching hospital": "tertiary",
    "federal medical center": "tertiary",
    "federal medical centre": "tertiary",
}


def level_of(value: object) -> str | None:
    """The canonical level of a label, compared case-insensitively."""
    if not isinstance(value, str):
        return None
    return _SYNONYMS.get(" ".join(value.split()).lower())
