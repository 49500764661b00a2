"""Small helpers shared by the store tests (paths into a store root)."""

from __future__ import annotations

from pathlib import Path


def session_dir(root: Path, session_id: str) -> Path:
    return root / "sessions" / session_id


def manifest_path(root: Path, session_id: str) -> Path:
    return session_dir(root, session_id) / "manifest.json"


def data_path(root: Path, session_id: str, ref: str) -> Path:
    return session_dir(root, session_id) / "data" / f"{ref}.pkl"
