"""Retention on both backends: sessions untouched for the period go, sessions in
use never do. (The file store's folder times and trash folders are tested in
`test_filestore_layout`; Redis TTLs in `test_redis_store`.)
"""

from __future__ import annotations

import time

import pytest
from _backends import Backend

from tpr_widgets.errors import InputError
from tpr_widgets.store import Store, new_session_id
from tpr_widgets.store.retention import retention_seconds

DAY = 86_400.0


def _saved(store: Store) -> str:
    sid = new_session_id()
    ref = store.write_data(sid, {"rows": [1, 2]})
    store.commit(sid, 0, {"stage": "state"}, {"table": ref})
    return sid


def _ids(store: Store) -> list[str]:
    return [info.session_id for info in store.sessions()]


def test_retention_period_from_argument_setting_and_default() -> None:
    assert retention_seconds(environ={}) == 30 * DAY
    assert retention_seconds(environ={"TPR_WIDGETS_RETENTION_DAYS": "7"}) == 7 * DAY
    assert retention_seconds(environ={"TPR_WIDGETS_RETENTION_DAYS": " "}) == 30 * DAY
    assert retention_seconds(0.5, environ={}) == DAY / 2


@pytest.mark.parametrize("raw", ["soon", "0", "-3", "nan", "inf"])
def test_bad_retention_setting_is_refused_by_name(raw: str) -> None:
    with pytest.raises(InputError) as error:
        retention_seconds(environ={"TPR_WIDGETS_RETENTION_DAYS": raw})
    assert f"TPR_WIDGETS_RETENTION_DAYS={raw!r}" in str(error.value)


def test_default_keeps_29_days_and_removes_31(backend: Backend) -> None:
    store = backend.store
    young, old = _saved(store), _saved(store)
    backend.age(young, 29 * DAY)
    backend.age(old, 31 * DAY)

    assert store.remove_expired() == [old]

    assert backend.leftovers(old) == []
    assert store.load(young).state == {"stage": "state"}
    assert _ids(store) == [young]


def test_the_setting_and_the_argument_change_the_period(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = backend.store
    kept, gone, hours, fresh = (_saved(store) for _ in range(4))
    backend.age(kept, 6 * DAY)
    backend.age(gone, 8 * DAY)
    backend.age(hours, 13 * 3600)

    monkeypatch.setenv("TPR_WIDGETS_RETENTION_DAYS", "7")
    assert store.remove_expired() == [gone]
    assert store.remove_expired(0.5) == sorted([kept, hours])
    assert _ids(store) == [fresh]


def test_remove_expired_counts_from_the_given_now(backend: Backend) -> None:
    store = backend.store
    sid = _saved(store)
    backend.age(sid, 10 * DAY)

    assert store.remove_expired(30, now=time.time() + 19 * DAY) == []
    assert store.remove_expired(30, now=time.time() + 21 * DAY) == [sid]


def test_loading_counts_as_a_touch(backend: Backend) -> None:
    store = backend.store
    sid = _saved(store)
    backend.age(sid, 40 * DAY)

    store.load(sid)  # the researcher reopens it

    assert store.remove_expired() == []
    assert store.load(sid).revision == 1


def test_a_commit_counts_as_a_touch(backend: Backend) -> None:
    store = backend.store
    sid = _saved(store)
    backend.age(sid, 40 * DAY)

    store.commit(sid, 1, {"stage": "period"}, store.load(sid).data)
    backend.age(sid, 40 * DAY)
    store.commit(sid, 2, {"stage": "age_group"}, {})

    assert store.remove_expired() == []
    assert store.load(sid).state == {"stage": "age_group"}


def test_a_session_whose_lock_is_held_is_never_removed(backend: Backend) -> None:
    store = backend.store
    busy, idle = _saved(store), _saved(store)
    backend.age(busy, 90 * DAY)
    backend.age(idle, 90 * DAY)

    with backend.hold_lock(busy):
        assert store.remove_expired() == [idle]
        assert backend.open().load(busy).revision == 1

    backend.age(busy, 90 * DAY)
    assert store.remove_expired() == [busy]  # once it is no longer in use
    assert backend.leftovers(busy) == backend.leftovers(idle) == []


def test_a_new_workflow_runs_the_cleanup(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tpr_widgets import workflow as workflow_module
    from tpr_widgets.workflow import Workflow

    store = backend.store
    old = _saved(store)
    backend.age(old, 31 * DAY)
    monkeypatch.setattr(workflow_module, "_last_expiry", {})

    fresh = Workflow.new(backend.location)

    assert backend.leftovers(old) == []
    assert _ids(store) == [fresh.session_id]
