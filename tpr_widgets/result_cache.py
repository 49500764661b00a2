"""Keys and bookkeeping for cached results in a session's checkpoint.

A result (every table of one selection) is a pure function of the data, the
choices, the counting options and the package version, so it can be kept and
reused: the workflow writes it once with the store's `write_data` (signed, and
verified when read back) and names it in the checkpoint's `data` mapping under
`result:<key>`. Going back and returning to a combination seen before then
costs a verified read instead of a computation, in any process.

The mapping is reset on a new upload, which drops every cached result; at most
`LIMIT` results are kept per session, the least recently used going first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tpr_widgets._version import __version__

LIMIT: Final = 12
PREFIX: Final = "result:"
#: Raised when the shape of the cached tables changes, so old entries miss.
LAYOUT: Final = 1


def result_key(fingerprint: str, selections: Mapping[str, Any]) -> str:
    """SHA-256 of (data fingerprint, choices and options, package version)."""
    payload = {
        "data": fingerprint,
        "selections": {k: selections[k] for k in sorted(selections)},
        "version": __version__,
        "layout": LAYOUT,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def remember(
    data: Mapping[str, str], order: Sequence[str], key: str, ref: str
) -> tuple[dict[str, str], list[str]]:
    """The data mapping and use order with `key` added (or refreshed), bounded."""
    order = [k for k in order if k != key and PREFIX + k in data] + [key]
    dropped, order = order[:-LIMIT], order[-LIMIT:]
    gone = {PREFIX + k for k in dropped}
    mapping = {k: v for k, v in data.items() if k not in gone}
    mapping[PREFIX + key] = ref
    return mapping, order
