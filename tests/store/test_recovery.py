"""Restart recovery: live sessions closed, running executions finished with a system event."""

from __future__ import annotations

import pytest

from vmsystem.store import (
    EventType,
    ExecutionStatus,
    InsertEvents,
    InsertExecution,
    SessionStatus,
    Store,
    StoreError,
    Template,
)

from . import factories as f

NOW = f.at(3600)
MESSAGE = "daemon restarted: runtime state does not survive process restarts"
ERROR = {"code": "DAEMON_RESTARTED", "message": "daemon restarted"}
PAYLOAD = {"level": "error", "code": "DAEMON_RESTARTED", "message": "daemon restarted"}


def recover(store: Store) -> tuple[int, int]:
    return store.recover(
        now=NOW, session_message=MESSAGE, execution_error=ERROR, system_event_payload=PAYLOAD
    )


@pytest.fixture
def template(store: Store) -> Template:
    t = f.template()
    store.insert_template(t)
    return t


def test_starting_and_ready_sessions_are_closed_with_the_message(
    store: Store, template: Template
) -> None:
    starting = f.session(template.id, status=SessionStatus.STARTING)
    ready = f.session(template.id, status=SessionStatus.READY)
    for s in (starting, ready):
        store.insert_session(s)
    assert recover(store) == (2, 0)
    for s in (starting, ready):
        loaded = store.get_session(s.id)
        assert loaded is not None
        assert (loaded.status, loaded.closed_at, loaded.last_error) == (
            SessionStatus.CLOSED,
            NOW,
            MESSAGE,
        )
        assert loaded.created_at == s.created_at


def test_an_existing_closed_at_of_a_live_session_is_kept(store: Store, template: Template) -> None:
    s = f.session(template.id, status=SessionStatus.READY, closed_at=f.at(7))
    store.insert_session(s)
    recover(store)
    loaded = store.get_session(s.id)
    assert loaded is not None and loaded.closed_at == f.at(7)
    assert loaded.status is SessionStatus.CLOSED


def test_crashed_and_closed_sessions_are_untouched(store: Store, template: Template) -> None:
    crashed = f.session(template.id, status=SessionStatus.CRASHED, last_error="runtime wedged")
    closed = f.session(
        template.id, status=SessionStatus.CLOSED, closed_at=f.at(3), last_error="closed by user"
    )
    for s in (crashed, closed):
        store.insert_session(s)
    assert recover(store) == (0, 0)
    assert store.get_session(crashed.id) == crashed
    assert store.get_session(closed.id) == closed


def test_running_executions_end_in_error_with_a_system_event_after_the_last_seq(
    store: Store, template: Template
) -> None:
    s = f.session(template.id)
    store.insert_session(s)
    with_events, without_events = f.execution(s.id), f.execution(s.id, started=1)
    store.submit(InsertExecution(with_events))
    store.submit(InsertExecution(without_events))
    store.submit(InsertEvents([f.event(with_events.id, seq) for seq in (1, 2, 3)]))
    store.flush()
    assert recover(store) == (1, 2)
    for e, seq in ((with_events, 4), (without_events, 1)):
        loaded = store.get_execution(e.id)
        assert loaded is not None
        assert (loaded.status, loaded.ended_at, loaded.error) == (
            ExecutionStatus.ERROR,
            NOW,
            ERROR,
        )
        assert (loaded.result, loaded.input) == (e.result, e.input)
        last = store.list_events(e.id)[-1]
        assert (last.seq, last.ts, last.type, last.payload) == (seq, NOW, EventType.SYSTEM, PAYLOAD)
    assert [x.seq for x in store.list_events(with_events.id)] == [1, 2, 3, 4]


def test_finished_executions_are_untouched(store: Store, template: Template) -> None:
    s = f.session(template.id, status=SessionStatus.CLOSED)
    store.insert_session(s)
    done = f.finished(f.execution(s.id))
    store.submit(InsertExecution(done))
    store.submit(InsertEvents([f.event(done.id, 1)]))
    store.flush()
    assert recover(store) == (0, 0)
    assert store.get_execution(done.id) == done
    assert [x.seq for x in store.list_events(done.id)] == [1]


def test_recovery_is_idempotent(store: Store, template: Template) -> None:
    s = f.session(template.id)
    store.insert_session(s)
    store.submit(InsertExecution(f.execution(s.id)))
    store.flush()
    assert recover(store) == (1, 1)
    assert recover(store) == (0, 0)


def test_recovery_is_one_transaction(store: Store, template: Template) -> None:
    s = f.session(template.id)
    store.insert_session(s)
    e = f.execution(s.id)
    store.submit(InsertExecution(e))
    store.flush()
    with pytest.raises(StoreError):  # the payload cannot be serialised
        store.recover(
            now=NOW,
            session_message=MESSAGE,
            execution_error=ERROR,
            system_event_payload={"bad": {1, 2}},
        )
    loaded_session, loaded_execution = store.get_session(s.id), store.get_execution(e.id)
    assert loaded_session is not None and loaded_session.status is SessionStatus.READY
    assert loaded_execution is not None and loaded_execution.status is ExecutionStatus.RUNNING
    assert store.list_events(e.id) == []
