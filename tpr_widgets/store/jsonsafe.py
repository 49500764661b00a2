"""Keeping the workflow state plain JSON.

The earlier system lost sessions to state that was not JSON: numpy `int64`
("Object of type int64 is not JSON serializable"), NaN written into JSON
("Unexpected token 'N'"), datetimes and dataclasses. Here the two halves of the
rule live side by side:

- `to_jsonable(obj)` is what the workflow calls before it commits: it converts
  numpy scalars to Python numbers, NaN and infinities to None, datetimes and
  dates to ISO-8601 strings, paths to strings, tuples to lists and enums to their
  values, recursively, and raises `TypeError` for anything else.
- `check_plain_json(obj)` is what `Store.commit` calls: it refuses (with
  `TypeError` naming the offending place, for example `state['summary'][2]`)
  anything that would not come back from JSON as the same value of the same type,
  instead of converting it silently.

`canonical_json(obj)` is the one byte form used for signing.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "canonical_json", "check_plain_json", "to_jsonable"]

#: Deeper nesting than this is refused; the workflow state is shallow.
MAX_DEPTH = 64

_HINT = "Convert it with tpr_widgets.store.jsonsafe.to_jsonable before committing."


def canonical_json(obj: object) -> bytes:
    """Return the canonical UTF-8 JSON of `obj` (sorted keys, no spaces, no NaN)."""
    text = json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


def _place(path: str) -> str:
    return path or "the value"


def check_plain_json(obj: object, path: str = "state") -> None:
    """Raise `TypeError` unless `obj` is plain JSON that round-trips exactly.

    Allowed: dict with str keys, list, str, int, finite float, bool and None, of
    exactly those types (a numpy float64 or a str enum is a subclass and is
    refused, because it would come back as a different type).
    """
    _check(obj, path, 0)


def _check(obj: object, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TypeError(
            f"{_place(path)} is nested more than {MAX_DEPTH} levels deep (or "
            "contains itself); keep the workflow state shallow."
        )
    kind = type(obj)
    if obj is None or kind is int or kind is bool:
        return
    if type(obj) is str:
        _check_text(obj, path)
        return
    if type(obj) is float:
        if not math.isfinite(obj):
            raise TypeError(
                f"{_place(path)} is {obj!r}, which JSON cannot hold. {_HINT} "
                "(it turns NaN and infinities into None)."
            )
        return
    if type(obj) is list:
        for index, item in enumerate(obj):
            _check(item, f"{path}[{index}]", depth + 1)
        return
    if type(obj) is dict:
        for key, value in obj.items():
            if type(key) is not str:
                raise TypeError(
                    f"{_place(path)} has the key {key!r} of type "
                    f"{type(key).__name__}; JSON keys must be plain text. "
                    "Use str keys."
                )
            _check_text(key, f"a key in {_place(path)}")
            _check(value, f"{path}[{key!r}]", depth + 1)
        return
    raise TypeError(
        f"{_place(path)} is a {kind.__module__}.{kind.__qualname__} ({obj!r:.60}), "
        f"which is not plain JSON. {_HINT}"
    )


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise TypeError(
            f"{_place(path)} contains a lone surrogate character and cannot be "
            "stored as UTF-8 text; clean the text first."
        ) from None


def to_jsonable(obj: Any) -> Any:
    """Return a plain-JSON copy of `obj`, converting the usual non-JSON values.

    numpy scalars become Python numbers, NaN, infinities, pandas NA and NaT become
    None, datetimes and dates become ISO-8601 strings, `os.PathLike` becomes str,
    tuples become lists and enums become their values, recursively. Anything else
    that is not JSON (sets, arrays, DataFrames, bytes, objects) raises `TypeError`:
    big data belongs in `Store.write_data`, not in the state.
    """
    return _convert(obj, "the value", 0)


def _convert(obj: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise TypeError(
            f"{path} is nested more than {MAX_DEPTH} levels deep (or contains "
            "itself); keep the workflow state shallow."
        )
    if obj is None or type(obj) in (str, int, bool):
        return obj
    if isinstance(obj, enum.Enum):
        return _convert(obj.value, path, depth + 1)
    if isinstance(obj, float):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, str):
        return str.__str__(obj)
    if _is_missing(obj):
        return None
    if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if type(obj).__module__ == "numpy" and hasattr(obj, "dtype"):
        return _convert_numpy(obj, path, depth)
    if isinstance(obj, Mapping):
        return {
            _convert_key(key, path): _convert(value, f"{path}[{key!r}]", depth + 1)
            for key, value in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [
            _convert(item, f"{path}[{index}]", depth + 1)
            for index, item in enumerate(obj)
        ]
    raise TypeError(
        f"{path} is a {type(obj).__module__}.{type(obj).__qualname__} "
        f"({obj!r:.60}), which has no JSON form. Store big data with write_data, "
        "and turn other values into text, numbers, lists or dicts first."
    )


def _is_missing(obj: object) -> bool:
    """True for pandas NA / NaT (checked by type name, so pandas is not imported)."""
    return type(obj).__name__ in ("NAType", "NaTType")


def _convert_key(key: object, path: str) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, str):
        return str.__str__(key)
    raise TypeError(
        f"{path} has the key {key!r} of type {type(key).__name__}; JSON keys must "
        "be text. Convert the keys to str yourself, so the change is deliberate."
    )


def _convert_numpy(obj: Any, path: str, depth: int) -> Any:
    """numpy scalars -> Python values; arrays are refused (they are data)."""
    import numpy as np

    if not isinstance(obj, np.generic):
        raise TypeError(
            f"{path} is a numpy array of shape {getattr(obj, 'shape', '?')}; "
            "store arrays with write_data, not in the state."
        )
    if isinstance(obj, np.datetime64):
        if np.isnat(obj):
            return None
        return str(np.datetime_as_string(obj))
    if isinstance(obj, np.timedelta64):
        raise TypeError(
            f"{path} is a numpy timedelta64; convert it to a number of seconds "
            "or days first."
        )
    return _convert(obj.item(), path, depth + 1)
