"""Sessions: CRUD, ordering, filters, counts, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from vmsystem.store import (
    ForeignKeyViolation,
    InsertEvents,
    InsertExecution,
    SessionStatus,
    Store,
    StoreError,
    Template,
    UniqueViolation,
)

from . import factories as f


@pytest.fixture
def template(store: Store) -> Template:
    t = f.template()
    store.insert_template(t)
    return t


def test_insert_then_get_round_trips_a_session(store: Store, template: Template) -> None:
    s = f.session(template.id, last_error="boom", closed_at=f.at(9), status=SessionStatus.CLOSED)
    store.insert_session(s)
    assert store.get_session(s.id) == s


@pytest.mark.parametrize("idle", [None, 0.0, 2.5, 3600.0])
def test_a_sessions_idle_timeout_round_trips(
    store: Store, template: Template, idle: float | None
) -> None:
    s = f.session(template.id, idle_timeout_s=idle)
    store.insert_session(s)
    assert store.get_session(s.id) == s


def test_get_session_of_an_unknown_id_is_none(store: Store) -> None:
    assert store.get_session(f.new_id()) is None


def test_session_of_an_unknown_template_is_a_foreign_key_violation(store: Store) -> None:
    with pytest.raises(ForeignKeyViolation):
        store.insert_session(f.session(f.new_id()))


def test_duplicate_session_id_is_a_unique_violation(store: Store, template: Template) -> None:
    s = f.session(template.id)
    store.insert_session(s)
    with pytest.raises(UniqueViolation) as info:
        store.insert_session(f.session(template.id, id=s.id))
    assert info.value.constraint == "session_id"


def test_list_sessions_is_newest_first(store: Store, template: Template) -> None:
    made = [f.session(template.id, created=c) for c in (3, 1, 2)]
    for s in made:
        store.insert_session(s)
    assert [s.created_at for s in store.list_sessions()] == [f.at(3), f.at(2), f.at(1)]


def test_list_sessions_breaks_created_at_ties_by_id(store: Store, template: Template) -> None:
    made = [f.session(template.id, created=1) for _ in range(6)]
    for s in made:
        store.insert_session(s)
    assert [s.id for s in store.list_sessions()] == sorted((s.id for s in made), reverse=True)


def test_list_sessions_filters_by_status_template_and_limit(store: Store) -> None:
    a, b = f.template("a"), f.template("b")
    store.insert_template(a)
    store.insert_template(b)
    ready_a = [f.session(a.id, created=i) for i in range(3)]
    closed_a = f.session(a.id, status=SessionStatus.CLOSED, created=10)
    ready_b = f.session(b.id, created=20)
    for s in (*ready_a, closed_a, ready_b):
        store.insert_session(s)
    assert [s.id for s in store.list_sessions(status="ready", template_id=a.id)] == [
        s.id for s in reversed(ready_a)
    ]
    assert [s.id for s in store.list_sessions(status=SessionStatus.CLOSED)] == [closed_a.id]
    assert [s.id for s in store.list_sessions(template_id=b.id)] == [ready_b.id]
    assert [s.id for s in store.list_sessions(limit=2)] == [ready_b.id, closed_a.id]
    assert store.list_sessions(status="crashed") == []


def test_update_session_changes_only_given_fields(store: Store, template: Template) -> None:
    s = f.session(template.id, status=SessionStatus.STARTING)
    store.insert_session(s)
    store.update_session(s.id, status=SessionStatus.READY)
    after_ready = store.get_session(s.id)
    assert after_ready is not None
    assert after_ready.status is SessionStatus.READY
    assert (after_ready.closed_at, after_ready.last_error) == (None, None)
    store.update_session(
        s.id,
        status=SessionStatus.CRASHED,
        last_error="runtime lost",
        last_activity_at=f.at(30),
    )
    store.update_session(s.id, status=SessionStatus.CLOSED, closed_at=f.at(40))
    loaded = store.get_session(s.id)
    assert loaded is not None
    assert loaded.status is SessionStatus.CLOSED
    assert loaded.last_error == "runtime lost"
    assert (loaded.last_activity_at, loaded.closed_at) == (f.at(30), f.at(40))
    assert (loaded.created_at, loaded.template_snapshot) == (s.created_at, s.template_snapshot)


def test_update_of_an_unknown_session_is_a_no_op(store: Store) -> None:
    store.update_session(f.new_id(), status=SessionStatus.CLOSED)
    assert store.list_sessions() == []


def test_count_sessions_counts_the_given_statuses_of_one_template(store: Store) -> None:
    a, b = f.template("a"), f.template("b")
    store.insert_template(a)
    store.insert_template(b)
    for status in ("starting", "ready", "ready", "crashed", "closed"):
        store.insert_session(f.session(a.id, status=SessionStatus(status)))
    store.insert_session(f.session(b.id))
    live = [SessionStatus.STARTING, SessionStatus.READY]
    assert store.count_sessions(a.id, live) == 3
    assert store.count_sessions(a.id, [SessionStatus.CLOSED]) == 1
    assert store.count_sessions(b.id, live) == 1
    assert store.count_sessions(a.id, []) == 0
    assert store.count_sessions(f.new_id(), live) == 0


def test_timestamps_round_trip_with_microseconds_as_aware_utc(
    store: Store, template: Template
) -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    s = f.session(template.id, created_at=created, last_activity_at=created + timedelta(0, 0, 1))
    store.insert_session(s)
    loaded = store.get_session(s.id)
    assert loaded is not None
    assert loaded.created_at == created and loaded.created_at.microsecond == 678901
    assert loaded.last_activity_at - loaded.created_at == timedelta(microseconds=1)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_timestamps_in_other_zones_come_back_as_the_same_instant_in_utc(
    store: Store, template: Template
) -> None:
    plus_two = datetime(2026, 1, 2, 12, 0, 0, 1000, tzinfo=timezone(timedelta(hours=2)))
    s = f.session(template.id, created_at=plus_two)
    store.insert_session(s)
    loaded = store.get_session(s.id)
    assert loaded is not None
    assert loaded.created_at == plus_two
    assert loaded.created_at.tzinfo == UTC
    assert loaded.created_at.hour == 10


def test_naive_timestamps_are_refused(store: Store, template: Template) -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)
    with pytest.raises(StoreError, match="naive"):
        store.insert_session(f.session(template.id, created_at=naive))
    assert store.list_sessions() == []


def test_delete_session_removes_it_with_its_executions_and_events(
    store: Store, template: Template
) -> None:
    gone, kept = f.session(template.id), f.session(template.id)
    store.insert_session(gone)
    store.insert_session(kept)
    e, other = f.execution(gone.id), f.execution(kept.id)
    for op in (
        InsertExecution(e),
        InsertExecution(other),
        InsertEvents([f.event(e.id, 1), f.event(e.id, 2), f.event(other.id, 1)]),
    ):
        store.submit(op)
    store.flush()

    assert store.delete_session(gone.id) is True

    assert store.get_session(gone.id) is None
    assert store.get_execution(e.id) is None
    assert store.list_events(e.id) == []
    assert store.get_session(kept.id) == kept
    assert store.get_execution(other.id) is not None
    assert len(store.list_events(other.id)) == 1


def test_delete_session_of_an_unknown_id_is_false(store: Store) -> None:
    assert store.delete_session(f.new_id()) is False
