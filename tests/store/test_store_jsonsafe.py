"""State must be plain JSON: commit refuses the rest, to_jsonable converts it."""

from __future__ import annotations

import datetime as dt
import enum
import math
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _backends import Backend

from tpr_widgets.store.jsonsafe import check_plain_json, to_jsonable


class Stage(enum.StrEnum):
    AGE_GROUP = "age_group"


class Level(enum.IntEnum):
    PRIMARY = 1


def _types(value: Any) -> Any:
    """The value with every leaf replaced by its exact type, for comparison."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value)


RAW: dict[str, Any] = {
    "records": np.int64(340_000),
    "small": np.int8(-3),
    "unsigned": np.uint32(7),
    "share": np.float64(0.25),
    "single": np.float32(0.5),
    "flag": np.bool_(True),
    "name": np.str_("Kano"),
    "nan": float("nan"),
    "np_nan": np.float64("nan"),
    "inf": float("inf"),
    "neg_inf": -np.inf,
    "when": dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC),
    "naive": dt.datetime(2024, 3, 1, 12, 30),
    "day": dt.date(2024, 3, 1),
    "stamp": pd.Timestamp("2024-03-01 06:00"),
    "nat": pd.NaT,
    "na": pd.NA,
    "np_day": np.datetime64("2024-03-01"),
    "np_nat": np.datetime64("NaT"),
    "path": Path("uploads") / "kano.xlsx",
    "pure": PurePosixPath("/a/b"),
    "pair": (1, "two", (3.0, None)),
    "stage": Stage.AGE_GROUP,
    "level": Level.PRIMARY,
    "nested": {"deeper": [np.int64(1), {"x": np.float64(2.5)}]},
    Stage.AGE_GROUP: "enum key",
    "plain": {"int": 1, "float": 1.5, "str": "s", "bool": False, "none": None},
}

EXPECTED: dict[str, Any] = {
    "records": 340_000,
    "small": -3,
    "unsigned": 7,
    "share": 0.25,
    "single": 0.5,
    "flag": True,
    "name": "Kano",
    "nan": None,
    "np_nan": None,
    "inf": None,
    "neg_inf": None,
    "when": "2024-03-01T12:30:00+00:00",
    "naive": "2024-03-01T12:30:00",
    "day": "2024-03-01",
    "stamp": "2024-03-01T06:00:00",
    "nat": None,
    "na": None,
    "np_day": "2024-03-01",
    "np_nat": None,
    "path": str(Path("uploads") / "kano.xlsx"),
    "pure": "/a/b",
    "pair": [1, "two", [3.0, None]],
    "stage": "age_group",
    "level": 1,
    "nested": {"deeper": [1, {"x": 2.5}]},
    "age_group": "enum key",
    "plain": {"int": 1, "float": 1.5, "str": "s", "bool": False, "none": None},
}


def test_to_jsonable_converts_values_and_types() -> None:
    converted = to_jsonable(RAW)

    assert converted == EXPECTED
    assert _types(converted) == _types(EXPECTED)
    check_plain_json(converted)


def test_round_trip_through_the_store_keeps_values_and_types(
    backend: Backend, sid: str
) -> None:
    state = to_jsonable(RAW)
    committed = backend.store.commit(sid, 0, state, {})
    loaded = backend.open().load(sid).state

    for result in (committed.state, loaded):
        assert result == EXPECTED
        assert _types(result) == _types(EXPECTED)


def test_numbers_survive_exactly(backend: Backend, sid: str) -> None:
    numbers = {"neg_zero": -0.0, "tenth": 0.1, "big": 2**62, "tiny": 5e-324}
    backend.store.commit(sid, 0, to_jsonable(numbers), {})
    loaded = backend.open().load(sid)

    assert loaded.state == numbers
    assert math.copysign(1.0, loaded.state["neg_zero"]) == -1.0
    assert type(loaded.state["big"]) is int


@pytest.mark.parametrize(
    "bad",
    [
        {1, 2},
        frozenset(),
        b"bytes",
        np.array([1, 2]),
        pd.DataFrame({"a": [1]}),
        dt.timedelta(days=1),
        np.timedelta64(1, "D"),
        object(),
        {1: "int key"},
        {(1, 2): "tuple key"},
    ],
    ids=[
        "set",
        "frozenset",
        "bytes",
        "array",
        "frame",
        "td",
        "np-td",
        "obj",
        "int-key",
        "tuple-key",
    ],
)
def test_to_jsonable_refuses_what_has_no_json_form(bad: object) -> None:
    with pytest.raises(TypeError):
        to_jsonable({"summary": [bad]})


def test_to_jsonable_refuses_cycles() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="nested more than"):
        to_jsonable(loop)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (np.int64(3), "numpy.int64"),
        (np.float64(0.5), "numpy.float64"),
        (np.bool_(True), "numpy.bool"),
        (np.str_("Kano"), "numpy.str_"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (dt.datetime(2024, 1, 1), "datetime"),
        (dt.date(2024, 1, 1), "date"),
        (Path("x.csv"), "Path"),
        ({"a"}, "set"),
        ((1, 2), "tuple"),
        (Stage.AGE_GROUP, "Stage"),
        (Level.PRIMARY, "Level"),
        (b"x", "bytes"),
        ("lone \ud800 surrogate", "surrogate"),
    ],
    ids=lambda value: str(value)[:16],
)
def test_commit_refuses_state_that_is_not_plain_json(
    backend: Backend, sid: str, value: object, named: str
) -> None:
    with pytest.raises(TypeError, match=named) as error:
        backend.store.commit(sid, 0, {"summary": {"figures": [1, value]}}, {})

    assert "state['summary']['figures'][1]" in str(error.value) or (
        named == "surrogate"
    )
    assert backend.leftovers(sid) == []


def test_commit_refuses_non_text_keys_and_deep_nesting(
    backend: Backend, sid: str
) -> None:
    store = backend.store
    with pytest.raises(TypeError, match="key 3 of type int"):
        store.commit(sid, 0, {"counts": {3: "x"}}, {})
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["child"] = {}
        node = node["child"]
    with pytest.raises(TypeError, match="nested more than"):
        store.commit(sid, 0, deep, {})
    with pytest.raises(TypeError, match="must be an int"):
        store.commit(sid, True, {}, {})  # bool is not a revision
    assert backend.leftovers(sid) == []
