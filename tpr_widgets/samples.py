"""The sample exports shipped inside the package, for "try the sample"."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

SAMPLES: Final = {
    "format_a": "nmep_sample_format_a.xlsx",
    "format_b": "dhis2_sample_format_b.xlsx",
}


def sample_path(name: str = "format_a") -> Path:
    """The path of a bundled sample (`format_a`: Adamawa, Kwara and Osun)."""
    if name not in SAMPLES:
        raise KeyError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    return Path(str(resources.files("tpr_widgets") / "data" / SAMPLES[name]))
