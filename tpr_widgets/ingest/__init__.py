"""Ingest: uploaded exports in, the canonical facility-month table out.

`ingest(data, filename)` reads one file; `ingest_many(files)` reads several
files of one layout and merges them (see `pipeline`). The names are loaded on
first use so that the reader's child process (`sandbox`) can import this
package without pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tpr_widgets.ingest.pipeline import (
        Ingested,
        completeness,
        ingest,
        ingest_many,
    )

__all__ = ["Ingested", "completeness", "ingest", "ingest_many"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tpr_widgets.ingest import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'tpr_widgets.ingest' has no attribute {name!r}")
