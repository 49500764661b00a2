"""Session ids and refs are checked before they reach the filesystem."""

from __future__ import annotations

import builtins
import io
import os
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from tpr_widgets.errors import InputError
from tpr_widgets.store import FileStore, new_session_id, validate_session_id
from tpr_widgets.store import locking as locking_module
from tpr_widgets.store.ids import validate_ref

GOOD = "0123456789abcdef" * 2

BAD_IDS: list[object] = [
    "",
    "..",
    "../x",
    "../" + GOOD[:29],
    "a/b",
    GOOD[:16] + "/" + GOOD[17:],
    GOOD[:31] + "\x00",
    "\x00" * 32,
    GOOD[:31],
    GOOD + "0",
    GOOD + "\n",
    GOOD[:31] + "\n",
    GOOD.upper(),
    "g" * 32,
    " " + GOOD[1:],
    "٠" * 32,  # Arabic-Indic digits: "digits", but not 0-9
    "x" * 100_000,
    None,
    12345,
    GOOD.encode("ascii"),
    [GOOD],
    pathlib.Path(GOOD),
]


class Touched(BaseException):
    """Raised by any filesystem call; a BaseException so nothing swallows it."""


class ExplodingRoot:
    """A store root that raises on any use at all."""

    def __getattr__(self, name: str) -> Any:
        raise Touched(f"root.{name}")

    def __truediv__(self, other: object) -> Any:
        raise Touched("root / ...")

    def __fspath__(self) -> str:
        raise Touched("os.fspath(root)")


def _boom(name: str) -> Callable[..., Any]:
    def fail(*args: object, **kwargs: object) -> Any:
        raise Touched(name)

    return fail


@pytest.fixture
def sealed_store(store: FileStore, monkeypatch: pytest.MonkeyPatch) -> FileStore:
    """A store whose root and whose process filesystem calls all raise."""
    monkeypatch.setattr(store, "root", ExplodingRoot())
    for name in (
        "open",
        "stat",
        "lstat",
        "listdir",
        "scandir",
        "mkdir",
        "makedirs",
        "replace",
        "rename",
        "unlink",
        "utime",
    ):
        monkeypatch.setattr(os, name, _boom(f"os.{name}"))
    monkeypatch.setattr(builtins, "open", _boom("open"))
    monkeypatch.setattr(io, "open", _boom("io.open"))
    for name in ("exists", "is_dir", "is_file", "read_bytes", "mkdir", "stat"):
        monkeypatch.setattr(pathlib.Path, name, _boom(f"Path.{name}"))
    monkeypatch.setattr(locking_module, "FileLock", _boom("FileLock"))
    return store


def _calls(store: FileStore, bad: object) -> list[Callable[[], object]]:
    ref = "ab" * 32
    return [
        lambda: store.load(bad),  # type: ignore[arg-type]
        lambda: store.commit(bad, 0, {}, {}),  # type: ignore[arg-type]
        lambda: store.commit(bad, 3, {}, {}),  # type: ignore[arg-type]
        lambda: store.write_data(bad, "x"),  # type: ignore[arg-type]
        lambda: store.read_data(bad, ref),  # type: ignore[arg-type]
        lambda: store.delete(bad),  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize("bad", BAD_IDS, ids=lambda value: repr(value)[:20])
def test_bad_ids_are_refused_before_any_filesystem_access(
    sealed_store: FileStore, bad: object
) -> None:
    for call in _calls(sealed_store, bad):
        with pytest.raises(InputError) as error:
            call()
        message = str(error.value)
        assert len(message) < 300
        assert "x" * 20 not in message


def test_the_sealed_store_really_is_sealed(sealed_store: FileStore) -> None:
    """Control: a valid id does reach the filesystem and trips the seal."""
    with pytest.raises(Touched):
        sealed_store.load(GOOD)


def test_bad_ref_is_refused_before_any_filesystem_access(
    sealed_store: FileStore,
) -> None:
    for bad in ["../" + "a" * 61, "A" * 64, "a" * 63, "a" * 65, None, "a" * 64 + "\n"]:
        with pytest.raises(InputError):
            sealed_store.read_data(GOOD, bad)  # type: ignore[arg-type]


def test_messages_escape_and_shorten_the_bad_value() -> None:
    with pytest.raises(InputError) as error:
        validate_session_id("\x00\x1b[31m" + "z" * 500)
    message = str(error.value)

    assert "\x00" not in message and "\x1b" not in message
    assert "\\x00" in message and "more characters" in message
    assert "z" * 10 not in message

    with pytest.raises(InputError, match="must be text, but a int"):
        validate_session_id(7)


def test_valid_ids_pass_and_come_back_as_plain_str() -> None:
    class Sneaky(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    fresh = new_session_id()
    assert validate_session_id(fresh) == fresh
    checked = validate_session_id(Sneaky(GOOD))
    assert type(checked) is str and checked == GOOD
    assert validate_ref("0f" * 32) == "0f" * 32
    assert len({new_session_id() for _ in range(1000)}) == 1000
