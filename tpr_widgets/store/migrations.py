"""Manifest schema versions and the chain of migrations between them.

A manifest records the schema version it was written with. Reading one written
by an older version runs, in order, one small pure function per version step
(`MIGRATIONS[n]` turns a verified schema-n document into a schema-n+1 one),
after its signature has been checked against the fields it was signed with. The
next commit then writes the current schema. A manifest from a newer version is
refused before this module is reached (see `manifest.decode_manifest`).

To change the manifest layout: raise `SCHEMA_VERSION` in `base`, add the new
field set to `FIELDS`, add the step to `MIGRATIONS`, and test it with a
checkpoint of the old layout built in code.

History:

1. the first layout: schema, session id, revision, updated, state, data.
2. adds `created`, the time of the session's first commit (shown in the
   researcher's session list). A schema-1 manifest knows only its last commit
   time, so that is taken as its creation time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tpr_widgets.store.base import SCHEMA_VERSION

__all__ = ["FIELDS", "MIGRATIONS", "migrate", "v1_to_v2"]

Document = dict[str, Any]

_V1 = frozenset({"schema", "session_id", "revision", "updated", "state", "data"})

#: The fields (besides "mac") a manifest of each schema version has.
FIELDS: dict[int, frozenset[str]] = {1: _V1, 2: _V1 | {"created"}}


def v1_to_v2(doc: Document) -> Document:
    """Schema 1 -> 2: add `created`, taken from the last commit time."""
    return {**doc, "schema": 2, "created": doc["updated"]}


#: `MIGRATIONS[n]` turns a schema-n document into a schema-(n+1) one.
MIGRATIONS: dict[int, Callable[[Document], Document]] = {1: v1_to_v2}


def migrate(doc: Document) -> Document:
    """Return `doc` (verified, any known schema) migrated to `SCHEMA_VERSION`.

    `doc` itself is not changed. Raises `ValueError` for a schema with no
    migration path (a bug, since `FIELDS` and `MIGRATIONS` go together).
    """
    current = doc
    while current["schema"] < SCHEMA_VERSION:
        step = MIGRATIONS.get(current["schema"])
        if step is None:
            raise ValueError(f"no migration from schema {current['schema']}")
        following = step(current)
        if following["schema"] != current["schema"] + 1:
            raise ValueError(f"migration from schema {current['schema']} is broken")
        current = following
    return current
