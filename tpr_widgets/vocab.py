"""The domain vocabulary: stages, choices, column roles and Nigeria's states.

Every other module spells these names the same way; a value from a source file
(a header, a state spelling) is turned into one of these at the ingest layer and
never appears past it.
"""

from __future__ import annotations

import re
from typing import Final

STAGES: Final = (
    "upload",
    "state",
    "facility_level",
    "age_group",
    "test_method",
    "period",
    "review",
    "results",
)
CHOICE_STAGES: Final = STAGES[1:-1]

AGE_GROUPS: Final = ("u5", "o5", "pw")
AGE_CHOICES: Final = ("u5", "o5", "pw", "all")
METHODS: Final = ("rdt", "microscopy")
METHOD_CHOICES: Final = ("rdt", "microscopy", "both")
KINDS: Final = ("tested", "positive")
FACILITY_LEVELS: Final = ("primary", "secondary", "tertiary")
LEVEL_CHOICES: Final = ("all", *FACILITY_LEVELS)
COMBINE_CHOICES: Final = ("sum", "max")
REVIEW_CHOICES: Final = ("keep", "add_outpatient")

AGE_LABELS: Final = {
    "u5": "Under 5",
    "o5": "5 and over (excluding pregnant women)",
    "pw": "Pregnant women",
    "all": "All ages (the three groups together)",
}
METHOD_LABELS: Final = {
    "rdt": "RDT",
    "microscopy": "Microscopy",
    "both": "Both (RDT and microscopy tests pooled)",
}
LEVEL_LABELS: Final = {
    "all": "All facilities",
    "primary": "Primary",
    "secondary": "Secondary",
    "tertiary": "Tertiary",
}


def count_role(method: str, kind: str, age: str) -> str:
    """The canonical name of one indicator column, e.g. `rdt_tested_u5`."""
    return f"{method}_{kind}_{age}"


COUNT_ROLES: Final = tuple(
    count_role(m, k, a) for m in METHODS for k in KINDS for a in AGE_GROUPS
)
GEO_ROLES: Final = ("state", "lga", "ward", "facility")
META_ROLES: Final = ("facility_level", "ownership", "period", "period_code")
EXTRA_ROLES: Final = ("outpatient", "general_attendance")
ALL_ROLES: Final = (*GEO_ROLES, *META_ROLES, *COUNT_ROLES, *EXTRA_ROLES)

# (code used in NMEP/DHIS2 prefixes, canonical name, geopolitical zone)
STATES: Final = (
    ("ab", "Abia", "South_East"),
    ("ad", "Adamawa", "North_East"),
    ("ak", "Akwa Ibom", "South_South"),
    ("an", "Anambra", "South_East"),
    ("ba", "Bauchi", "North_East"),
    ("by", "Bayelsa", "South_South"),
    ("be", "Benue", "North_Central"),
    ("bo", "Borno", "North_East"),
    ("cr", "Cross River", "South_South"),
    ("de", "Delta", "South_South"),
    ("eb", "Ebonyi", "South_East"),
    ("ed", "Edo", "South_South"),
    ("ek", "Ekiti", "South_West"),
    ("en", "Enugu", "South_East"),
    ("fc", "Federal Capital Territory", "North_Central"),
    ("go", "Gombe", "North_East"),
    ("im", "Imo", "South_East"),
    ("ji", "Jigawa", "North_West"),
    ("kd", "Kaduna", "North_West"),
    ("kn", "Kano", "North_West"),
    ("kt", "Katsina", "North_West"),
    ("ke", "Kebbi", "North_West"),
    ("ko", "Kogi", "North_Central"),
    ("kw", "Kwara", "North_Central"),
    ("la", "Lagos", "South_West"),
    ("na", "Nasarawa", "North_Central"),
    ("ni", "Niger", "North_Central"),
    ("og", "Ogun", "South_West"),
    ("on", "Ondo", "South_West"),
    ("os", "Osun", "South_West"),
    ("oy", "Oyo", "South_West"),
    ("pl", "Plateau", "North_Central"),
    ("ri", "Rivers", "South_South"),
    ("so", "Sokoto", "North_West"),
    ("ta", "Taraba", "North_East"),
    ("yo", "Yobe", "North_East"),
    ("za", "Zamfara", "North_West"),
)
STATE_CODES: Final = {name: code for code, name, _ in STATES}
STATE_ZONES: Final = {name: zone for _, name, zone in STATES}

_STATE_ALIASES: Final = {
    "fct": "Federal Capital Territory",
    "abuja": "Federal Capital Territory",
    "fct abuja": "Federal Capital Territory",
    "abuja fct": "Federal Capital Territory",
    "federal capital territory abuja": "Federal Capital Territory",
    "nassarawa": "Nasarawa",
}
_STATE_KEYS: Final = {name.lower(): name for _, name, _ in STATES} | _STATE_ALIASES
_PREFIX = re.compile(r"^(?P<code>[a-z]{2})\s+(?P<rest>.+)$", re.IGNORECASE)
_STATE_WORD = re.compile(r"\s+state$", re.IGNORECASE)


def canonical_state(value: object) -> str | None:
    """The canonical state name for a spelling found in a file or typed by a user.

    Accepts case and hyphen variants, a trailing `State`, the state's own
    two-letter code prefix (`kw Kwara State`) and known aliases (`FCT`,
    `Nassarawa`). Returns None when the value names no Nigerian state.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("-", " ").replace("_", " ").split())
    candidates = [text]
    match = _PREFIX.match(text)
    if match:
        candidates.insert(0, match["rest"])
    for candidate in candidates:
        key = _STATE_WORD.sub("", candidate).strip().lower()
        name = _STATE_KEYS.get(key)
        if name is None:
            continue
        # Only the prefix that is this state's own code is a prefix.
        own_code = match is None or match["code"].lower() == STATE_CODES[name]
        if candidate is not text and not own_code:
            continue
        return name
    return None
