"""Settings with their defaults in one place.

Each setting can be given as an argument where it is used, else read from a
`TPR_WIDGETS_*` environment variable, else takes the default below. The README
lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tpr_widgets.errors import InputError

DEFAULT_MAX_UPLOAD_MB = 250
# The reader's child process: address space above its start, and CPU seconds.
DEFAULT_READ_MEMORY_MB = 3072
DEFAULT_READ_SECONDS = 300


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(
            f"The setting {name}={raw!r} is not a whole number; set it to a "
            f"number such as {default}, or unset it."
        ) from None
    if value <= 0:
        raise InputError(f"The setting {name}={raw!r} must be a positive number.")
    return value


@dataclass(frozen=True)
class Settings:
    """What can be configured, resolved from the environment."""

    max_upload_bytes: int
    output_root: Path
    read_memory_mb: int = DEFAULT_READ_MEMORY_MB
    read_seconds: int = DEFAULT_READ_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        mb = _int_env("TPR_WIDGETS_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)
        out = os.environ.get("TPR_WIDGETS_OUTPUTS") or "tpr_outputs"
        return cls(
            max_upload_bytes=mb * 1024 * 1024,
            output_root=Path(out),
            read_memory_mb=_int_env(
                "TPR_WIDGETS_READ_MEMORY_MB", DEFAULT_READ_MEMORY_MB
            ),
            read_seconds=_int_env("TPR_WIDGETS_READ_SECONDS", DEFAULT_READ_SECONDS),
        )
